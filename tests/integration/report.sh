# finstream report end to end: the simulated classic day collected into a lake folder,
# then the report; the charts decode to the expected size, the page links only files that
# exist, and its hourly-high table holds the answer computed here with awk from the
# collector's own output. Then the real Firehose objects against Athena's answer.
source "$(dirname "$0")/lib.sh"

# PNG signature and IHDR size: prints "WIDTHxHEIGHT".
png_size() {
  local sig
  sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
  [ "$sig" == "89504e470d0a1a0a" ] || fail "$1: not a PNG (signature $sig)"
  local w h
  w=$(od -An -tu1 -j16 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  h=$(od -An -tu1 -j20 -N4 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4}')
  echo "${w}x${h}"
}

# Every src= and href= of a page names a file beside it.
assert_links() {
  local dir n=0
  dir=$(dirname "$1")
  for f in $(grep -o -E '(src|href)="[^"]*"' "$1" | sed -E 's/^(src|href)="//; s/"$//'); do
    [ -f "$dir/$f" ] || fail "$1 references $f, which does not exist"
    n=$((n + 1))
  done
  [ "$n" -gt 0 ] || fail "$1 references no files"
  echo "$n"
}

# The hourly-high table row of a ticker (one line per row).
table_row() { grep -F "<tr><td class=\"t\">$2</td>" "$1" | tail -1; }

# ---- the simulated classic day ----------------------------------------------------------
mkdir -p "$T/data/lake/2020/05/14/20"
fs collect --out "$T/data/lake/2020/05/14/20/classic.json" 2>/dev/null
records=$(wc -l < "$T/data/lake/2020/05/14/20/classic.json")
[ "$records" -gt 3000 ] || fail "collector wrote only $records records"

out=$(fs report)
commas=$(sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta' <<<"$records")
assert_contains "$out" "4 charts  10 tickers  $commas bars on 2020-05-14" "summary"
R="$T/data/reports/2020-05-14"
[ -f "$R/index.html" ] || fail "no index.html in $R"
assert_eq "$(png_size "$R/range.png")" "1100x460" "range chart size (10 tickers)"
assert_eq "$(png_size "$R/series-FB.png")" "1100x560" "FB chart size"
assert_eq "$(png_size "$R/series-NFLX.png")" "1100x560" "NFLX chart size"
assert_eq "$(png_size "$R/hourly.png")" "1100x600" "hourly chart size"
for f in range series-FB series-NFLX hourly; do
  head -c 200 "$R/$f.svg" | grep -q '<svg' || fail "$f.svg is not SVG"
  [ "$(stat -c %s "$R/$f.png")" -gt 20000 ] || fail "$f.png is suspiciously small"
done
assert_eq "$(assert_links "$R/index.html")" 12 "links on the page"

# The hourly highs, computed independently from the records: max high per ticker and
# local hour (characters 12-13 of ts), formatted as the page shows them.
awk -F'"' '{
    for (i = 2; i < NF; i += 2) {
      if ($i == "name") name = $(i + 2)
      if ($i == "ts") hour = substr($(i + 2), 12, 2)
      if ($i == "high") { v = $(i + 1); sub(/^:/, "", v); sub(/,.*/, "", v); high = v + 0 }
    }
    k = name " " hour
    if (!(k in mx) || high > mx[k]) mx[k] = high
  } END { for (k in mx) { split(k, a, " "); printf "%s %s %.2f\n", a[1], a[2], mx[k] } }' \
  "$T/data/lake/2020/05/14/20/classic.json" | sort > "$T/expected.txt"
assert_eq "$(wc -l < "$T/expected.txt")" 70 "ticker-hours in the classic day"
check_hourly_table() {
  while read -r name hour high; do
    row=$(table_row "$1" "$name")
    [ -n "$row" ] || fail "$1: no table row for $name"
    grep -qF ">$high<small>$hour:" <<<"$row" || fail "$1: $name hour $hour: $high not in the table row"
  done < "$T/expected.txt"
}
check_hourly_table "$R/index.html"

# Once the lake is crawled, the report reads the catalog table through the query engine
# by default, and the page's table is the engine's answer to the hourly-high query.
fs crawl --table stocks >/dev/null 2>&1
rm -rf "$R"
out=$(fs report)
assert_contains "$out" "bars on 2020-05-14 from table finance.stocks" "report from the table"
assert_eq "$(png_size "$R/range.png")" "1100x460" "range chart size from the table"
assert_links "$R/index.html" >/dev/null
check_hourly_table "$R/index.html"
assert_contains "$(cat "$R/index.html")" "GROUP BY name, substring(ts, 12, 2)" "the query on the page"
assert_contains "$(fs report --from "$T/data/lake" --out "$T/r1")" "from folder" "--from still reads the folder"

# A second day in the lake: the latest is the default, the other one on request.
mkdir -p "$T/data/lake/2020/05/13/20"
fs collect --date 2020-05-13 --out "$T/data/lake/2020/05/13/20/classic.json" 2>/dev/null
fs crawl --table stocks >/dev/null 2>&1
assert_contains "$(fs report --out "$T/r5")" "10 tickers  $commas bars on 2020-05-14 from table" "latest day"
assert_contains "$(fs report --date 2020-05-13 --out "$T/r6")" "bars on 2020-05-13 from table" "chosen day"
assert_links "$T/r6/index.html" >/dev/null

# Chosen tickers, any case; one that is not there is named.
fs report --tickers shop,FB,ZZZZ --out "$T/r2" >"$T/out2" 2>"$T/err2"
[ -f "$T/r2/series-SHOP.png" ] && [ -f "$T/r2/series-FB.png" ] || fail "chosen series missing"
[ ! -e "$T/r2/series-NFLX.png" ] || fail "NFLX drawn although not chosen"
assert_contains "$(cat "$T/err2")" "ZZZZ" "missing ticker named"
assert_links "$T/r2/index.html" >/dev/null

# Errors: a day without data, a folder that is not there, a bad option.
set +e
fs report --date 2020-05-15 >/dev/null 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "exit code for a day without data"
assert_contains "$(cat "$T/err")" "2020-05-14" "the days there are"
fs report --from "$T/nowhere" >/dev/null 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "exit code for a missing folder"
assert_contains "$(cat "$T/err")" "nowhere"
fs report --frobnicate >/dev/null 2>&1; rc=$?
assert_eq "$rc" 2 "exit code for a bad option"
fs report --table finance.nope >/dev/null 2>"$T/err"; rc=$?
assert_eq "$rc" 1 "exit code for a table that is not there"
assert_contains "$(cat "$T/err")" "tables: finance.stocks" "the tables there are"
fs report --table finance.stocks --from "$T" >/dev/null 2>&1; rc=$?
assert_eq "$rc" 2 "--table and --from together"
set -e

# ---- the real Firehose objects -----------------------------------------------------------
skip_without_shared
F="$FIN_SHARED_DATA/firehose/2020-05-14-ndjson-offset"
fs report --from "$F/objects" --out "$T/r3" >/dev/null
assert_eq "$(png_size "$T/r3/range.png")" "1100x460" "fixture range chart"
assert_links "$T/r3/index.html" >/dev/null
n=0
while IFS=, read -r stock hour high datetime; do
  stock=${stock//\"/}; hour=${hour//\"/}; high=${high//\"/}; datetime=${datetime//\"/}
  [ "$stock" == "Stock" ] && continue
  row=$(table_row "$T/r3/index.html" "$stock")
  cell=$(printf '>%.2f<small>' "$high")
  grep -qF "$cell" <<<"$row" || fail "Athena row $stock $hour $high: not in the table"
  grep -qF "${datetime:11:5}" <<<"$row" || fail "Athena row $stock $hour: minute ${datetime:11:5} not shown"
  n=$((n + 1))
done < "$F/athena-results.csv"
assert_eq "$n" 87 "Athena rows checked"

# The same objects crawled in place into this data directory's catalog, through SQL.
fs crawl --table fixture "$F/objects" >/dev/null 2>&1
fs report --table finance.fixture --out "$T/r4" >/dev/null
n=0
while IFS=, read -r stock hour high datetime; do
  stock=${stock//\"/}; hour=${hour//\"/}; high=${high//\"/}; datetime=${datetime//\"/}
  [ "$stock" == "Stock" ] && continue
  row=$(table_row "$T/r4/index.html" "$stock")
  grep -qF "$(printf '>%.2f<small>' "$high")" <<<"$row" || fail "via SQL: Athena row $stock $hour $high not in the table"
  grep -qF "${datetime:11:5}" <<<"$row" || fail "via SQL: $stock $hour: minute ${datetime:11:5} not shown"
  n=$((n + 1))
done < "$F/athena-results.csv"
assert_eq "$n" 87 "Athena rows checked via SQL"
echo "report: ok"
