// The objects of a simulated Cassandra rack for kubesim tests (--simulate-cassandra): the
// headless Service and a StatefulSet as casskop's generator makes them, with their pod and seed
// names. Shared by cassandra_nodes_test.cpp and pod_exec_test.cpp.
#pragma once

#include <string>

namespace testsupport {

inline constexpr const char* kCc = "cassandra-demo";

// The headless Service casskop makes (`<cc>`, publishNotReadyAddresses), with the external-DNS
// annotation the seed's setup puts on it when `zone` is set.
inline std::string service_yaml(const std::string& zone) {
  std::string annotations =
      zone.empty()
          ? ""
          : "  annotations:\n    external-dns.alpha.kubernetes.io/hostname: " + zone + "\n";
  return std::string(R"(apiVersion: v1
kind: Service
metadata:
  name: cassandra-demo
  namespace: default
)") + annotations +
         R"(spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    app: cassandracluster
  ports:
  - name: cql
    port: 9042
---
)";
}

// A StatefulSet `<cc>-<dc>-rack1` with what casskop's generator sets for the node
// (tests/fixtures/casskop-v2.1.0/generated/cc-local/statefulset-dc1-rack1.yaml): the bootstrap
// init container's env (seeds, DC and rack as fieldRefs to the pod labels), the `cassandra`
// container with Jolokia credentials from a Secret and the readiness probe (faster here).
// With `liveness`, the same script as a livenessProbe (PR #234's symlink), failing after two tries.
inline std::string statefulset_yaml(const std::string& dc, const std::string& seeds, int replicas,
                                    bool liveness = false) {
  std::string name = std::string(kCc) + "-" + dc + "-rack1";
  return R"(apiVersion: v1
kind: Secret
metadata:
  name: jolokia-auth
  namespace: default
stringData:
  username: monitor
  password: s3cret
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: )" +
         name + R"(
  namespace: default
spec:
  replicas: )" +
         std::to_string(replicas) + R"(
  serviceName: cassandra-demo
  selector:
    matchLabels:
      app: cassandracluster
      cassandraclusters.db.orange.com.dc: )" +
         dc + R"(
      cassandraclusters.db.orange.com.rack: rack1
  template:
    metadata:
      labels:
        app: cassandracluster
        cassandracluster: cassandra-demo
        cassandraclusters.db.orange.com.dc: )" +
         dc + R"(
        cassandraclusters.db.orange.com.rack: rack1
    spec:
      initContainers:
      - name: bootstrap
        image: orangeopensource/cassandra-bootstrap:0.1.9
        env:
        - name: CASSANDRA_CLUSTER_NAME
          value: cassandra-demo
        - name: CASSANDRA_SEEDS
          value: )" +
         seeds + R"(
        - name: CASSANDRA_DC
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.labels['cassandraclusters.db.orange.com.dc']
        - name: CASSANDRA_RACK
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.labels['cassandraclusters.db.orange.com.rack']
        - name: POD_IP
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: status.podIP
      containers:
      - name: cassandra
        image: cassandra:3.11.10
        command: ["cassandra", "-f"]
        env:
        - name: POD_IP
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: status.podIP
        - name: JOLOKIA_USER
          valueFrom:
            secretKeyRef:
              name: jolokia-auth
              key: username
        - name: JOLOKIA_PASSWORD
          valueFrom:
            secretKeyRef:
              name: jolokia-auth
              key: password
        - name: CASSANDRA_AUTH_JOLOKIA
          value: "true"
        readinessProbe:
          exec:
            command: ["/bin/bash", "-c", "/etc/cassandra/readiness-probe.sh"]
          initialDelaySeconds: 0
          periodSeconds: 1
          timeoutSeconds: 1
)" +
         (liveness ? R"(        livenessProbe:
          exec:
            command: ["/bin/bash", "-c", "/etc/cassandra/liveness-probe.sh"]
          initialDelaySeconds: 1
          periodSeconds: 1
          timeoutSeconds: 1
          failureThreshold: 2
)"
                   : "") +
         R"(  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: ["ReadWriteOnce"]
      resources:
        requests:
          storage: 1Gi
)";
}

inline std::string pod_name(const std::string& dc, int i) {
  return std::string(kCc) + "-" + dc + "-rack1-" + std::to_string(i);
}

// `<pod>.<cc>.default` for each ordinal: the seed names casskop writes (ref §3).
inline std::string cluster_seeds(const std::string& dc, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? "," : "") + pod_name(dc, i) + "." + kCc + ".default";
  return out;
}

}  // namespace testsupport
