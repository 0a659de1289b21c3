# finstream run: every stage's counts, the answer against one computed independently from
# the collector's own output, a second run that adds nothing, and the real Firehose day.
source "$(dirname "$0")/lib.sh"

fs run --no-report 2>"$T/err1" || { cat "$T/err1"; fail "first run failed"; }
cat "$T/err1"
assert_contains "$(cat "$T/err1")" "collect   3,900 records  10 tickers  2020-05-14 1m  sim" "collect line"
assert_contains "$(cat "$T/err1")" "stream    3,900 appended to stocks (2 shards)" "stream line"
assert_contains "$(cat "$T/err1")" "deliver   3,900 records  1 object" "deliver line"
assert_contains "$(cat "$T/err1")" "crawl     table finance.stocks" "crawl line"
[ -f "$T/data/finstream.ini" ] || fail "run did not write finstream.ini"
assert_eq "$(find "$T/data/lake" -type f | wc -l)" 1 "objects in the lake"
assert_eq "$(cat $(find "$T/data/lake" -type f) | wc -l)" 3900 "records in the lake"
assert_eq "$(fs stream get stocks 2>/dev/null | wc -l)" 3900 "records in the stream"
first=$(ls "$T/data/results/"*.csv)

# The same answer, computed from the collector's own output by other code.
fs collect --to stdout >"$T/day.json" 2>/dev/null
python3 - "$T/day.json" "$first" <<'PY'
import csv, json, sys, collections
best = collections.defaultdict(lambda: (None, []))
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = (r["name"], r["ts"][11:13])
    high, minutes = best[key]
    if high is None or r["high"] > high:
        best[key] = (r["high"], [r["ts"][:19]])
    elif r["high"] == high:
        minutes.append(r["ts"][:19])
want = [[n, h, repr(float(v)), m] for (n, h), (v, ms) in sorted(best.items()) for m in sorted(ms)]
rows = list(csv.reader(open(sys.argv[2])))
assert rows[0] == ["Stock", "Hour", "Hourly_High", "Datetime"], rows[0]
got = rows[1:]
assert len(got) == len(want), (len(got), len(want))
for g, w in zip(got, want):
    assert g == w, (g, w)
print("hourly high: %d rows agree" % len(got))
PY
grep -q '^"Stock","Hour","Hourly_High","Datetime"$' "$first" || fail "Athena CSV header"

# A second run for the same window adds nothing anywhere.
fs run --no-report 2>"$T/err2" || { cat "$T/err2"; fail "second run failed"; }
assert_contains "$(cat "$T/err2")" "collect   0 records" "second collect"
assert_contains "$(cat "$T/err2")" "deliver   0 records  0 objects" "second deliver"
assert_eq "$(find "$T/data/lake" -type f | wc -l)" 1 "objects after the second run"
assert_eq "$(fs stream get stocks 2>/dev/null | wc -l)" 3900 "stream after the second run"
second=$(ls -t "$T/data/results/"*.csv | head -1)
cmp -s "$first" "$second" || fail "the second run's answer differs"

# The report: every file the page names exists, and the charts are PNGs of a real size.
fs run 2>"$T/err3" || { cat "$T/err3"; fail "run with the report failed"; }
page="$T/data/reports/2020-05-14/index.html"
[ -f "$page" ] || fail "no report page"
for f in $(grep -o 'src="[^"]*"' "$page" | sed 's/src="//; s/"$//') $(grep -o 'href="[^"#]*"' "$page" | sed 's/href="//; s/"$//'); do
  case "$f" in http*|/*) continue;; esac
  [ -e "$T/data/reports/2020-05-14/$f" ] || fail "the page names $f, which does not exist"
done
for png in "$T/data/reports/2020-05-14/"*.png; do
  python3 - "$png" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", sys.argv[1]
w, h = struct.unpack(">II", b[16:24])
assert w >= 600 and h >= 300, (sys.argv[1], w, h)
PY
done

# The real Firehose day replayed through the whole pipeline gives Athena's answer.
if [ -d "${FIN_SHARED_DATA:-}/firehose/2020-05-14-ndjson-offset" ]; then
  d="$FIN_SHARED_DATA/firehose/2020-05-14-ndjson-offset"
  "$FIN_BIN" --data-dir "$T/real" run --no-report --source "replay:$d/objects" 2>"$T/err4" \
    || { cat "$T/err4"; fail "run on the real day failed"; }
  cmp "$(ls "$T/real/results/"*.csv)" "$d/athena-results.csv" || fail "the real day's answer differs from Athena's"
  "$FIN_BIN" --data-dir "$T/real" run --no-report --source "replay:$d/objects" 2>"$T/err5"
  assert_contains "$(cat "$T/err5")" "collect   0 records" "a replayed object is sent once"
else
  echo "shared data folder not found: skipping the real-day run"
fi
echo "run_pipeline: ok"
