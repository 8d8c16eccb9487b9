#include "actors/casskop/logic/names.h"

namespace casskop {

std::string dc_rack_name(const std::string& dc, const std::string& rack) {
  return dc + "-" + rack;
}

std::string statefulset_name(const std::string& cc, const std::string& dc,
                             const std::string& rack) {
  return cc + "-" + dc_rack_name(dc, rack);
}

std::string pod_name(const std::string& statefulset, int ordinal) {
  return statefulset + "-" + std::to_string(ordinal);
}

std::string pod_fqdn(const std::string& pod, const std::string& cc, const std::string& ns) {
  return pod + "." + cc + "." + ns;
}

std::string data_pvc_name(const std::string& pod) {
  return "data-" + pod;
}

std::string storage_pvc_name(const std::string& storage, const std::string& pod) {
  return storage + "-" + pod;
}

std::string headless_service_name(const std::string& cc) {
  return cc;
}
std::string jmx_exporter_service_name(const std::string& cc) {
  return cc + "-exporter-jmx";
}
std::string dc_service_name(const std::string& cc, const std::string& dc) {
  return cc + "-" + dc;
}
std::string dc_jmx_exporter_service_name(const std::string& cc, const std::string& dc) {
  return dc_service_name(cc, dc) + "-exporter-jmx";
}
std::string rack_service_name(const std::string& cc, const std::string& dc,
                              const std::string& rack) {
  return statefulset_name(cc, dc, rack);
}
std::string pdb_name(const std::string& cc) {
  return cc;
}

label_map labels_for_cluster(const std::string& cc, const label_map& cc_labels) {
  label_map m = cc_labels;
  m["app"] = "cassandracluster";
  m[cluster_label] = cc;
  return m;
}

label_map labels_for_dc(const std::string& cc, const std::string& dc, const label_map& cc_labels) {
  label_map m = labels_for_cluster(cc, cc_labels);
  if (!dc.empty()) m[dc_label] = dc;
  return m;
}

label_map labels_for_dc_rack(const std::string& cc, const std::string& dc, const std::string& rack,
                             const label_map& cc_labels) {
  label_map m = labels_for_cluster(cc, cc_labels);
  m[dc_rack_label] = dc_rack_name(dc, rack);
  m[dc_label] = dc;
  m[rack_label] = rack;
  return m;
}

}  // namespace casskop
