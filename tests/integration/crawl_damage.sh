# What the crawler cannot read whole, and keys spelled in several cases, through the binary:
# a truncated gzip object is reported by name and queries of its table fail naming it
# until it is replaced; "High" and "high" in different objects are one column that the
# query reads from every object; warnings are summarised per table unless -v.
source "$(dirname "$0")/lib.sh"
L="$T/data/lake/stocks"
mkdir -p "$L/2020/05/14/13" "$L/2020/05/14/14"
python3 - "$L" <<'PY'
import gzip, sys
root = sys.argv[1]
text = "".join('{"name":"FB","high":%d.5}\n' % i for i in range(7800)).encode()
z = gzip.compress(text)
open(root + "/2020/05/14/13/whole", "wb").write(z)
open(root + "/2020/05/14/14/cut", "wb").write(z[: len(z) // 2])
PY
fs crawl --table stocks "$L" >"$T/out" 2>"$T/err" || fail "crawl failed: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "2020/05/14/14/cut: damaged object, not read: gzip data is truncated"
assert_contains "$(cat "$T/out")" "1 damaged object: queries of its table fail until it is replaced"
set +e
fs query "SELECT count(*) FROM finance.stocks" >"$T/qout" 2>"$T/qerr"; rc=$?
set -e
assert_eq "$rc" 1 "query of a table with a damaged object"
assert_contains "$(cat "$T/qerr")" "table finance.stocks has 1 damaged object, so an answer would be incomplete"
assert_contains "$(cat "$T/qerr")" "2020/05/14/14/cut (gzip data is truncated"
# other tables still answer
mkdir -p "$T/data/lake/other"
printf '{"name":"SQ","high":1}\n' >"$T/data/lake/other/o1"
fs crawl --table other "$T/data/lake/other" >/dev/null 2>&1
assert_eq "$(fs query --format csv "SELECT count(*) AS n FROM finance.other")" '"n"
"1"' "a sound table beside a damaged one"
# replaced: the table answers in full
mv "$L/2020/05/14/14/cut" "$T/cut.gz"
fs crawl --table stocks "$L" >"$T/out" 2>"$T/err" || fail "re-crawl failed: $(cat "$T/err")"
assert_eq "$(fs query --format csv "SELECT count(*) AS n FROM finance.stocks")" '"n"
"7800"' "rows once the damaged object is gone"

# keys in several cases across objects: one column, read from every object
C="$T/data/lake/mixed"
mkdir -p "$C"
printf '{"Name":"FB","High":202.83}\n' >"$C/a"
printf '{"name":"SQ","high":80.5}\n{"NAME":"SQ","HIGH":NaN}\nnot json\n' >"$C/b"
printf '\xef\xbb\xbf{"name":"TTD","High":300.25}\n' >"$C/c"
printf 'x\n' | iconv -f utf-8 -t utf-16 >"$C/d"
printf 'y\n' | iconv -f utf-8 -t utf-16 >"$C/e"
fs crawl --table mixed "$C" >"$T/out" 2>"$T/err" || fail "crawl of mixed failed: $(cat "$T/err")"
assert_eq "$(grep -c UTF-16 "$T/err")" 1 "UTF-16 objects reported once"
assert_contains "$(cat "$T/err")" "finance.mixed: 2 objects are UTF-16 text"
assert_contains "$(fs catalog show mixed)" "high                 double"
fs crawl -v --table mixed "$C" >/dev/null 2>"$T/err" || true
mv "$C/d" "$C/e" "$T/"
fs crawl --table mixed "$C" >/dev/null 2>&1
assert_eq "$(fs query --format csv "SELECT name, high FROM finance.mixed WHERE name IS NOT NULL ORDER BY name, high")" '"name","high"
"FB","202.83"
"SQ","80.5"
"SQ",
"TTD","300.25"' "every spelling of a key read"
echo "crawl_damage: ok"
