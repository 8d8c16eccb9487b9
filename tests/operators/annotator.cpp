// annotator: a test operator on the runtime host that is not multi-casskop, to prove the host
// is generic. Its one controller watches the ConfigMaps of the namespace in the local cluster
// and gives each the annotation `annotate.key: annotate.value` from its configuration; a reload
// with another value re-annotates them all. Leader election, reload, probes, metrics, the
// token file and the credentials are the host's.
//
//   annotator --config FILE      (the host's keys, and annotate: {key, value})
//   annotator --version
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>

#include <caf/all.hpp>

#include "actors/runtime/host.h"
#include "actors/runtime/version.h"
#include "k8s/api/openssl_lifetime.h"
#include "k8s/base/log.h"
#include "k8s/watch/watcher.h"

namespace {
namespace js = k8s::json;

struct annotator_config : runtime::host_config {
  annotator_config() { lease_name = "annotator"; }
  std::string key = "annotator.test/seen";
  std::string value = "yes";
};

annotator_config load(const std::string& path) {
  runtime::config_reader r("config " + path);
  const YAML::Node root = r.root(runtime::read_config_file(path));
  std::set<std::string> keys = runtime::host_config_keys();
  keys.insert("annotate");
  r.only(root, "config", keys);
  annotator_config c;
  c.origin = "config " + path;
  runtime::parse_host_config(root, r, c);
  if (const YAML::Node a = root["annotate"]) {
    r.only(a, "annotate", {"key", "value"});
    c.key = r.str(a, "key", "annotate", c.key);
    c.value = r.str(a, "value", "annotate", c.value);
  }
  runtime::validate_host_config(c, r);
  return c;
}

const k8s::resource configmaps{"", "v1", "configmaps", "ConfigMap", true};

using seen_atom = caf::atom_constant<caf::atom("seen")>;      // (name, annotation value)
using set_atom = caf::atom_constant<caf::atom("set")>;        // (key, value): a reload
using synced_atom = caf::atom_constant<caf::atom("synced")>;  // (bool)
using ready_atom = caf::atom_constant<caf::atom("ready")>;    // -> bool
using count_atom = caf::atom_constant<caf::atom("count")>;    // -> patches sent

struct annotator_state {
  std::shared_ptr<k8s::client> client;
  std::shared_ptr<k8s::watcher> watch;
  std::string ns, key, value;
  bool synced = false;
  uint64_t patches = 0;
  static inline const char* name = "annotator";
};
using annotator_actor = caf::stateful_actor<annotator_state>;

std::string annotation_of(const js::Value& cm, const std::string& key) {
  const js::Value* a = js::find_path(cm, {"metadata", "annotations"});
  if (!a || !a->IsObject()) return "";
  auto it = a->FindMember(key.c_str());
  return it != a->MemberEnd() && it->value.IsString() ? std::string(js::view(it->value)) : "";
}

void annotate(annotator_actor* self, const std::string& name, const std::string& current) {
  auto& st = self->state;
  if (current == st.value) return;
  js::Document patch(rapidjson::kObjectType);
  auto& a = patch.GetAllocator();
  js::Value annotations(rapidjson::kObjectType);
  annotations.AddMember(js::string_value(st.key, a), js::string_value(st.value, a), a);
  js::Value metadata(rapidjson::kObjectType);
  metadata.AddMember("annotations", annotations, a);
  patch.AddMember("metadata", metadata, a);
  ++st.patches;
  st.client->patch(
      configmaps, st.ns, name, k8s::patch_kind::merge, js::to_string(patch), {},
      [name, value = st.value](k8s::result<k8s::object_ptr> r) {
        if (r)
          k8s::log::info("Annotated ConfigMap", {{"configmap", name}, {"value", value}});
        else
          k8s::log::warn("Cannot annotate ConfigMap",
                         {{"configmap", name}, {"error", r.error().describe()}});
      });
}

caf::behavior annotator(annotator_actor* self, std::shared_ptr<k8s::client> client,
                        std::shared_ptr<k8s::timer_service> timers, annotator_config c) {
  auto& st = self->state;
  st.client = client;
  st.ns = c.namespace_name;
  st.key = c.key;
  st.value = c.value;
  k8s::watcher_options o;
  o.what = configmaps;
  o.namespace_name = st.ns;
  auto me = caf::actor_cast<caf::actor>(self);
  auto handle = std::make_shared<caf::actor>(me);
  st.watch = k8s::watcher::create(
      client, timers, o,
      [handle, key = c.key](const k8s::watch_change& ch, const k8s::store_delta&) {
        if (!ch.object) return;
        if (ch.what != k8s::watch_change::kind::init_object &&
            ch.what != k8s::watch_change::kind::applied)
          return;
        caf::anon_send(*handle, seen_atom::value,
                       std::string(js::get_string(*ch.object, {"metadata", "name"})),
                       annotation_of(*ch.object, key));
      },
      [handle](const k8s::watcher_status& s) {
        caf::anon_send(*handle, synced_atom::value, s.synced);
      });
  st.watch->start();
  self->attach_functor([w = st.watch] { w->stop(); });
  return {
      [=](seen_atom, const std::string& name, const std::string& current) {
        annotate(self, name, current);
      },
      [=](synced_atom, bool synced) { self->state.synced = synced; },
      [=](set_atom, const std::string& key, const std::string& value) {
        self->state.key = key;
        self->state.value = value;
        k8s::log::info("Annotator reconfigured", {{"key", key}, {"value", value}});
        for (const auto& cm : self->state.watch->objects())
          annotate(self, std::string(js::get_string(*cm, {"metadata", "name"})),
                   annotation_of(*cm, key));
      },
      [=](ready_atom) { return self->state.synced; },
      [=](count_atom) { return self->state.patches; },
  };
}

class annotator_controller : public runtime::controller {
 public:
  std::string name() const override { return "annotator"; }
  caf::actor start(const runtime::controller_context& ctx,
                   const runtime::host_config& config) override {
    system_ = &ctx.system;
    const auto& c = dynamic_cast<const annotator_config&>(config);
    return ctx.system.spawn(annotator, ctx.registry->client(c.clusters.front().name),
                            ctx.registry->timers(), c);
  }
  void reload(const caf::actor& root, const runtime::host_config& config) override {
    const auto& c = dynamic_cast<const annotator_config&>(config);
    caf::anon_send(root, set_atom::value, c.key, c.value);
  }
  std::string not_ready(const caf::actor& root) override {
    caf::scoped_actor self{*system_};
    bool ready = false;
    self->request(root, std::chrono::seconds(2), ready_atom::value)
        .receive([&](bool r) { ready = r; }, [&](caf::error&) {});
    return ready ? "" : "the ConfigMaps are not listed yet";
  }
  bool serves(const std::string& path) const override { return path == "/annotator"; }
  runtime::admin_reply route(const caf::actor& root, const std::string&) override {
    caf::scoped_actor self{*system_};
    runtime::admin_reply out{503, R"({"error":"not answering"})"};
    self->request(root, std::chrono::seconds(2), count_atom::value)
        .receive(
            [&](uint64_t n) {
              out = {200, R"({"patches":)" + std::to_string(n) + "}"};
            },
            [&](caf::error&) {});
    return out;
  }

