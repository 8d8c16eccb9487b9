#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz/*_fuzz.cpp) with clang, ASan and UBSan into
# build-fuzz/, then runs each for SECONDS (default 60) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/) in a temporary folder, so runs never write into the repository.
# Exits non-zero if any target crashes, leaks, trips a sanitizer or fails to build; the input
# that did it is kept under build-fuzz/findings/.
#
#   bash tools/fuzz.sh        # 60 s per target
#   bash tools/fuzz.sh 10     # what tools/test.sh runs
#   bash tools/fuzz.sh 600    # a longer session
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:-60}
if ! [[ $duration =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ]; then
  echo "usage: tools/fuzz.sh [SECONDS]" >&2
  exit 2
fi

CXX=${FUZZ_CXX:-clang++}
out=build-fuzz
mkdir -p "$out/obj" "$out/findings"
# Two runs at once (two checkouts' test.sh) must not build into the same files together.
exec 9>"$out/.build-lock"
flock 9
# RapidJSON 1.1.0 (Debian 12) adds offsets to its parse stack's null pointer before the first
# allocation (fixed upstream after 1.1.0): UBSan's pointer-overflow would stop every target on
# its first input. Only that check, only in RapidJSON's headers, is switched off.
cat >"$out/ubsan-ignore.txt" <<'EOF'
[pointer-overflow]
src:*/rapidjson/*
EOF
flags=(-std=c++17 -O1 -g -I. -DRAPIDJSON_HAS_STDSTRING=1 -D_TURN_OFF_PLATFORM_STRING
       -fno-sanitize-recover=undefined -fsanitize-ignorelist="$out/ubsan-ignore.txt")
# The k8s sources the targets need, instrumented for coverage but without libFuzzer's main.
sources=(api/api_error json/base64 api/connection json/json json/json_patch watch/watch_event)

# Rebuilds $2 from $1 when the object is missing or older than the source, a k8s header or
# this script (headers are few and shared; a precise dependency scan is not worth it here).
stale() {
  local src=$1 obj=$2
  [ ! -e "$obj" ] && return 0
  [ "$src" -nt "$obj" ] && return 0
  [ tools/fuzz.sh -nt "$obj" ] && return 0
  local h
  for h in k8s/*/*.h; do [ "$h" -nt "$obj" ] && return 0; done
  return 1
}

objects=()
relink=0
for s in "${sources[@]}"; do
  obj=$out/obj/${s//\//_}.o
  if stale "k8s/$s.cpp" "$obj"; then
    echo "fuzz: compiling k8s/$s.cpp"
    "$CXX" "${flags[@]}" -fsanitize=fuzzer-no-link,address,undefined -c "k8s/$s.cpp" -o "$obj"
    relink=1
  fi
  objects+=("$obj")
done
# One archive for every target: each links only the objects it uses.
lib=$out/libk8s_fuzz.a
if [ "$relink" = 1 ] || [ ! -e "$lib" ]; then
  rm -f "$lib"
  ar rcs "$lib" "${objects[@]}"
fi

targets=()
for src in tests/fuzz/*_fuzz.cpp; do
  t=$(basename "$src" .cpp)
  targets+=("$t")
  if stale "$src" "$out/$t" || [ "$lib" -nt "$out/$t" ]; then
    echo "fuzz: building $t"
    "$CXX" "${flags[@]}" -fsanitize=fuzzer,address,undefined "$src" "$lib" \
      -lyaml-cpp -lcrypto -o "$out/$t"
  fi
done

flock -u 9

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=0
summary=()
for t in "${targets[@]}"; do
  seeds=tests/fuzz/corpus/${t%_fuzz}
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  if [ -d "$seeds" ]; then cp -r "$seeds/." "$work/$t/corpus/"; fi
  echo "fuzz: running $t for ${duration}s on $(ls "$work/$t/corpus" | wc -l) seed(s)"
  rc=0
  # -timeout: one input running 30 s is a finding (a hang), not a reason to wait forever.
  (cd "$work/$t" && "$root/$out/$t" -max_total_time="$duration" -timeout=30 \
     -print_final_stats=1 -artifact_prefix=artifacts/ corpus) >"$work/$t/log" 2>&1 || rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/$t/log" | grep -o '[0-9]*$' |
         tail -1)
  if [ -z "$runs" ]; then
    runs=$(grep -oE '^#[0-9]+' "$work/$t/log" | tail -1 | tr -d '#')
  fi
  if [ "$rc" -eq 0 ]; then
    result="ok"
  else
    failed=1
    result="FAILED (exit $rc)"
    for f in "$work/$t/artifacts"/*; do
      [ -e "$f" ] || continue
      cp "$f" "$out/findings/$t-$(basename "$f")"
      result+=", input kept as $out/findings/$t-$(basename "$f")"
    done
    echo "----- $t log (last 60 lines) -----"
    tail -n 60 "$work/$t/log"
    echo "-----"
    echo "reproduce: $out/$t $out/findings/$t-<input>"
  fi
  line="$t: ${runs:-?} runs in ${duration}s: $result"
  echo "fuzz: $line"
  summary+=("$line")
done

echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
