#!/usr/bin/env bash
# The classic exercise end to end through finstream serve: boto3's put_record_batch of a
# trading day into a Firehose delivery stream, serve stopped (which flushes), then
# `finstream crawl` and `finstream query` give Athena's hourly-high answer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
skip_without_shared
F="$FIN_SHARED_DATA/firehose/2020-05-14-ndjson-offset"
find "$F/objects" -type f -exec cat {} + > "$T/day.ndjson"
start_serve
/usr/bin/python3 "$(dirname "$0")/serve/firehose_day.py" "$EP" "$T/day.ndjson"
m=$(curl -s "$EP/metrics")
assert_contains "$m" "finstream_firehose_incoming_records_total 3844"
stop_serve
n=$(find "$T/data/lake/stocks" -type f -exec cat {} + | grep -c .)
assert_eq "$n" "3844" "records in the lake"
fs crawl --table offset "$T/data/lake/stocks" >/dev/null 2>"$T/crawl.err" || fail "crawl: $(cat "$T/crawl.err")"
fs query --format csv "
  WITH bars AS (
    SELECT name, high, ts, substring(ts, 12, 2) AS hour,
           rank() OVER (PARTITION BY name, substring(ts, 12, 2) ORDER BY high DESC) AS r
    FROM finance.offset)
  SELECT name AS \"Stock\", hour AS \"Hour\", high AS \"Hourly_High\",
         substring(ts, 1, 19) AS \"Datetime\"
  FROM bars WHERE r = 1 ORDER BY 1, 2, 4" >"$T/answer.csv"
cmp "$T/answer.csv" "$F/athena-results.csv" ||
  fail "answer differs from Athena's: $(diff "$T/answer.csv" "$F/athena-results.csv" | head)"
echo "serve_firehose: ok (87 rows as Athena)"
