# The classic hourly-high queries as people write them for Athena, unchanged but for the
# table name (implicit aliases such as `hour`, bare table names, "quoted" names), run over
# the real Firehose objects; each must give Athena's answer (see the shared data README):
# - the JOIN with MAX form keeps ties: the same CSV as Athena's (in order, as a multiset,
#   or with the one documented difference);
# - the GROUP BY form with an implicit `hour` alias: Athena's (name, hour, high) rows;
# - the ROW_NUMBER form keeps one row per ticker and hour: each one of Athena's rows, and
#   every (ticker, hour) of Athena's answer once.
source "$(dirname "$0")/lib.sh"
skip_without_shared
F="$FIN_SHARED_DATA/firehose"

fs crawl --table offset "$F/2020-05-14-ndjson-offset/objects" >/dev/null 2>&1
fs crawl --table mixedcase "$F/2020-05-14-ndjson-mixedcase/objects" >/dev/null 2>&1
fs crawl --table concatenated "$F/2021-05-11-concatenated/objects" >/dev/null 2>&1

# ---- 2020-05-14, offsets in ts ----
exp="$F/2020-05-14-ndjson-offset/athena-results.csv"
fs query --format csv "
SELECT s.name Stock, m.hour Hour, s.high Hourly_High, substring(s.ts, 1, 19) Datetime
FROM offset s
JOIN (SELECT name, substring(ts, 12, 2) hour, max(high) high
      FROM offset
      GROUP BY name, substring(ts, 12, 2)) m
  ON s.name = m.name AND substring(s.ts, 12, 2) = m.hour AND s.high = m.high
ORDER BY Stock, Hour, Datetime;" >"$T/join.csv"
cmp "$T/join.csv" "$exp" || fail "offset, JOIN form: $(diff "$T/join.csv" "$exp" | head)"

fs query --format csv "
SELECT name, substring(ts, 12, 2) hour, max(high) high
FROM \"AwsDataCatalog\".\"finance\".\"offset\"
GROUP BY name, substring(ts, 12, 2)
ORDER BY name, hour" >"$T/group.csv"
diff <(tail -n +2 "$T/group.csv") <(tail -n +2 "$exp" | cut -d, -f1-3 | sort -u) >/dev/null ||
  fail "offset, GROUP BY form: $(diff <(tail -n +2 "$T/group.csv") <(tail -n +2 "$exp" | cut -d, -f1-3 | sort -u) | head)"
assert_eq "$(head -1 "$T/group.csv")" '"name","hour","high"' "implicit aliases name the columns"

fs query --format csv "
SELECT name, hour, high, ts
FROM (
  SELECT name, high, ts, substr(ts, 12, 2) hour,
         ROW_NUMBER() OVER (PARTITION BY name, substr(ts, 12, 2) ORDER BY high DESC) rn
  FROM offset
)
WHERE rn = 1
ORDER BY name, hour" >"$T/rn.csv"
# every row is one of Athena's (Stock, Hour, Hourly_High, Datetime)
while IFS=, read -r n h hi ts; do
  grep -qxF "$n,$h,$hi,\"${ts:1:19}\"" "$exp" || fail "offset, ROW_NUMBER form: $n,$h,$hi,$ts is not in Athena's answer"
done < <(tail -n +2 "$T/rn.csv")
assert_eq "$(tail -n +2 "$T/rn.csv" | cut -d, -f1,2)" "$(tail -n +2 "$exp" | cut -d, -f1,2 | uniq)" \
  "offset, ROW_NUMBER form: one row per ticker and hour"

# ---- 2020-05-14, mixed-case keys (timestamp is a column named like a type) ----
exp="$F/2020-05-14-ndjson-mixedcase/athena-results.csv"
fs query --format csv "
SELECT a.name, b.hour, a.timestamp, a.high max_high
FROM mixedcase a
JOIN (SELECT name, substr(timestamp, 12, 2) hour, max(high) high FROM mixedcase GROUP BY 1, 2) b
  ON a.name = b.name AND substr(a.timestamp, 12, 2) = b.hour AND a.high = b.high
ORDER BY name, hour" >"$T/mjoin.csv"
assert_eq "$(head -1 "$T/mjoin.csv")" "$(head -1 "$exp")" "mixedcase header"
diff <(sort "$T/mjoin.csv") <(sort "$exp") >/dev/null ||
  fail "mixedcase, JOIN form: $(diff <(sort "$T/mjoin.csv") <(sort "$exp") | head)"
fs query --format csv "
SELECT name, substr(timestamp, 12, 2) hour, max(high) max_high FROM mixedcase
GROUP BY name, substr(timestamp, 12, 2) ORDER BY name, hour" >"$T/mgroup.csv"
diff <(tail -n +2 "$T/mgroup.csv") <(tail -n +2 "$exp" | cut -d, -f1,2,4 | sort -u) >/dev/null ||
  fail "mixedcase, GROUP BY form: $(diff <(tail -n +2 "$T/mgroup.csv") <(tail -n +2 "$exp" | cut -d, -f1,2,4 | sort -u) | head)"

# ---- 2021-05-11, concatenated objects under YYYY/MM/DD/HH; hour keeps a leading space ----
exp="$F/2021-05-11-concatenated/athena-results.csv"
fs query --format csv "
SELECT t.name, t.ts, t.high, m.hour
FROM concatenated t
JOIN (SELECT name, substring(ts, 11, 3) hour, max(high) high FROM concatenated GROUP BY 1, 2) m
  ON t.name = m.name AND substring(t.ts, 11, 3) = m.hour AND t.high = m.high
ORDER BY name, hour, ts" >"$T/cjoin.csv"
d=$(diff "$T/cjoin.csv" "$exp" | grep '^[<>]' || true)
assert_eq "$d" '< "TTD","05-11-2021 09:40:00-0400","494.84"," 09"
> "TTD","05-11-2021 09:40:00-0400","494.71"," 09"' "concatenated, JOIN form: exactly the one documented difference"
fs query --format csv "
SELECT name, ts, high, hour FROM (
  SELECT name, ts, high, substring(ts, 11, 3) hour,
         row_number() OVER (PARTITION BY name, substring(ts, 11, 3) ORDER BY high DESC) AS rn
  FROM concatenated)
WHERE rn = 1 ORDER BY name, hour" >"$T/crn.csv"
assert_eq "$(tail -n +2 "$T/crn.csv" | cut -d, -f1,4)" "$(tail -n +2 "$exp" | cut -d, -f1,4 | uniq)" \
  "concatenated, ROW_NUMBER form: one row per ticker and hour"

# ---- the Athena spellings of time functions agree with the strings they read ----
got=$(fs query --format csv "
SELECT count(*) n FROM offset
WHERE hour(date_add('hour', -4, CAST(ts AS timestamp))) = CAST(substr(ts, 12, 2) AS integer)
  AND date_format(from_iso8601_timestamp(replace(ts, ' ', 'T')), '%H:%i') = date_format(CAST(ts AS timestamp), '%H:%i')
  AND extract(hour from date_parse(substr(ts, 1, 19), '%Y-%m-%d %H:%i:%s')) = CAST(split_part(split_part(ts, ' ', 2), ':', 1) AS integer)")
assert_eq "$got" '"n"
"3844"' "date_add, CAST of offset strings, from_iso8601_timestamp, date_format, date_parse, split_part"
[ "$(tail -n +2 "$T/rn.csv" | wc -l)" -eq 70 ] || fail "ROW_NUMBER form: expected 70 rows"
echo "query_athena: ok"
