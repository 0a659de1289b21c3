#!/usr/bin/env bash
# CreateDeliveryStream honours what it is given (Parquet conversion, dynamic partitioning
# by a JQ query, prefixes verbatim, buffering, compression), DescribeDeliveryStream says
# it back, errors come in AWS's format, and the private stream of a DirectPut delivery
# stream is out of the Kinesis API's reach; then the lake's objects are checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
mkdir -p "$T/data"
printf '[serve]\nregion = eu-west-1\n' >>"$T/data/finstream.ini"
start_serve
/usr/bin/python3 "$(dirname "$0")/serve/firehose_fidelity.py" "$EP" || fail "see above"
stop_serve

L="$T/data/lake/fidelity-lake"
day=$(date -u +%Y-%m-%d)
# one Parquet object per partition, in folders named by the JQ keys
parts=$(cd "$L" && find . -name '*.parquet' | sed 's|/pq-1-.*||' | sort | tr '\n' ' ')
assert_eq "$parts" "./name=FB/venue=IEX/dt=$day ./name=FB/venue=NASDAQ/dt=$day ./name=SHOP/venue=NYSE/dt=$day " \
  "partition folders"
rows=$(fs query --format csv "SELECT name, high, volume FROM read_parquet('$L/name=*/venue=*/dt=*/*.parquet') ORDER BY high" 2>&1) ||
  fail "query of the Parquet objects: $rows"
assert_eq "$(echo "$rows" | tr '\n' ' ')" '"name","high","volume" "SHOP","7.5","9" "FB","200.5","1000" "SHOP","201.5","1001" "FB","202.5","1002" "SHOP","203.5","1003" "FB","204.5","1004" ' \
  "rows of the Parquet objects"
# records the query could not partition went to the error prefix, with the reason
errs=$(find "$L/errors/partitioning-failed" -type f -exec cat {} +)
assert_eq "$(grep -c . <<<"$errs")" "2" "records under the error prefix"
assert_contains "$errs" 'DynamicPartitioning.MetadataExtractionFailed' "error code"
assert_contains "$errs" "no value for partition key 'venue'" "why NOVENUE failed"
# gzip objects under the verbatim prefix (plus Firehose's time folders)
g=$(find "$T/data/lake/other-lake/gz" -name 'gz-1-*.gz')
[ -n "$g" ] || fail "no gzip object under other-lake/gz/"
assert_eq "$(zcat $g)" '{"name":"GZ","n":1}' "gzip object"
# nothing outside the buckets
assert_eq "$(ls "$T/data/lake" | tr '\n' ' ')" "fidelity-lake other-lake " "lake folders"
echo "serve_firehose_fidelity: ok"
