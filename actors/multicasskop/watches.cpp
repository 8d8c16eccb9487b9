#include "actors/multicasskop/watches.h"

#include "actors/multicasskop/logic/resources.h"
#include "k8s/json/json.h"
#include "messages/atoms.h"

namespace mc {
namespace js = k8s::json;

namespace {
// Queue keys: one per object (kind, cluster, namespace, name); '/' cannot occur in the names.
std::string cc_key(const std::string& cluster, const std::string& ns, const std::string& name) {
  return "cc/" + cluster + "/" + ns + "/" + name;
}
std::string mc_key_of(const std::string& ns, const std::string& name) {
  return "mc/" + ns + "/" + name;
}
}  // namespace

std::vector<runtime::watched_resource> watched_resources(const caf::actor& supervisor,
                                                         std::shared_ptr<change_queue> changes,
                                                         const std::string& cluster,
                                                         const std::string& namespace_name,
                                                         bool local, const cache_limits& limits,
                                                         const std::vector<event_body>& known) {
  auto trim = [limits](watched_kind kind) {
    return [kind, limits](const k8s::object_ptr& obj) { return trim_for_cache(obj, kind, limits); };
  };
  auto name_of = [](const k8s::object_ptr& obj) {
    return std::make_pair(std::string(js::get_string(*obj, {"metadata", "namespace"})),
                          std::string(js::get_string(*obj, {"metadata", "name"})));
  };
  // Changes go straight to the supervisor's queue: one hop on the hot path.
  auto queue = [supervisor, changes](std::string key, event_body b) {
    if (changes->put(key, std::move(b))) caf::anon_send(supervisor, changes_atom::value);
  };
  std::vector<runtime::watched_resource> out;
  out.push_back({cassandraclusters,
                 namespace_name,
                 trim(watched_kind::cassandracluster),
                 [queue, cluster, name_of](const k8s::store_delta& d) {
                   for (const auto& obj : d.upserted) {
                     auto [ns, name] = name_of(obj);
                     queue(cc_key(cluster, ns, name), cassandracluster_seen{cluster, obj});
                   }
                   for (const auto& obj : d.removed) {
                     auto [ns, name] = name_of(obj);
                     queue(cc_key(cluster, ns, name), cassandracluster_gone{cluster, ns, name});
                   }
                 },
                 {},
                 ""});
  for (const auto& e : known)
    if (auto* cc = std::get_if<cassandracluster_seen>(&e); cc && cc->cluster == cluster)
      out.front().known.push_back(cc->object);
  if (local)
    out.push_back({multicasskops,
                   namespace_name,
                   trim(watched_kind::multicasskop),
                   [queue, name_of](const k8s::store_delta& d) {
                     for (const auto& obj : d.upserted) {
                       auto [ns, name] = name_of(obj);
                       queue(mc_key_of(ns, name), multicasskop_seen{obj});
                     }
                     for (const auto& obj : d.removed) {
                       auto [ns, name] = name_of(obj);
                       queue(mc_key_of(ns, name), multicasskop_gone{{ns, name}});
                     }
                   },
                   {},
                   ""});
  if (local)
    for (const auto& e : known)
      if (auto* m = std::get_if<multicasskop_seen>(&e)) out.back().known.push_back(m->object);
  return out;
}

std::function<void(const runtime::cluster_health&)> health_sink(const caf::actor& supervisor) {
  return [supervisor](const runtime::cluster_health& h) {
    caf::anon_send(supervisor, event_atom::value,
                   event_body{cluster_health{h.cluster, h.reachable, h.synced, h.error, h.denied}});
  };
}

}  // namespace mc
