#!/usr/bin/env bash
# Page load times of the web console with 50 streams and 10,000 lake objects, in
# headless Chromium (scripts/console-test-deps.sh installs it), plus the cost of one
# overview snapshot and of the main API calls with curl. Prints figures.
#
#   bench/bench_console.sh [path/to/finstream]     (default build/finstream)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/finstream}
chromium=$(bash "$root/scripts/console-test-deps.sh")
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
fs() { "$bin" --data-dir "$T/d" "$@"; }
fs run >/dev/null 2>&1
for i in $(seq 2 50); do fs stream create "s$i" --shards 2 >/dev/null; done
# 10,000 objects: the day's object copied under four hourly folders (2,500 each)
obj=$(find "$T/d/lake" -type f | head -1)
for h in 09 10 11 12; do
  mkdir -p "$T/d/lake/2020/05/14/$h"
  for i in $(seq 1 2500); do ln "$obj" "$T/d/lake/2020/05/14/$h/lake-1-$h-$i"; done
done
echo "data: $(fs stream list | wc -l) streams, $(find "$T/d/lake" -type f | wc -l) lake objects"
"$bin" --data-dir "$T/d" console --listen 127.0.0.1:0 >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 300); do grep -q "console on" "$T/out" && break; sleep 0.1; done
url=$(sed -n 's/^console on //p' "$T/out")
sleep 3
for _ in 1 2 3; do curl -s "${url}api/overview" | python3 -c 'import json,sys; print("overview snapshot: %d ms to take (sampler, every second)" % json.load(sys.stdin)["sample_ms"])'; sleep 1; done
for p in api/overview "api/lake" "api/lake?prefix=2020/05/14/09/" api/catalog "api/streams/stocks"; do
  printf '%-40s %s\n' "GET /$p" "$(curl -s -o /dev/null -w '%{time_total}s %{size_download} bytes' "$url$p")"
done
CONSOLE_URL=$url CHROMIUM=$chromium NODE_PATH="$root/third_party/npm-console/node_modules" \
  node "$root/bench/console_load.js"
