#!/usr/bin/env bash
# Builds finstream twice (release, and AddressSanitizer + UBSan) and runs every test
# in both. Extra arguments go to ctest (for example: -L fault, -R stream).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
FIN_SKIP_BUILD=1 bash scripts/setup.sh

run_suite() {
  local dir=$1; shift
  local cmake_args=$1; shift
  [ -f "$dir/CMakeCache.txt" ] || cmake -S . -B "$dir" $cmake_args >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null || cmake --build "$dir" -j 1
  echo "== tests: $dir"
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" "$@")
}

run_suite build "-DCMAKE_BUILD_TYPE=RelWithDebInfo" "$@"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan "-DCMAKE_BUILD_TYPE=Debug -DFIN_SANITIZE=ON" "$@"
