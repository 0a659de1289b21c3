#!/usr/bin/env bash
# Slow senders and idle connection floods (loopback only): serve enforces a whole-request
# deadline and makes room under its connection cap, so a well-formed client's PutRecords
# succeed while the attacks run, and every acknowledged record is in the stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
mkdir -p "$T/data"
fs stream create attacked --shards 1 >/dev/null
start_serve --timeout 2s --request-timeout 3s
/usr/bin/python3 "$(dirname "$0")/serve/slow_senders.py" "$EP" attacked | tee "$T/out"
acked=$(tail -1 "$T/out")
assert_eq "$(curl -s "$EP/health")" "ok"
stop_serve
assert_eq "$(fs stream get attacked | wc -l)" "$acked" "records in the stream"
echo "serve_slow: ok"
