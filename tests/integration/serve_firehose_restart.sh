#!/usr/bin/env bash
# A DirectPut delivery stream created through serve stays DirectPut, with what it was
# created with, across a clean stop (SIGTERM) and a crash (SIGKILL) of serve: puts keep
# working after each restart and every acknowledged record reaches the lake once.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
calls() { /usr/bin/python3 "$(dirname "$0")/serve/aws_call.py" "$EP" - "$@"; }
rec() { printf '{"Data":"{\\"name\\":\\"%s\\",\\"n\\":%d}\\n"}' "$1" "$2"; }
put() { echo "firehose PutRecordBatch {\"DeliveryStreamName\":\"fh\",\"Records\":[$1]}"; }
describe() { echo 'firehose DescribeDeliveryStream {"DeliveryStreamName":"fh"}'; }

mkdir -p "$T/data"
printf '[serve]\nregion = eu-west-1\n' >>"$T/data/finstream.ini"
start_serve
out=$( { echo 'firehose CreateDeliveryStream {"DeliveryStreamName":"fh","DeliveryStreamType":"DirectPut","ExtendedS3DestinationConfiguration":{"BucketARN":"arn:aws:s3:::restart","RoleARN":"arn:aws:iam::123456789012:role/firehose-role","Prefix":"raw/","ErrorOutputPrefix":"failed/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},"CompressionFormat":"UNCOMPRESSED"}}'
         put "$(rec A 1),$(rec B 2)"; describe; } | calls eu-west-1)
assert_contains "$(sed -n 1p <<<"$out")" 'arn:aws:firehose:eu-west-1:' "create"
assert_contains "$(sed -n 2p <<<"$out")" '"FailedPutCount": 0' "put after create"
before=$(sed -n 3p <<<"$out")
assert_contains "$before" '"DeliveryStreamType": "DirectPut"' "describe before a restart"
assert_contains "$before" '"RoleARN": "arn:aws:iam::123456789012:role/firehose-role"' "RoleARN echoed"
stop_serve

start_serve
out=$( { put "$(rec C 3)"; describe; } | calls eu-west-1)
assert_contains "$(sed -n 1p <<<"$out")" '"FailedPutCount": 0' "put after SIGTERM"
assert_eq "$(sed -n 2p <<<"$out")" "$before" "DescribeDeliveryStream after SIGTERM"
kill -KILL "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=

start_serve
out=$( { put "$(rec D 4),$(rec E 5)"; describe; } | calls eu-west-1)
assert_contains "$(sed -n 1p <<<"$out")" '"FailedPutCount": 0' "put after SIGKILL"
assert_eq "$(sed -n 2p <<<"$out")" "$before" "DescribeDeliveryStream after SIGKILL"
stop_serve

got=$(find "$T/data/lake/restart" -type f -exec cat {} + | sort | tr -d '\n')
assert_eq "$got" '{"name":"A","n":1}{"name":"B","n":2}{"name":"C","n":3}{"name":"D","n":4}{"name":"E","n":5}' \
  "records in the lake"
for f in $(find "$T/data/lake/restart" -type f); do
  case "${f#$T/data/lake/restart/}" in raw/2*/*/*/*/fh-1-*) ;; *) fail "object outside raw/YYYY/MM/DD/HH/: $f" ;; esac
done
echo "serve_firehose_restart: ok"
