// Names and labels of the objects casskop writes for one CassandraCluster, as CassKop v2.1.0
// spells them (pkg/k8s/util.go, api/v2 GetDCRackName, generator.go), plus the per-DC and
// per-rack Services the seed adds. Labels double as selectors: they are fixed at creation.
#pragma once

#include <map>
#include <string>

namespace casskop {

using label_map = std::map<std::string, std::string>;

std::string dc_rack_name(const std::string& dc, const std::string& rack);  // "<dc>-<rack>"
std::string statefulset_name(const std::string& cc, const std::string& dc, const std::string& rack);
std::string pod_name(const std::string& statefulset, int ordinal);  // "<sts>-<n>"
// "<pod>.<cc>.<ns>": resolves through the headless Service <cc> (v2.1.0's serviceName).
std::string pod_fqdn(const std::string& pod, const std::string& cc, const std::string& ns);
std::string data_pvc_name(const std::string& pod);  // "data-<pod>"
std::string storage_pvc_name(const std::string& storage, const std::string& pod);

std::string headless_service_name(const std::string& cc);                   // "<cc>"
std::string jmx_exporter_service_name(const std::string& cc);               // "<cc>-exporter-jmx"
std::string dc_service_name(const std::string& cc, const std::string& dc);  // "<cc>-<dc>"
std::string dc_jmx_exporter_service_name(const std::string& cc, const std::string& dc);
std::string rack_service_name(const std::string& cc, const std::string& dc,
                              const std::string& rack);
std::string pdb_name(const std::string& cc);  // "<cc>"

// v2.1.0 LabelsForCassandra / LabelsForCassandraDC / LabelsForCassandraDCRack: the CC's own
// metadata labels first, ours over them.
label_map labels_for_cluster(const std::string& cc, const label_map& cc_labels);
label_map labels_for_dc(const std::string& cc, const std::string& dc, const label_map& cc_labels);
label_map labels_for_dc_rack(const std::string& cc, const std::string& dc, const std::string& rack,
                             const label_map& cc_labels);

inline constexpr const char* dc_label = "cassandraclusters.db.orange.com.dc";
inline constexpr const char* rack_label = "cassandraclusters.db.orange.com.rack";
inline constexpr const char* dc_rack_label = "dc-rack";
inline constexpr const char* cluster_label = "cassandracluster";

}  // namespace casskop
