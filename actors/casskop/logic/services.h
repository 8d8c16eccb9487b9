// The Services of a CassandraCluster.
// As v2.1.0 creates them (generator.go:80, 116; deploy_cassandra.go:46, 58), created once and
// never updated, so their selectors never change:
//  - `<cc>`: headless, port 9042 (cql), publishNotReadyAddresses, spec.service.annotations;
//    the StatefulSets' serviceName, so every pod and seed resolves as <pod>.<cc>.<ns>;
//  - `<cc>-exporter-jmx`: headless, port 9500 (promjmx), label k8s-app=exporter-cassandra-jmx.
// Both select app=cassandracluster, cassandracluster=<cc> and the CC's own labels.
// What the seed adds (casskop-architecture.txt), selecting on our labels only:
//  - per DC `<cc>-<dc>`: headless, port 9042, the DC's ready pods (the clients' entry point);
//  - per DC `<cc>-<dc>-exporter-jmx`: headless, port 9500, the DC's pods;
//  - per dc-rack `<cc>-<dc>-<rack>`: headless, port 9042, publishNotReadyAddresses (seed
//    discovery), the rack's pods.
#pragma once

#include <vector>

#include "actors/casskop/logic/cluster_spec.h"
#include "k8s/json/json.h"

namespace casskop {

k8s::json::Document headless_service(const parsed_cluster& cc);
k8s::json::Document jmx_exporter_service(const parsed_cluster& cc);
k8s::json::Document dc_service(const parsed_cluster& cc, const std::string& dc);
k8s::json::Document dc_jmx_exporter_service(const parsed_cluster& cc, const std::string& dc);
k8s::json::Document rack_service(const parsed_cluster& cc, const dc_rack& rack);

// Every Service of the cluster: the two of v2.1.0, then per DC in spec order its two and one
// per rack.
std::vector<k8s::json::Document> all_services(const parsed_cluster& cc);

}  // namespace casskop
