#include "actors/casskop/logic/services.h"

#include <set>

#include "actors/casskop/logic/json_build.h"
#include "actors/casskop/logic/names.h"
#include "actors/casskop/logic/statefulset.h"

namespace casskop {

namespace js = k8s::json;
using js::Allocator;
using js::Value;

namespace {

struct service_shape {
  std::string name;
  label_map labels, selector;
  std::map<std::string, std::string> annotations;
  const char* port_name;
  int port;
  bool publish_not_ready;
};

js::Document make(const parsed_cluster& cc, const service_shape& s) {
  js::Document d;
  d.SetObject();
  Allocator& a = d.GetAllocator();
  jb::add_str(d, "kind", "Service", a);
  jb::add_str(d, "apiVersion", "v1", a);
  Value meta = jb::object();
  jb::add_str(meta, "name", s.name, a);
  jb::add_str(meta, "namespace", cc.namespace_, a);
  jb::add(meta, "labels", jb::string_map(s.labels, a), a);
  if (!s.annotations.empty()) jb::add(meta, "annotations", jb::string_map(s.annotations, a), a);
  Value owners = jb::array();
  owners.PushBack(owner_reference(cc, a), a);
  jb::add(meta, "ownerReferences", std::move(owners), a);
  jb::add(d, "metadata", std::move(meta), a);
  Value port = jb::object();
  jb::add_str(port, "name", s.port_name, a);
  jb::add_str(port, "protocol", "TCP", a);
  jb::add_int(port, "port", s.port, a);
  Value ports = jb::array();
  ports.PushBack(port, a);
  Value spec = jb::object();
  jb::add(spec, "ports", std::move(ports), a);
  jb::add(spec, "selector", jb::string_map(s.selector, a), a);
  jb::add_str(spec, "clusterIP", "None", a);
  jb::add_str(spec, "type", "ClusterIP", a);
  if (s.publish_not_ready) jb::add_bool(spec, "publishNotReadyAddresses", true, a);
  jb::add(d, "spec", std::move(spec), a);
  return d;
}

// Our own labels only: the CC's metadata labels may change, a selector must not.
label_map own_dc_labels(const std::string& cc, const std::string& dc) {
  return labels_for_dc(cc, dc, {});
}

}  // namespace

js::Document headless_service(const parsed_cluster& cc) {
  label_map labels = labels_for_cluster(cc.name, cc.labels);
  return make(cc, {headless_service_name(cc.name), labels, labels, cc.spec.service_annotations,
                   "cql", 9042, true});
}

js::Document jmx_exporter_service(const parsed_cluster& cc) {
  label_map selector = labels_for_cluster(cc.name, cc.labels);
  label_map labels = selector;
  labels["k8s-app"] = "exporter-cassandra-jmx";  // generator.go:121
  return make(cc,
              {jmx_exporter_service_name(cc.name), labels, selector, {}, "promjmx", 9500, false});
}

js::Document dc_service(const parsed_cluster& cc, const std::string& dc) {
  label_map selector = own_dc_labels(cc.name, dc);
  return make(cc, {dc_service_name(cc.name, dc),
                   labels_for_dc(cc.name, dc, cc.labels),
                   selector,
                   {},
                   "cql",
                   9042,
                   false});
}

js::Document dc_jmx_exporter_service(const parsed_cluster& cc, const std::string& dc) {
  label_map selector = own_dc_labels(cc.name, dc);
  label_map labels = labels_for_dc(cc.name, dc, cc.labels);
  labels["k8s-app"] = "exporter-cassandra-jmx";
  return make(
      cc,
      {dc_jmx_exporter_service_name(cc.name, dc), labels, selector, {}, "promjmx", 9500, false});
}

js::Document rack_service(const parsed_cluster& cc, const dc_rack& rack) {
  label_map selector = labels_for_dc_rack(cc.name, rack.dc, rack.rack, {});
  return make(cc, {rack_service_name(cc.name, rack.dc, rack.rack),
                   labels_for_dc_rack(cc.name, rack.dc, rack.rack, cc.labels),
                   selector,
                   {},
                   "cql",
                   9042,
                   true});
}

std::vector<js::Document> all_services(const parsed_cluster& cc) {
  std::vector<js::Document> out;
  out.push_back(headless_service(cc));
  out.push_back(jmx_exporter_service(cc));
  std::vector<dc_rack> racks;
  if (cc.spec.dcs.empty()) {
    racks.push_back({"dc1", "rack1", 0, 0});
  } else {
    for (size_t d = 0; d < cc.spec.dcs.size(); ++d) {
      const dc_spec& dc = cc.spec.dcs[d];
      if (dc.racks.empty()) racks.push_back({dc.name, "rack1", d, 0});
      for (size_t r = 0; r < dc.racks.size(); ++r)
        racks.push_back({dc.name, dc.racks[r].name, d, r});
    }
  }
  std::set<std::string> dcs_done;
  for (const auto& r : racks) {
    if (dcs_done.insert(r.dc).second) {
      out.push_back(dc_service(cc, r.dc));
      out.push_back(dc_jmx_exporter_service(cc, r.dc));
    }
    out.push_back(rack_service(cc, r));
  }
  return out;
}

}  // namespace casskop
