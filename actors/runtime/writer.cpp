#include "actors/runtime/writer.h"

#include <deque>
#include <map>

#include "k8s/api/client.h"

namespace runtime {
namespace {

struct writer_state {
  writer_settings settings;
  // Per object (resource, namespace, name): the writes waiting behind the one in flight. An
  // entry exists while a write to that object is in flight.
  std::map<std::string, std::deque<std::pair<write_request, caf::strong_actor_ptr>>> busy;
  static inline const char* name = "writer";
};

using writer_pointer = writer_actor::stateful_pointer<writer_state>;

std::string object_key(const write_request& r) {
  // A create must name its object too (the body's metadata.name), or all creates of one kind in
  // a namespace would wait for each other.
  return r.resource.plural + '\0' + r.resource.group + '\0' + r.ns + '\0' + r.name;
}

void start(writer_pointer self, write_request r, caf::strong_actor_ptr reply_to) {
  auto& st = self->state;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto key = object_key(r);
  auto done = [weak, key, reply_to, id = r.id,
               transform = std::move(r.transform)](k8s::result<k8s::object_ptr> res) mutable {
    write_finished f{key, reply_to, {}};
    f.result.id = id;
    f.result.ok = res.ok();
    if (!res.ok())
      f.result.error = res.error();
    else
      f.result.object = transform && res.value() ? transform(res.value()) : res.value();
    if (auto strong = weak.lock()) {
      caf::anon_send(caf::actor_cast<writer_actor>(strong), std::move(f));
    } else if (reply_to) {
      // The writer is gone (its supervisor reports what it had in flight); answer anyway.
      caf::anon_send(caf::actor_cast<write_result_sink>(reply_to), std::move(f.result));
    }
  };
  if (!st.settings.client) {
    done(k8s::transport_error(
        k8s::error_kind::unreachable,
        "cluster " + st.settings.cluster + " is not configured: " + st.settings.connect_error));
    return;
  }
  auto& client = *st.settings.client;
  switch (r.what) {
    case write_request::verb::create: {
      k8s::write_options o;
      o.field_manager = r.field_manager;
      client.create(r.resource, r.ns, std::move(r.body), o, std::move(done));
      break;
    }
    case write_request::verb::update: {
      k8s::write_options o;
      o.field_manager = r.field_manager;
      client.replace(r.resource, r.ns, r.name, std::move(r.body), o, std::move(done),
                     r.subresource);
      break;
    }
    case write_request::verb::patch: {
      k8s::write_options o;
      o.field_manager = r.field_manager;
      client.patch(r.resource, r.ns, r.name, k8s::patch_kind::merge, std::move(r.body), o,
                   std::move(done), r.subresource);
      break;
    }
    case write_request::verb::remove: {
      k8s::delete_options o;
      o.propagation = "Background";
      o.precondition_uid = r.precondition_uid;
      client.remove(r.resource, r.ns, r.name, o, std::move(done));
      break;
    }
  }
}

writer_actor::behavior_type writer(writer_pointer self, writer_settings s) {
  self->state.settings = std::move(s);
  return {
      [=](write_request& r) {
        auto reply_to = self->current_sender();
        auto [it, idle] = self->state.busy.try_emplace(object_key(r));
        if (!idle) {
          it->second.emplace_back(std::move(r), std::move(reply_to));
          return;
        }
        start(self, std::move(r), std::move(reply_to));
      },
      [=](write_finished& f) {
        if (f.reply_to)
          self->send(caf::actor_cast<write_result_sink>(f.reply_to), std::move(f.result));
        auto it = self->state.busy.find(f.object_key);
        if (it == self->state.busy.end()) return;
        if (it->second.empty()) {
          self->state.busy.erase(it);
          return;
        }
        auto next = std::move(it->second.front());
        it->second.pop_front();
        start(self, std::move(next.first), std::move(next.second));
      },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

writer_actor spawn_writer(caf::actor_system& sys, writer_settings s) {
  return sys.spawn(writer, std::move(s));
}

}  // namespace runtime
