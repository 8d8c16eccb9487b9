#!/usr/bin/env bash
# The README's main command: installs what it needs, builds, then runs the whole chain against
# two simulated regions: kubesim (k8s-cluster1, k8s-cluster2) with its StatefulSet controller
# and kubelet stand-in (--simulate-workloads), our casskop in each region, multi-casskop over
# both. It applies the sample MultiCasskop of the original documentation, shows region 1's
# StatefulSets and pods coming up, then region 2's, and ends by itself with a summary.
#
# The pods are simulated Cassandra nodes (--simulate-cassandra: a 127.x pod IP each, Jolokia,
# readiness by the probe casskop writes, 100x faster with --probe-time-scale 0.01), and the demo
# ends as the seed does: `kubectl exec <pod> -- nodetool status` in a pod of region 1 lists the
# nodes of both regions in one ring.
#
# DEMO_STAND_IN=1 runs kubesim's CassKop v2.1.0 stand-in instead of casskop (no StatefulSets or
# pods: it only moves the CassandraClusters' status), as the multi-casskop tests do.
# DEMO_POD_READY_MS (default 1000) is how long a simulated pod that runs no Cassandra takes to
# become Ready.
set -euo pipefail
cd "$(dirname "$0")/.."
stand_in=${DEMO_STAND_IN:-0}
pod_ready_ms=${DEMO_POD_READY_MS:-1000}
bash tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
targets=(kubesim multi-casskop)
[ "$stand_in" = 1 ] || targets+=(casskop)
cmake --build build -j2 --target "${targets[@]}"

work=$(mktemp -d /tmp/multi-casskop-demo.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Operators first, then kubesim, each asked to stop (SIGTERM) and waited for.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export KUBECACHEDIR="$work/kubectl-cache"
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
k() { kubectl --kubeconfig "$work/state/$1/kubeconfig" "${@:2}"; }
ns=cassandra-e2e
regions=(k8s-cluster1 k8s-cluster2)

if [ "$stand_in" = 1 ]; then
  say "1. Two regions: kubesim serves k8s-cluster1 and k8s-cluster2, each with a CassKop v2.1.0 stand-in (racks up in 3 s, its own pace 10x faster)"
  sim_args=(--simulate-casskop --casskop-delay-ms 3000 --casskop-time-scale 0.1)
else
  say "1. Two regions: kubesim serves k8s-cluster1 and k8s-cluster2, with a StatefulSet controller and kubelet stand-in whose Cassandra pods are simulated Cassandra nodes (Ready by their readiness probe, its timings 100x faster)"
  sim_args=(--simulate-workloads --pod-ready-delay-ms "$pod_ready_ms" --simulate-cassandra --probe-time-scale 0.01)
fi
./build/tools/kubesim/kubesim --state-dir "$work/state" --cluster k8s-cluster1 --cluster k8s-cluster2 \
  "${sim_args[@]}" >"$work/kubesim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q '^kubesim ready$' "$work/kubesim.log" && break; sleep 0.1; done
grep -q '^kubesim ready$' "$work/kubesim.log" || { cat "$work/kubesim.log"; exit 1; }
for c in "${regions[@]}"; do
  k "$c" apply -f deploy/crds/ >/dev/null
  k "$c" wait --for=condition=Established crd --all --timeout=20s >/dev/null
  k "$c" apply -f - >/dev/null <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"'$ns'"}}'
  echo "   $c: CRDs installed, namespace $ns created"
done

step=2
if [ "$stand_in" != 1 ]; then
  say "$step. casskop runs in each region, watching namespace $ns there (one process per region)"
  for c in "${regions[@]}"; do
    cat >"$work/casskop-$c.yaml" <<YAML
namespace: $ns
clusters:
  - name: $c
    kubeconfig: $work/state/$c/kubeconfig
admin: {address: "127.0.0.1:0"}
YAML
    ./build/actors/casskop --config "$work/casskop-$c.yaml" 2>"$work/casskop-$c.log" &
    pids+=($!)
    echo "   $c: casskop --config casskop-$c.yaml (pid $!)"
  done
  step=3
fi