 private:
  caf::actor_system* system_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
  k8s::openssl::keep_until_exit();
  const std::string first = argc >= 2 ? argv[1] : "";
  if (first == "--version") {
    std::cout << "annotator " << OPERATOR_VERSION << "\n";
    return 0;
  }
  if (argc != 3 || first != "--config") {
    std::cerr << "usage: annotator --config FILE | --version\n";
    return 2;
  }
  annotator_config config;
  try {
    config = load(argv[2]);
  } catch (const std::exception& e) {
    std::cerr << "annotator: " << e.what() << "\n";
    return 2;
  }
  runtime::apply_logging(config);
  runtime::host_options ho;
  ho.program = "annotator";
  ho.version = OPERATOR_VERSION;
  ho.config_file = argv[2];
  ho.load = [](const std::string& path) -> std::shared_ptr<runtime::host_config> {
    return std::make_shared<annotator_config>(load(path));
  };
  ho.config_json = [](const runtime::host_config& c) {
    js::Document d(rapidjson::kObjectType);
    runtime::add_host_config_json(c, d);
    return js::to_string(d);
  };
  runtime::host host(std::move(ho), std::make_shared<annotator_config>(config));
  host.add(std::make_unique<annotator_controller>());
  const int rc = host.run();
  std::fflush(nullptr);
  std::_Exit(rc);
}
