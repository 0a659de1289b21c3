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
  cmake -S . -B "$dir" $cmake_args >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null || cmake --build "$dir" -j 1
  echo "== tests: $dir"
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" "$@")
}

# Builds users make, with warnings as errors here: Release (-O3) with GCC and one clang
# build. Built only (the suites below run the tests), so they add build time, not test time.
build_only() {
  local dir=$1 cc=$2 type=$3
  echo "== build: $dir ($cc, $type)"
  CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DFIN_WERROR=ON >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null || cmake --build "$dir" -j 1
}
build_only build-release gcc Release
build_only build-clang clang RelWithDebInfo

run_suite build "-DCMAKE_BUILD_TYPE=RelWithDebInfo -DFIN_WERROR=ON" "$@"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan "-DCMAKE_BUILD_TYPE=Debug -DFIN_SANITIZE=ON -DFIN_WERROR=ON" "$@"
