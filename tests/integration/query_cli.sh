# finstream query through the binary: SQL from an argument, -f and stdin; table, CSV and
# JSON output; --save; SQL errors with position and status 1; pruning on partitions.
source "$(dirname "$0")/lib.sh"
L="$T/data/lake"
for h in 13 14 15; do
  mkdir -p "$L/2020/05/14/$h"
  for t in FB SQ; do
    printf '{"name":"%s","high":%s.5,"ts":"2020-05-14 %s:30:00-04:00"}\n' "$t" "$h" "$((h - 4))"
  done >"$L/2020/05/14/$h/obj"
done
fs crawl --table stocks >/dev/null

# plain SQL works without touching the lake
assert_eq "$(fs query --format csv 'SELECT 40 + 2 AS answer')" '"answer"
"42"'
# argument, -f and stdin give the same answer
q="SELECT name, max(high) FROM finance.stocks GROUP BY name ORDER BY 2 DESC, 1 LIMIT 1"
a=$(fs query --format csv "$q")
assert_eq "$a" '"name","_col1"
"FB","15.5"' "argument"
echo "$q;" >"$T/q.sql"
assert_eq "$(fs query --format csv -f "$T/q.sql")" "$a" "-f FILE"
assert_eq "$(echo "$q" | fs query --format csv)" "$a" "stdin"

# table form: aligned, with a row count
tbl=$(fs query --format table "SELECT name, count(*) AS n FROM finance.stocks GROUP BY 1 ORDER BY 1")
assert_eq "$tbl" 'name | n
-----+--
FB   | 3
SQ   | 3
(2 rows)' "table output"

# JSON: one object per row, numbers as numbers, NULL as null
js=$(fs query --format json "SELECT 'FB' AS name, CAST(1.5 AS double) AS high, NULL AS low, 7 AS n")
assert_eq "$js" '{"name":"FB","high":1.5,"low":null,"n":7}' "json output"

# Athena's CSV under results/ with metadata
fs query --save --format csv "SELECT name, high FROM finance.stocks WHERE partition_3 = '14' ORDER BY 1" >/dev/null 2>"$T/err"
f=$(ls "$T/data/results/"*.csv)
assert_eq "$(cat "$f")" '"name","high"
"FB","14.5"
"SQ","14.5"' "saved CSV"
m=$(cat "$f.metadata")
assert_contains "$m" '"rows": 2'
assert_contains "$m" "\"data_scanned_bytes\": $(wc -c <"$L/2020/05/14/14/obj")" "only hour 14 was read"
assert_contains "$m" "WHERE partition_3 = '14'"

# pruning, as DuckDB's profile shows it
plan=$(fs query --format csv "EXPLAIN ANALYZE SELECT count(*) FROM finance.stocks WHERE partition_3 = '15'")
assert_contains "$plan" "Scanning Files: 1/3" "partition predicate prunes objects"

# SQL errors: DuckDB's message with the position, status 1
set +e
fs query "SELECT nme FROM finance.stocks" >/dev/null 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "SQL error status"
assert_contains "$(cat "$T/err")" 'Referenced column "nme" not found'
assert_contains "$(cat "$T/err")" "LINE 1: SELECT nme FROM finance.stocks"
assert_eq "$(grep -c '^LINE 1:' "$T/err")" 1 "the position is shown once"
set +e
fs query "SELECT * FROM finance.nosuch" >/dev/null 2>"$T/err"; rc=$?
fs query --format xml "SELECT 1" >/dev/null 2>&1; rc2=$?
set -e
assert_eq "$rc" 1 "missing table status"
assert_contains "$(cat "$T/err")" "Table with name nosuch does not exist"
assert_eq "$rc2" 2 "bad --format is a usage error"
echo "query_cli: ok"
