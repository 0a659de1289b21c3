#!/usr/bin/env bash
# Slow senders and idle connection floods (loopback only): serve enforces a whole-request
# deadline and makes room under its connection cap, so a well-formed client's PutRecords
# succeed while the attacks run, and every acknowledged record is in the stream.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
mkdir -p "$T/data"
fs stream create attacked --shards 1 >/dev/null
start_serve --timeout 2s --request-timeout 3s
# names that enter through the APIs follow the one naming rule
auth='Authorization: AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00'
date='X-Amz-Date: 20260101T000000Z'  # AWS requires the signature's date
out=$(curl -s -X POST "$EP/" -H "$auth" -H "$date" -H 'X-Amz-Target: Kinesis_20131202.CreateStream' \
        -H 'Content-Type: application/x-amz-json-1.1' -d '{"StreamName":".hidden","ShardCount":1}')
assert_contains "$out" "ValidationException" "a stream name starting with '.'"
[ ! -e "$T/data/streams/.hidden" ] || fail "a hidden stream was created"
out=$(curl -s -X POST "$EP/2015-03-31/functions/..%2F..%2Fx/invocations" -H "$date" \
        -H "${auth/\/kinesis\//\/lambda\/}" -d '{}')  # signed for Lambda, as AWS requires
assert_contains "$out" "collector name" "a Lambda function name that walks out"
/usr/bin/python3 "$(dirname "$0")/serve/slow_senders.py" "$EP" attacked | tee "$T/out"
acked=$(tail -1 "$T/out")
assert_eq "$(curl -s "$EP/health")" "ok"
stop_serve
assert_eq "$(fs stream get attacked | wc -l)" "$acked" "records in the stream"
echo "serve_slow: ok"
