#include "actors/deployer.h"

#include <unistd.h>

#include "actors/multicasskop/resources.h"
#include "k8s/client.h"
#include "k8s/log.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;

namespace {

constexpr const char* field_manager = "multi-casskop";

std::string event_object(const record_event& e) {
  js::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  auto now = [] {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  }();
  static const std::string host = [] {
    char buf[256] = {0};
    gethostname(buf, sizeof buf - 1);
    return std::string(buf);
  }();
  d.AddMember("apiVersion", "v1", a);
  d.AddMember("kind", "Event", a);
  js::Value meta(rapidjson::kObjectType);
  meta.AddMember("generateName", js::string_value(e.key.name + ".", a), a);
  meta.AddMember("namespace", js::string_value(e.key.ns, a), a);
  d.AddMember("metadata", meta, a);
  js::Value involved(rapidjson::kObjectType);
  involved.AddMember("apiVersion", "db.orange.com/v2", a);
  involved.AddMember("kind", "MultiCasskop", a);
  involved.AddMember("name", js::string_value(e.key.name, a), a);
  involved.AddMember("namespace", js::string_value(e.key.ns, a), a);
  if (!e.uid.empty()) involved.AddMember("uid", js::string_value(e.uid, a), a);
  d.AddMember("involvedObject", involved, a);
  d.AddMember("reason", js::string_value(e.reason, a), a);
  d.AddMember("message", js::string_value(e.message, a), a);
  d.AddMember("type", js::string_value(e.type, a), a);
  js::Value source(rapidjson::kObjectType);
  source.AddMember("component", "multi-casskop", a);
  d.AddMember("source", source, a);
  d.AddMember("reportingComponent", "multi-casskop", a);
  d.AddMember("reportingInstance", js::string_value(host, a), a);
  d.AddMember("firstTimestamp", js::string_value(now, a), a);
  d.AddMember("lastTimestamp", js::string_value(now, a), a);
  d.AddMember("count", 1, a);
  return js::to_string(d);
}

struct deployer_state {
  deployer_settings settings;
  caf::actor supervisor;
  static inline const char* name = "deployer";
};

using deployer_actor = caf::stateful_actor<deployer_state>;

// The callback every write ends in: the result goes to the supervisor as an event.
k8s::callback<k8s::object_ptr> report_to(caf::actor supervisor, uint64_t id) {
  return [supervisor, id](k8s::result<k8s::object_ptr> r) {
    write_done w;
    w.command_id = id;
    w.ok = r.ok();
    if (r.ok())
      w.object = r.value();
    else
      w.error = r.error();
    caf::anon_send(supervisor, event_atom::value, event_body{std::move(w)});
  };
}

void execute(deployer_actor* self, const command& c) {
  auto& st = self->state;
  auto& client = st.settings.client;
  const auto& cluster = st.settings.cluster;
  auto fail_now = [&](uint64_t id) {
    report_to(st.supervisor, id)(k8s::transport_error(
        k8s::error_kind::unreachable, "cluster " + cluster + " is not configured: " + st.settings.connect_error));
  };
  std::visit(
      [&](const auto& cmd) {
        using T = std::decay_t<decltype(cmd)>;
        if constexpr (std::is_same_v<T, create_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->create(cassandraclusters, std::string(js::get_string(*cmd.object, {"metadata", "namespace"})),
                         js::to_string(*cmd.object), o, report_to(st.supervisor, cmd.id));
        } else if constexpr (std::is_same_v<T, patch_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->patch(cassandraclusters, cmd.ns, cmd.name, k8s::patch_kind::merge, cmd.merge_patch, o,
                        report_to(st.supervisor, cmd.id), cmd.status ? "status" : "");
        } else if constexpr (std::is_same_v<T, delete_cassandracluster>) {
          if (!client) return fail_now(cmd.id);
          k8s::delete_options o;
          o.propagation = "Background";
          o.precondition_uid = cmd.uid;
          client->remove(cassandraclusters, cmd.ns, cmd.name, o, report_to(st.supervisor, cmd.id));
        } else if constexpr (std::is_same_v<T, patch_multicasskop>) {
          if (!client) return fail_now(cmd.id);
          k8s::write_options o;
          o.field_manager = field_manager;
          client->patch(multicasskops, cmd.key.ns, cmd.key.name, k8s::patch_kind::merge, cmd.merge_patch, o,
                        report_to(st.supervisor, cmd.id), cmd.status ? "status" : "");
        } else if constexpr (std::is_same_v<T, record_event>) {
          if (!client) return;
          client->create(core_events, cmd.key.ns, event_object(cmd), {}, [key = cmd.key](k8s::result<k8s::object_ptr> r) {
            if (!r.ok())
              k8s::log::warn("Cannot record Event", {{"multicasskop", key.str()}, {"error", r.error().describe()}});
          });
        }
      },
      c);
}

caf::behavior deployer(deployer_actor* self, deployer_settings s, caf::actor supervisor) {
  self->state.settings = std::move(s);
  self->state.supervisor = std::move(supervisor);
  return {
      [=](command_atom, const command& c) { execute(self, c); },
      [=](stop_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_deployer(caf::actor_system& sys, deployer_settings s, caf::actor supervisor) {
  return sys.spawn(deployer, std::move(s), std::move(supervisor));
}

}  // namespace mc
