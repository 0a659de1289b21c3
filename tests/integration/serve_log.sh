#!/usr/bin/env bash
# A running serve logs a summary of its totals every --summary-every, as JSON lines with
# --log-format json: records and bytes put show up in it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
start_serve --summary-every 1s --log-format json
call() {
  curl -s -X POST "$EP/" -H "X-Amz-Target: Kinesis_20131202.$1" \
    -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Date: 20260101T000000Z" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00" \
    -d "$2"
}
call CreateStream '{"StreamName":"s","ShardCount":1}' >/dev/null
for i in $(seq 1 100); do
  call PutRecord '{"StreamName":"s","Data":"eyJhIjoxfQ==","PartitionKey":"k"}' >"$T/put"
  grep -q SequenceNumber "$T/put" && break
  sleep 0.1   # the stream says CREATING for --status-delay
done
assert_contains "$(cat "$T/put")" "SequenceNumber" "put after the stream became active"
for i in $(seq 1 100); do
  grep -q '"event":"summary".*"records_in":1,' "$T/serve.err" && break
  sleep 0.1
done
line=$(grep '"event":"summary".*"records_in":1,' "$T/serve.err" | head -1)
[ -n "$line" ] || { cat "$T/serve.err"; fail "no summary with the put record"; }
/usr/bin/python3 -c 'import json,sys; e=json.loads(sys.argv[1]); assert e["bytes_in"]>=7 and e["requests"]>=2, e' "$line" \
  || fail "summary totals: $line"
stop_serve
echo "serve_log: ok"
