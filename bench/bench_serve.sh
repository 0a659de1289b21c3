#!/usr/bin/env bash
# bench_serve.sh - finstream serve under wrk with fixed request bodies:
#   PutRecords of 500 records (about 100 bytes each, ten tickers) with fsync = always,
#   single PutRecord calls, and GetRecords of up to 10,000 records.
# Installs wrk (Debian package) when missing. Prints requests/s, records/s and latency.
#
#   bench/bench_serve.sh [BUILD_DIR] [SECONDS] [CONNECTIONS]
#   ENDPOINT=http://host:port  run the same bodies against another Kinesis-compatible
#                              server instead (its streams must not exist yet)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
secs=${2:-10}
conns=${3:-32}
if ! command -v wrk >/dev/null; then
  echo "bench_serve: installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/finstream-bench-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

if [ -z "${ENDPOINT:-}" ]; then
  mkdir -p "$T/data"
  printf "[stream \"bench\"]\nshards = 2\nfsync = ${FSYNC:-always}\n" > "$T/data/finstream.ini"
  "$build/finstream" --data-dir "$T/data" -q serve --listen 127.0.0.1:0 --status-delay 0ms \
    --threads "${THREADS:-8}" >"$T/out" &
  pid=$!
  for _ in $(seq 1 100); do grep -q listening "$T/out" 2>/dev/null && break; sleep 0.05; done
  ENDPOINT="http://127.0.0.1:$(awk -F: '/listening/{print $NF}' "$T/out")"
fi
call() {
  curl -s -X POST "$ENDPOINT/" -H "X-Amz-Target: Kinesis_20131202.$1" \
    -H 'Content-Type: application/x-amz-json-1.1' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000' \
    -H 'X-Amz-Date: 20260101T000000Z' \
    -d "$2"
}
echo "CreateStream: $(call CreateStream '{"StreamName":"bench","ShardCount":2}')"
sleep 1

python3 - "$T" <<'PY'
import base64, json, sys
t = sys.argv[1]
names = ["AAPL", "AMZN", "BABA", "FB", "GOOG", "MSFT", "NFLX", "PYPL", "SHOP", "TSLA"]
def rec(i):
    d = json.dumps({"high": 100 + i % 97 / 7, "low": 99 + i % 89 / 7,
                    "ts": "2020-05-14 09:%02d:00-04:00" % (i % 60), "name": names[i % 10]})
    return {"Data": base64.b64encode(d.encode()).decode(), "PartitionKey": names[i % 10]}
open(t + "/batch.json", "w").write(json.dumps({"StreamName": "bench", "Records": [rec(i) for i in range(500)]}))
one = rec(1); one["StreamName"] = "bench"
open(t + "/one.json", "w").write(json.dumps(one))
PY
run() {  # name target body
  echo "== $1 ($conns connections, ${secs}s)"
  BODY=$3 TARGET="Kinesis_20131202.$2" wrk -t2 -c"$conns" -d"${secs}s" -s "$here/serve/post.lua" \
    "$ENDPOINT" | tee "$T/$1.txt" | grep -E 'Requests/sec|requests [0-9]'
}
run putrecords PutRecords "$T/batch.json"
rps=$(awk '/ok_per_s/{print $6}' "$T/putrecords.txt")
echo "PutRecords: $(python3 -c "print(round($rps * 500))") records/s acknowledged"
run putrecord PutRecord "$T/one.json"

it=$(call GetShardIterator '{"StreamName":"bench","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}' |
     python3 -c 'import json,sys; print(json.load(sys.stdin)["ShardIterator"])')
printf '{"ShardIterator":"%s","Limit":10000}' "$it" > "$T/get.json"
got=$(call GetRecords "$(cat "$T/get.json")" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["Records"]))')
run getrecords GetRecords "$T/get.json"
rps=$(awk '/ok_per_s/{print $6}' "$T/getrecords.txt")
echo "GetRecords: $got records per call, $(python3 -c "print(round($rps * $got))") records/s"