say "$step. multi-casskop runs in k8s-cluster1 and reaches k8s-cluster2 through its exported service-account secret"
cat >"$work/config.yaml" <<YAML
namespace: $ns
clusters:
  - name: k8s-cluster1                       # local: where MultiCasskops live
    kubeconfig: $work/state/k8s-cluster1/kubeconfig
  - name: k8s-cluster2                       # remote: a kubemcsa export
    secretDir: $work/state/k8s-cluster2/serviceaccount
admin: {address: "127.0.0.1:0"}
YAML
sed 's/^/   /' "$work/config.yaml"
./build/actors/multi-casskop --config "$work/config.yaml" 2>"$work/operator.log" &
pids+=($!)
step=$((step + 1))

# One line per region: its CassandraCluster, StatefulSets (ready/replicas) and pods Ready.
region_line() {
  k "$1" -n "$ns" get cassandraclusters,statefulsets,pods -o jsonpath='{range .items[*]}{.kind}|{.metadata.name}|{.status.phase}|{.status.lastClusterAction}|{.status.lastClusterActionStatus}|{.status.readyReplicas}|{.spec.replicas}|{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null |
    awk -F'|' -v cc="$2" '
      $1 == "CassandraCluster" { c = $3 == "" ? "created (no status yet)" : $3 " (" $4 " " $5 ")" }
      $1 == "StatefulSet" { n = $2; sub("^" cc "-", "", n); s = s sprintf(" %s %d/%d", n, $6, $7) }
      $1 == "Pod" { p++; if ($8 == "True") r++ }
      END {
        if (c == "") { print "no CassandraCluster yet"; exit }
        line = "CassandraCluster " c
        if (s != "") line = line " | sts" s
        if (p) line = line sprintf(" | pods %d/%d Ready", r, p)
        print line
      }'
}

