#!/usr/bin/env bash
# boto3 against finstream serve: a trading day through put_records and back, and the
# exact error type of each kind of bad request, with serve still serving after them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
PY="/usr/bin/python3 $(dirname "$0")/serve/kinesis_client.py"
start_serve
day="$FIN_SHARED_DATA/firehose/2020-05-14-ndjson-offset"
if [ -d "$day" ]; then
  find "$day" -type f ! -name '*.csv' -exec cat {} + > "$T/day.ndjson"
else
  echo "shared data folder not found: a synthetic day instead"
  for i in $(seq 0 3843); do
    printf '{"name":"T%d","high":%d.5,"ts":"2020-05-14 09:%02d:00"}\n' $((i % 10)) "$i" $((i % 60))
  done > "$T/day.ndjson"
fi
$PY "$EP" day "$T/day.ndjson"
$PY "$EP" errors
$PY "$EP" cbor
$PY "$EP" reshard
m=$(curl -s "$EP/metrics")
assert_contains "$m" 'finstream_kinesis_incoming_records_total 4447'
assert_contains "$m" 'finstream_errors_total{type="ValidationException"} 4'
assert_eq "$(curl -s "$EP/health")" "ok"
$PY "$EP" wire
stop_serve
# a clean stop leaves the streams sound
fs check day >/dev/null
echo "serve_boto3: ok"
