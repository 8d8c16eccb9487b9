#!/usr/bin/env bash
# The README's main command: installs what it needs, builds, then runs Multi-CassKop against
# two simulated regions (kubesim with its CassKop stand-in), applies the sample MultiCasskop of
# the original documentation and shows the rollout as it happens. It ends by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target kubesim multi-casskop

work=$(mktemp -d /tmp/multi-casskop-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export KUBECACHEDIR="$work/kubectl-cache"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }

say "1. Two regions: kubesim serves k8s-cluster1 and k8s-cluster2, each with a CassKop v2.1.0 stand-in (racks up in 3 s, its own pace 10x faster)"
./build/tools/kubesim/kubesim --state-dir "$work/state" --cluster k8s-cluster1 --cluster k8s-cluster2 \
  --simulate-casskop --casskop-delay-ms 3000 --casskop-time-scale 0.1 >"$work/kubesim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^kubesim ready$' "$work/kubesim.log" && break; sleep 0.1; done
grep -q '^kubesim ready$' "$work/kubesim.log" || { cat "$work/kubesim.log"; exit 1; }
k() { kubectl --kubeconfig "$work/state/$1/kubeconfig" "${@:2}"; }
for c in k8s-cluster1 k8s-cluster2; do
  k "$c" apply -f deploy/crds/ >/dev/null
  k "$c" wait --for=condition=Established crd --all --timeout=20s >/dev/null
  k "$c" apply -f - >/dev/null <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"cassandra-e2e"}}'
  echo "   $c: CRDs installed, namespace cassandra-e2e created"
done

say "2. multi-casskop runs in k8s-cluster1 and reaches k8s-cluster2 through its exported service-account secret"
cat >"$work/config.yaml" <<YAML
namespace: cassandra-e2e
clusters:
  - name: k8s-cluster1                       # local: where MultiCasskops live
    kubeconfig: $work/state/k8s-cluster1/kubeconfig
  - name: k8s-cluster2                       # remote: a kubemcsa export
    secretDir: $work/state/k8s-cluster2/serviceaccount
YAML
sed 's/^/   /' "$work/config.yaml"
./build/actors/multi-casskop --config "$work/config.yaml" 2>"$work/operator.log" &
pids+=($!)

say "3. kubectl apply -f deploy/samples/multi-casskop.yaml (the sample of the original README); the rollout, live:"
for c in k8s-cluster1 k8s-cluster2; do
  (k "$c" -n cassandra-e2e get cassandraclusters -w --no-headers 2>/dev/null | sed -u "s/^/   [$c] CassandraCluster /") &
  pids+=($!)
done
start=$(date +%s)
k k8s-cluster1 apply -f deploy/samples/multi-casskop.yaml | sed 's/^/   /'
ready=""
for _ in $(seq 600); do
  ready=$(k k8s-cluster1 -n cassandra-e2e get mcc multi-casskop-e2e \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  [ "$ready" = "True" ] && break
  sleep 0.1
done
sleep 0.3
say "4. What multi-casskop did (its log, logfmt):"
grep -E 'Create|Running|Update|reachable' "$work/operator.log" | sed 's/^/   /'

say "5. Summary after $(( $(date +%s) - start )) s"
k k8s-cluster1 -n cassandra-e2e get mcc -o wide | sed 's/^/   /'
for c in k8s-cluster1 k8s-cluster2; do
  echo "   [$c]"
  k "$c" -n cassandra-e2e get cassandraclusters | sed 's/^/     /'
  echo "     seed list: $(k "$c" -n cassandra-e2e get cassandracluster cassandra-e2e -o jsonpath='{.status.seedlist}')"
done
k k8s-cluster1 -n cassandra-e2e get mcc multi-casskop-e2e \
  -o jsonpath='{range .status.regions[*]}   region {.name}: {.phase}{"\n"}{end}'
if [ "$ready" = "True" ]; then
  say "Done: both regions Running, created one after the other. (kubesim and multi-casskop stopped)"
else
  say "The MultiCasskop did not become Ready; operator log: $work/operator.log"
  exit 1
fi
