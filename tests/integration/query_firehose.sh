# The real-data proof: each folder of real Firehose objects is crawled as it stands and the
# hourly-high question is answered with SQL of our own; the CSV must equal the one Athena
# wrote, in order, as a multiset, or with the one documented difference (see the shared
# data README).
source "$(dirname "$0")/lib.sh"
skip_without_shared
F="$FIN_SHARED_DATA/firehose"

crawl() { fs crawl --table "$1" "$2" >"$T/crawl.out" 2>"$T/crawl.err" || fail "crawl $2: $(cat "$T/crawl.err")"
          [ ! -s "$T/crawl.err" ] || fail "crawl of $2 reported problems: $(cat "$T/crawl.err")"; }

# 2020-05-14, newline-delimited, ts with a UTC offset; ties kept, ordered by ticker, hour, time.
crawl offset "$F/2020-05-14-ndjson-offset/objects"
fs query --format csv --save "
  WITH bars AS (
    SELECT name, high, ts, substring(ts, 12, 2) AS hour,
           rank() OVER (PARTITION BY name, substring(ts, 12, 2) ORDER BY high DESC) AS r
    FROM finance.offset)
  SELECT name AS \"Stock\", hour AS \"Hour\", high AS \"Hourly_High\",
         substring(ts, 1, 19) AS \"Datetime\"
  FROM bars WHERE r = 1 ORDER BY 1, 2, 4" >"$T/offset.csv" 2>"$T/save.err"
cmp "$T/offset.csv" "$F/2020-05-14-ndjson-offset/athena-results.csv" ||
  fail "offset: answer differs from Athena's: $(diff "$T/offset.csv" "$F/2020-05-14-ndjson-offset/athena-results.csv" | head)"
# --save wrote the same bytes plus metadata
id=$(grep -o 'results/[0-9a-f-]*\.csv' "$T/save.err" | head -1)
[ -n "$id" ] || fail "no saved result announced: $(cat "$T/save.err")"
cmp "$T/data/$id" "$F/2020-05-14-ndjson-offset/athena-results.csv" || fail "saved CSV differs"
assert_contains "$(cat "$T/data/$id.metadata")" '"rows": 87' "metadata row count"
size=$(cat "$F"/2020-05-14-ndjson-offset/objects/* | wc -c)
assert_contains "$(cat "$T/data/$id.metadata")" "\"data_scanned_bytes\": $size" "bytes scanned = the objects' size"

# The same answer written the other classic way: hourly max joined back to the bars.
fs query --format csv "
  SELECT s.name AS \"Stock\", m.hour AS \"Hour\", s.high AS \"Hourly_High\",
         substr(s.ts, 1, 19) AS \"Datetime\"
  FROM finance.offset s
  JOIN (SELECT name, substr(ts, 12, 2) AS hour, max(high) AS high
        FROM finance.offset GROUP BY 1, 2) m
    ON s.name = m.name AND substr(s.ts, 12, 2) = m.hour AND s.high = m.high
  ORDER BY 1, 2, 4" >"$T/offset2.csv"
cmp "$T/offset2.csv" "$F/2020-05-14-ndjson-offset/athena-results.csv" || fail "offset (join form) differs"

# 2020-05-14, mixed-case keys, lower-case tickers; order among ties unspecified: multiset.
crawl mixedcase "$F/2020-05-14-ndjson-mixedcase/objects"
fs query --format csv "
  SELECT name, hour, timestamp, high AS max_high FROM (
    SELECT name, high, timestamp, substring(timestamp, 12, 2) AS hour,
           rank() OVER (PARTITION BY name, substring(timestamp, 12, 2) ORDER BY high DESC) AS r
    FROM finance.mixedcase)
  WHERE r = 1 ORDER BY name, hour" >"$T/mixed.csv"
exp="$F/2020-05-14-ndjson-mixedcase/athena-results.csv"
assert_eq "$(head -1 "$T/mixed.csv")" "$(head -1 "$exp")" "mixedcase header"
diff <(sort "$T/mixed.csv") <(sort "$exp") >/dev/null || fail "mixedcase: multiset differs: $(diff <(sort "$T/mixed.csv") <(sort "$exp") | head)"
# ordered by name and hour as Athena's was
diff <(cut -d, -f1,2 "$T/mixed.csv") <(cut -d, -f1,2 "$exp") >/dev/null || fail "mixedcase: name/hour order differs"

# 2021-05-11, concatenated objects under YYYY/MM/DD/HH; hour keeps its leading space.
crawl concatenated "$F/2021-05-11-concatenated/objects"
fs query --format csv "
  SELECT name, ts, high, hour FROM (
    SELECT name, ts, high, substring(ts, 11, 3) AS hour,
           rank() OVER (PARTITION BY name, substring(ts, 11, 3) ORDER BY high DESC) AS r
    FROM finance.concatenated WHERE partition_0 = '2021')
  WHERE r = 1 ORDER BY name, hour, ts" >"$T/conc.csv"
exp="$F/2021-05-11-concatenated/athena-results.csv"
d=$(diff "$T/conc.csv" "$exp" | grep '^[<>]' || true)
assert_eq "$d" '< "TTD","05-11-2021 09:40:00-0400","494.84"," 09"
> "TTD","05-11-2021 09:40:00-0400","494.71"," 09"' "concatenated: exactly the one documented difference"
echo "query_firehose: ok"
