#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
# CTest splits test names on ';', which would silently turn one doctest case into two that match
# nothing and "pass"; refuse such names.
# (-z: names may span lines as concatenated literals.)
if grep -rlPz 'TEST_CASE\((\s*"[^"]*")*\s*"[^"]*;' tests; then
  echo "test.sh: test case names must not contain ';'" >&2
  exit 1
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
cd build
ctest --output-on-failure -j2 --timeout 300 "$@"
cd ..
# Every libFuzzer target briefly (ASan + UBSan, clang); `bash tools/fuzz.sh 600` for a long run.
bash tools/fuzz.sh 10
