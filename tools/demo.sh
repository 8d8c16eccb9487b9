#!/usr/bin/env bash
# The README's main command. For now it shows kubesim: two simulated clusters (regions) that
# the real kubectl uses unchanged. It installs what it needs, builds, runs and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target kubesim

state=$(mktemp -d /tmp/kubesim-demo.XXXXXX)
log="$state/kubesim.log"
./build/tools/kubesim/kubesim --state-dir "$state" --cluster k8s-cluster1 --cluster k8s-cluster2 \
  --simulate-workloads --pod-ready-delay-ms 300 >"$log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$state"' EXIT
for _ in $(seq 100); do grep -q '^kubesim ready$' "$log" && break; sleep 0.1; done
grep -q '^kubesim ready$' "$log" || { cat "$log"; exit 1; }
export KUBECACHEDIR="$state/kubectl-cache"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
k1=(kubectl --kubeconfig "$state/k8s-cluster1/kubeconfig")
k2=(kubectl --kubeconfig "$state/k8s-cluster2/kubeconfig")

sed -n '/^cluster\|^control/p' "$log"
step "${k1[@]}" version
step "${k1[@]}" apply -f deploy/crds/db.orange.com_cassandraclusters.yaml
step "${k1[@]}" wait --for=condition=Established crd/cassandraclusters.db.orange.com --timeout=10s
step "${k1[@]}" apply -f deploy/samples/cassandracluster.yaml
step "${k1[@]}" get cassandraclusters
step "${k1[@]}" patch cassandracluster cassandra-demo --subresource=status --type merge \
  -p '{"status":{"phase":"Running","lastClusterAction":"Initializing","lastClusterActionStatus":"Done"}}'
step "${k1[@]}" get cassandraclusters
echo; echo "# the second region is another API server with its own objects:"
step "${k2[@]}" get namespaces
step "${k2[@]}" get cassandraclusters.db.orange.com || true
echo; echo "# with --simulate-workloads, StatefulSets get pods and PVCs as in a real cluster:"
step "${k2[@]}" apply -f - <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: demo-dc2-rack1, namespace: default}
spec:
  replicas: 2
  serviceName: demo
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec: {containers: [{name: cassandra, image: cassandra:3.11.10}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
step "${k2[@]}" rollout status statefulset/demo-dc2-rack1 --timeout=30s
step "${k2[@]}" get statefulsets,pods,pvc
echo; echo "demo finished: kubesim stopped"
