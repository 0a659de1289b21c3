#!/usr/bin/env bash
# The AWS CLI against finstream serve with --endpoint-url: create, describe, list, put
# and read a stream, tag it, and delete it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
[ -x /usr/bin/aws ] || { echo "/usr/bin/aws (Debian's awscli) not installed: skipping"; exit 0; }
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
mkdir -p "$T/data"
printf '[collector "classic"]\nsource = sim\ntickers = FB,SHOP\nto = stream:lam\n' > "$T/data/finstream.ini"
printf '[collector "ticker"]\nsource = sim\ntickers = FB\nevery = 1s\nto = stream:sched\n' >> "$T/data/finstream.ini"
start_serve
aws() { /usr/bin/aws --endpoint-url "$EP" --output json "$@"; }
aws kinesis create-stream --stream-name cli --shard-count 2
aws kinesis wait stream-exists --stream-name cli
st=$(aws kinesis describe-stream --stream-name cli --query StreamDescription.StreamStatus --output text)
assert_eq "$st" "ACTIVE" "status after the waiter"
assert_eq "$(aws kinesis list-streams --query 'StreamNames[0]' --output text)" "cli"
assert_eq "$(aws kinesis list-shards --stream-name cli --query 'length(Shards)')" "2"
out=$(aws kinesis put-record --stream-name cli --partition-key AAPL \
        --data '{"name":"AAPL","high":1.5}' --cli-binary-format raw-in-base64-out)
shard=$(jq -r .ShardId <<<"$out" 2>/dev/null || /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["ShardId"])' <<<"$out")
seq=$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["SequenceNumber"])' <<<"$out")
assert_eq "${#seq}" "56" "sequence number length"
it=$(aws kinesis get-shard-iterator --stream-name cli --shard-id "$shard" \
       --shard-iterator-type AT_SEQUENCE_NUMBER --starting-sequence-number "$seq" \
       --query ShardIterator --output text)
data=$(aws kinesis get-records --shard-iterator "$it" --query 'Records[0].Data' --output text | base64 -d)
assert_eq "$data" '{"name":"AAPL","high":1.5}' "record read back"
aws kinesis add-tags-to-stream --stream-name cli --tags env=test
assert_eq "$(aws kinesis list-tags-for-stream --stream-name cli --query 'Tags[0].Value' --output text)" "test"
if aws kinesis describe-stream --stream-name nope 2>"$T/err"; then fail "describe of a missing stream"; fi
assert_contains "$(cat "$T/err")" "ResourceNotFoundException"
aws kinesis delete-stream --stream-name cli
aws kinesis wait stream-not-exists --stream-name cli
assert_eq "$(aws kinesis list-streams --query 'length(StreamNames)')" "0"

# Firehose: a delivery stream fed by a Kinesis stream, and a direct-put one
aws kinesis create-stream --stream-name src --shard-count 1
aws kinesis wait stream-exists --stream-name src
aws firehose create-delivery-stream --delivery-stream-name from-src \
  --delivery-stream-type KinesisStreamAsSource \
  --kinesis-stream-source-configuration KinesisStreamARN=arn:aws:kinesis:us-east-1:000000000000:stream/src,RoleARN=arn:aws:iam::000000000000:role/r \
  --extended-s3-destination-configuration BucketARN=arn:aws:s3:::fromsrc,RoleARN=arn:aws:iam::000000000000:role/r >/dev/null
aws firehose create-delivery-stream --delivery-stream-name direct \
  --extended-s3-destination-configuration 'BucketARN=arn:aws:s3:::direct,RoleARN=arn:aws:iam::000000000000:role/r,CompressionFormat=GZIP,Prefix=raw/' >/dev/null
assert_eq "$(aws firehose list-delivery-streams --query 'join(`,`, DeliveryStreamNames)' --output text)" "direct,from-src"
assert_eq "$(aws firehose describe-delivery-stream --delivery-stream-name from-src \
  --query DeliveryStreamDescription.DeliveryStreamType --output text)" "KinesisStreamAsSource"
sleep 0.3
aws firehose put-record --delivery-stream-name direct --record '{"Data":"eyJuYW1lIjoiQUFQTCJ9Cg=="}' >/dev/null
assert_contains "$(curl -s "$EP/metrics")" 'finstream_firehose_delivery_records_total{delivery="direct"} 0' 
aws kinesis put-record --stream-name src --partition-key AAPL --data '{"name":"MSFT"}' \
  --cli-binary-format raw-in-base64-out >/dev/null
if aws firehose put-record --delivery-stream-name nope --record Data=eA== 2>"$T/err"; then fail "put to a missing delivery stream"; fi
assert_contains "$(cat "$T/err")" "ResourceNotFoundException"

# the collector as a function: aws lambda invoke runs [collector "classic"] once
aws kinesis create-stream --stream-name lam --shard-count 1
aws kinesis wait stream-exists --stream-name lam
aws lambda invoke --function-name classic --cli-binary-format raw-in-base64-out \
  --payload '{"date":"2020-05-14","tickers":["FB"]}' "$T/lambda.json" >"$T/invoke.out"
/usr/bin/python3 - "$T/lambda.json" <<'PY' || fail "lambda summary: $(cat "$T/lambda.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["collector"] == "classic" and s["to"] == "stream:lam", s
assert s["records"] == 390 and s["tickers_ok"] == 1 and s["tickers_failed"] == 0, s
PY
n=$(aws kinesis get-records --shard-iterator "$(aws kinesis get-shard-iterator --stream-name lam \
      --shard-id shardId-000000000000 --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)" \
      --query 'length(Records)')
assert_eq "$n" "390" "records the function put"
# the scheduled collector runs inside serve, every second, into its stream
aws kinesis create-stream --stream-name sched --shard-count 1
for _ in $(seq 1 100); do grep -q 'collector ticker: [0-9]* records' "$T/serve.err" && break; sleep 0.1; done
assert_contains "$(cat "$T/serve.err")" "collector ticker: [0-9]* records" "scheduled collector ran"
if aws lambda invoke --function-name nope "$T/x.json" 2>"$T/err"; then fail "invoke of a missing function"; fi
assert_contains "$(cat "$T/err")" "ResourceNotFoundException"
stop_serve
# stopping flushed both: the records are objects in their buckets' lake folders
assert_eq "$(find "$T/data/lake/direct/raw" -name '*.gz' -exec zcat {} + )" '{"name":"AAPL"}'
assert_eq "$(find "$T/data/lake/fromsrc" -type f -exec cat {} + )" '{"name":"MSFT"}'
echo "serve_awscli: ok"
