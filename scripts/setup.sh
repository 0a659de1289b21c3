#!/usr/bin/env bash
# Installs what finstream needs to build on Debian 12, fetches DuckDB 1.4 LTS,
# and builds ./build/finstream. Idempotent: a second run only rebuilds what changed.
#
#   DUCKDB_PREFIX=/opt/duckdb  use a libduckdb from there (lib/libduckdb.so, include/duckdb.h)
#   FIN_BUILD_DIR=build-x      build somewhere else (default: build)
#   FIN_SKIP_BUILD=1           install and fetch only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

packages=(build-essential cmake pkg-config git ca-certificates
          libcurl4-openssl-dev libssl-dev libjansson-dev zlib1g-dev
          libplplot-dev plplot-driver-cairo libcmocka-dev python3 gzip
          python3-botocore libmicrohttpd-dev python3-boto3 python3-cbor2 awscli curl
          libedit-dev clang)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: any install will do (Debian's, or one that came with a Node.js package).
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages and not root; run: sudo $0" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB: the shared library from DuckDB's npm distribution, the header from the
# duckdb npm package's sources. Both pinned by version and checked by sha256.
if [ -z "${DUCKDB_PREFIX:-}" ]; then
  dest="$root/third_party/duckdb"
  so_sha=1ef33048e12235115ac0d277a0aaccbb560e33248144f488b5ac005cd9ba81b5
  h_sha=cbe6a827284375c5a646b8f27dbd3a00808ce8738b5bbb49c190cb1e08540281
  ok() { [ -f "$1" ] && echo "$2  $1" | sha256sum --quiet -c - 2>/dev/null; }
  if ! ok "$dest/lib/libduckdb.so" "$so_sha" || ! ok "$dest/include/duckdb.h" "$h_sha"; then
    echo "setup: fetching DuckDB 1.4.4 with npm pack"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent @duckdb/node-bindings-linux-x64@1.4.4-r.4 duckdb@1.4.4 >/dev/null)
    mkdir -p "$dest/lib" "$dest/include"
    tar -xzf "$tmp"/duckdb-node-bindings-linux-x64-1.4.4-r.4.tgz -C "$tmp" package/libduckdb.so
    tar -xzf "$tmp"/duckdb-1.4.4.tgz -C "$tmp" package/src/duckdb/src/include/duckdb.h
    mv "$tmp/package/libduckdb.so" "$dest/lib/libduckdb.so"
    mv "$tmp/package/src/duckdb/src/include/duckdb.h" "$dest/include/duckdb.h"
    ok "$dest/lib/libduckdb.so" "$so_sha" || { echo "setup: libduckdb.so checksum mismatch" >&2; exit 1; }
    ok "$dest/include/duckdb.h" "$h_sha" || { echo "setup: duckdb.h checksum mismatch" >&2; exit 1; }
  fi
fi

# The console's front-end libraries (npm, pinned and checked); the build embeds them.
bash "$root/scripts/web-assets.sh" || echo "setup: continuing without the console's editor and charts"

[ -n "${FIN_SKIP_BUILD:-}" ] && exit 0
build=${FIN_BUILD_DIR:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo ${FIN_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build" -j "$(nproc)" >/dev/null || cmake --build "$build" -j 1
echo "setup: built $build/finstream"
