# finstream crawl and finstream catalog through the binary: a lake with every framing and
# format, bad lines reported by object and line, re-crawl, list/show/ddl.
source "$(dirname "$0")/lib.sh"
L="$T/data/lake"
mkdir -p "$L/2020/05/14/13" "$L/2020/05/14/14" "$L/errors/format-conversion-failed"
printf '{"Name":"FB","High":202.83,"ts":"2020-05-14 09:30:00-04:00"}\r\n{"Name":"FB","High":NaN,"ts":"2020-05-14 09:31:00-04:00"}\r\nnot json at all\n{"Name":"SQ","High":80}' >"$L/2020/05/14/13/stocks-1"
printf '{"Name":"SQ","High":81.5,"volume":10}{"Name":"SQ","High":82}' | gzip >"$L/2020/05/14/14/stocks-2"
printf '{"rawData":"x","errorCode":"E"}\n' >"$L/errors/format-conversion-failed/e1"

fs crawl --table stocks >"$T/out" 2>"$T/err" || fail "crawl failed: $(cat "$T/err")"
assert_contains "$(cat "$T/out")" "table finance.stocks  4 columns  2 partitions  2 objects  json/mixed"
assert_contains "$(cat "$T/out")" "table finance.errors  2 columns  1 partition  1 objects"
assert_contains "$(cat "$T/out")" "1 bad"
assert_contains "$(cat "$T/err")" "lake/2020/05/14/13/stocks-1:3: record is not a JSON object"

show=$(fs catalog show stocks)
assert_contains "$show" "high                 double   (key \"High\")"
assert_contains "$show" "volume               bigint"
assert_contains "$show" "ts                   string"
assert_contains "$show" "partition_3          string"
assert_contains "$show" "compression     mixed"
assert_contains "$(fs catalog show stocks --partitions)" "partition_0=2020 partition_1=05 partition_2=14 partition_3=14"
assert_contains "$(fs catalog list)" "finance.stocks  json/mixed  4 columns  4 partition keys  2 partitions  "

ddl=$(fs catalog ddl finance.stocks --location s3://my-bucket/lake/)
assert_contains "$ddl" 'CREATE EXTERNAL TABLE `finance`.`stocks` ('
assert_contains "$ddl" "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"
assert_contains "$ddl" "'mapping.high' = 'High'"
assert_contains "$ddl" '  `partition_3` string'
assert_contains "$ddl" "LOCATION 's3://my-bucket/lake/'"

# the mixed table reads: gzip objects (no .gz name) beside plain ones, NaN as NULL,
# the unparseable line as a row of NULLs
assert_eq "$(fs query --format csv "SELECT name, high, partition_3 FROM finance.stocks
                                   WHERE name IS NOT NULL ORDER BY partition_3, name, high")" '"name","high","partition_3"
"FB","202.83","13"
"FB",,"13"
"SQ","80.0","13"
"SQ","81.5","14"
"SQ","82.0","14"' "mixed gzip and plain objects"

# the catalog file is JSON and was replaced atomically (no temporary left behind)
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/data/catalog/catalog.json" || fail "catalog is not JSON"
[ "$(ls "$T/data/catalog")" == "catalog.json" ] || fail "stray files in catalog/: $(ls "$T/data/catalog")"

# re-crawl: a new hour with a new column; nothing dropped, old objects not re-read
mkdir -p "$L/2020/05/14/15"
printf '{"name":"TTD","high":300.25,"low":299.5}\n' >"$L/2020/05/14/15/stocks-3"
fs crawl --table stocks >"$T/out" 2>"$T/err" || fail "re-crawl failed"
assert_contains "$(cat "$T/out")" "4 objects seen, 1 sampled"
assert_contains "$(cat "$T/out")" "1 partitions and 1 columns added"
assert_contains "$(fs catalog show stocks)" "low                  double"
assert_contains "$(fs catalog show stocks)" "volume               bigint"

# Parquet and CSV tables beside each other in a bucket-like folder, gzip without a suffix
B="$T/bucket"
mkdir -p "$B/bars/dt=2020-05-14" "$B/bars/dt=2020-05-15" "$B/quotes" "$B/zipped/2020/05/14/13"
fs query "COPY (SELECT 'FB' AS Name, CAST(202.83 AS DOUBLE) AS High, 7::BIGINT AS Volume)
          TO '$B/bars/dt=2020-05-14/part-0' (FORMAT parquet)" >/dev/null
fs query "COPY (SELECT 'SQ' AS Name, CAST(80.5 AS DOUBLE) AS High, 9::BIGINT AS Volume)
          TO '$B/bars/dt=2020-05-15/part-0' (FORMAT parquet)" >/dev/null
printf 'Sym,Px,Note\nFB,1.5,"a, b"\n"S""Q",2,\n' >"$B/quotes/q.csv"
printf '{"name":"FB","high":1.25}\n{"name":"SQ","high":2.5}\n' | gzip >"$B/zipped/2020/05/14/13/obj"
fs crawl --database market "$B" >"$T/out" 2>"$T/err" || fail "bucket crawl failed: $(cat "$T/err")"
assert_contains "$(cat "$T/out")" "table market.bars  3 columns  2 partitions  2 objects  parquet"
assert_contains "$(cat "$T/out")" "table market.quotes  3 columns  0 partitions  1 objects  csv"
assert_contains "$(cat "$T/out")" "table market.zipped  2 columns  1 partition  1 objects  json/lines"
assert_contains "$(fs catalog show market.bars)" "high                 double   (key \"High\")"
assert_contains "$(fs catalog show market.bars)" "volume               bigint"
assert_contains "$(fs catalog show market.zipped)" "compression     gzip"
assert_eq "$(fs query --format csv "SELECT name, high, volume, dt FROM market.bars ORDER BY dt")" '"name","high","volume","dt"
"FB","202.83","7","2020-05-14"
"SQ","80.5","9","2020-05-15"' "Parquet table with key=value partitions"
assert_eq "$(fs query --format csv "SELECT * FROM market.quotes ORDER BY sym")" '"sym","px","note"
"FB","1.5","a, b"
"S""Q","2.0",' "CSV table"
assert_eq "$(fs query --format csv "SELECT name, high FROM market.zipped ORDER BY 1")" '"name","high"
"FB","1.25"
"SQ","2.5"' "gzip objects without a .gz name"
assert_contains "$(fs catalog ddl market.bars)" "STORED AS PARQUET"

# usage errors and missing things
set +e
fs crawl "$T/nowhere" 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "crawl of a missing folder"
assert_contains "$(cat "$T/err")" "nowhere"
set +e
fs catalog show nosuch 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "show of a missing table"
assert_contains "$(cat "$T/err")" "no table 'nosuch'"
set +e
fs catalog frob 2>/dev/null; rc=$?
set -e
assert_eq "$rc" 2 "unknown catalog verb"
echo "crawl_cli: ok"