say "$step. kubectl apply -f deploy/samples/multi-casskop.yaml (the sample of the original README); the rollout, live:"
k k8s-cluster1 apply -f deploy/samples/multi-casskop.yaml | sed 's/^/   /'
start=$(date +%s%N)
since() { local ms=$((($(date +%s%N) - start) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
# Region 1 is Ready: Running and Done, every pod Ready (the stand-in has no pods).
region1_ready() { [[ $1 == *"Running (Initializing Done)"* ]] && ! [[ $1 =~ pods\ ([0-9]+)/([0-9]+) && ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]]; }
declare -A last now
ready=""
early=""
seen2=""
deadline=$(($(date +%s) + 100))
while [ "$(date +%s)" -lt "$deadline" ]; do
  # Region 2 read before region 1: region 1, read later, can only look more Ready.
  now[k8s-cluster2]=$(region_line k8s-cluster2 cassandra-e2e)
  now[k8s-cluster1]=$(region_line k8s-cluster1 cassandra-e2e)
  if [ -z "$seen2" ] && [ "${now[k8s-cluster2]}" != "no CassandraCluster yet" ]; then
    seen2=1
    region1_ready "${now[k8s-cluster1]}" || early="k8s-cluster2 got its CassandraCluster while k8s-cluster1 was: ${now[k8s-cluster1]}"
  fi
  for c in "${regions[@]}"; do
    if [ "${now[$c]}" != "${last[$c]:-}" ]; then
      printf '   %6ss [%s] %s\n' "$(since)" "$c" "${now[$c]}"
      last[$c]=${now[$c]}
    fi
  done
  ready=$(k k8s-cluster1 -n "$ns" get mcc multi-casskop-e2e \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null || true)
  [ "$ready" = "True" ] && break
  sleep 0.3
done
for c in "${regions[@]}"; do  # the last word of each region
  line=$(region_line "$c" cassandra-e2e)
  if [ "$line" != "${last[$c]:-}" ]; then printf '   %6ss [%s] %s\n' "$(since)" "$c" "$line"; fi
done
elapsed=$(since)

step=$((step + 1))
say "$step. What multi-casskop did (its log, logfmt):"
grep -E 'Create|Running|Update|reachable|RegionReady' "$work/operator.log" | sed 's/^/   /' || true

# name (detail) of every object of a kind, on one line.
objects() {
  k "$1" -n "$ns" get "$2" -o jsonpath="{range .items[*]}{.metadata.name}${3:-}{\"\\n\"}{end}" 2>/dev/null |
    awk 'NF { n++; s = s (n > 1 ? ", " : "") $0 } END { printf "%d%s\n", n, n ? ": " s : "" }'
}

step=$((step + 1))
say "$step. Summary after $elapsed s"
k k8s-cluster1 -n "$ns" get mcc -o wide | sed 's/^/   /'
k k8s-cluster1 -n "$ns" get mcc multi-casskop-e2e \
  -o jsonpath='{range .status.regions[*]}   region {.name}: {.phase} (CassandraCluster {.cassandraPhase}, {.lastClusterAction} {.lastClusterActionStatus}){"\n"}{end}'
for c in "${regions[@]}"; do
  echo "   [$c] CassandraCluster cassandra-e2e: $(k "$c" -n "$ns" get cassandracluster cassandra-e2e \
    -o jsonpath='{.status.phase} (lastClusterAction {.status.lastClusterAction} {.status.lastClusterActionStatus})')"
  if [ "$stand_in" = 1 ]; then
    echo "     (no StatefulSets, pods, Services, PDB or PVCs: the stand-in only moves the status)"
  else
    printf '     %-20s %s\n' StatefulSets "$(objects "$c" statefulsets ' {.status.readyReplicas}/{.spec.replicas} ready')"
    printf '     %-20s %s\n' Pods "$(objects "$c" pods ' {.status.phase} Ready={.status.conditions[?(@.type=="Ready")].status}')"
    printf '     %-20s %s\n' Services "$(objects "$c" services)"
    printf '     %-20s %s\n' PodDisruptionBudget "$(objects "$c" poddisruptionbudgets ' maxUnavailable {.spec.maxUnavailable}, disruptionsAllowed {.status.disruptionsAllowed}')"
    printf '     %-20s %s\n' PVCs "$(objects "$c" persistentvolumeclaims ' {.status.phase}')"
  fi
  echo "     seed list: $(k "$c" -n "$ns" get cassandracluster cassandra-e2e -o jsonpath='{.status.seedlist}')"
done
# The seed's check: nodetool status in a pod of region 1 lists the nodes of both regions, one ring.
ring_ok=1
if [ "$stand_in" != 1 ] && [ "$ready" = "True" ]; then
  step=$((step + 1))
  pod=cassandra-e2e-dc1-rack1-0
  say "$step. kubectl --context k8s-cluster1 -n $ns exec $pod -- nodetool status"
  pods_total=0
  for c in "${regions[@]}"; do
    pods_total=$((pods_total + $(k "$c" -n "$ns" get pods -o name | wc -l)))
  done
  # Every node UN (a node that joined last may still be UJ for a moment).
  for _ in $(seq 50); do
    status=$(k k8s-cluster1 -n "$ns" exec "$pod" -- nodetool status 2>&1 || true)
    [ "$(grep -c '^UN ' <<<"$status")" = "$pods_total" ] && break
    sleep 0.2
  done
  sed 's/^/   /' <<<"$status"
  [ "$(grep -c '^UN ' <<<"$status")" = "$pods_total" ] && grep -q '^Datacenter: dc2' <<<"$status" || ring_ok=0
fi
if [ -n "$early" ]; then
  say "Region 2 was released too early: $early"
  exit 1
elif [ "$ready" = "True" ]; then
  if [ "$stand_in" = 1 ]; then
    say "Done: both regions Running, created one after the other (kubesim's CassKop stand-in). Everything stopped and removed."
  elif [ "$ring_ok" = 1 ]; then
    say "Done: both regions Running, region 2 created once region 1's StatefulSets were Ready, and one Cassandra ring of the $pods_total nodes of both regions, every node UN. Everything stopped and removed."
  else
    say "Both regions Running, but nodetool status in k8s-cluster1 does not show the $pods_total nodes of both regions UN in one ring."
    exit 1
  fi
else
  say "The MultiCasskop did not become Ready within 100 s. Last lines of multi-casskop's log:"
  tail -20 "$work/operator.log"
  for c in "${regions[@]}"; do
    [ -f "$work/casskop-$c.log" ] && { echo "--- casskop in $c:"; tail -20 "$work/casskop-$c.log"; }
  done
  exit 1
fi
