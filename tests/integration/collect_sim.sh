# finstream collect on the simulator: the classic day, invariants, offsets, determinism,
# fields, files, the ini section, and clear errors for bad options.
source "$(dirname "$0")/lib.sh"

fs collect >"$T/day.json" 2>"$T/err"
assert_eq "$(wc -l <"$T/day.json")" 3900 "classic day record count"
assert_contains "$(cat "$T/err")" "collect   3,900 records  10 tickers  2020-05-14 1m  sim" "summary line"
python3 - "$T/day.json" <<'PY'
import json, sys, collections
counts = collections.Counter()
for n, line in enumerate(open(sys.argv[1]), 1):
    r = json.loads(line)
    assert set(r) == {"name", "ts", "open", "high", "low", "close", "volume"}, (n, r)
    assert r["low"] <= r["open"] <= r["high"] and r["low"] <= r["close"] <= r["high"], (n, r)
    assert r["volume"] > 0 and isinstance(r["volume"], int), (n, r)
    assert r["ts"].startswith("2020-05-14 ") and r["ts"].endswith("-04:00"), (n, r)
    assert "09:30" <= r["ts"][11:16] <= "15:59", (n, r)
    counts[r["name"]] += 1
assert counts == {t: 390 for t in "FB SHOP BYND NFLX PINS SQ TTD OKTA SNAP DDOG".split()}, counts
PY

# Same seed, same bytes; another seed, other bytes.
fs collect 2>/dev/null | cmp -s - "$T/day.json" || fail "same seed gave different bytes"
fs collect --seed 7 2>/dev/null | cmp -s - "$T/day.json" && fail "another seed gave the same bytes"

# December: standard time.
out=$(fs collect --date 2020-12-14 --tickers FB --interval 1h 2>/dev/null)
assert_eq "$(wc -l <<<"$out")" 7 "hourly bars in a day"
assert_contains "$(head -1 <<<"$out")" '"ts":"2020-12-14 09:30:00-05:00"' "December offset"

# The classic four fields, in order; a window by start and end; a file sink.
fs collect --fields high,low,ts,name --tickers NFLX --start "2020-05-14 10:00" --end "2020-05-14 10:05" \
  --out "$T/four.json" 2>/dev/null
assert_eq "$(wc -l <"$T/four.json")" 5 "five minutes"
grep -Eq '^\{"high":[0-9.]+,"low":[0-9.]+,"ts":"2020-05-14 10:00:00-04:00","name":"NFLX"\}$' "$T/four.json" \
  || fail "classic four fields: $(head -1 "$T/four.json")"

# A weekend has no bars.
assert_eq "$(fs collect --date 2020-05-16 2>/dev/null | wc -l)" 0 "Saturday"

# Settings from finstream.ini.
mkdir -p "$T/data"
cat >"$T/data/finstream.ini" <<'INI'
[collector "mine"]
tickers  = AAPL,MSFT
interval = 5m
INI
assert_eq "$(fs collect 2>/dev/null | wc -l)" 156 "ini section applied"
echo 'colour = blue' >>"$T/data/finstream.ini"
set +e
fs collect 2>"$T/err" >/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "unknown key exit code"
assert_contains "$(cat "$T/err")" "finstream.ini:4" "unknown key names the line"
assert_contains "$(cat "$T/err")" "colour" "unknown key names the key"
rm "$T/data/finstream.ini"

# Usage errors name what was wrong.
for bad in "--interval 2m" "--source carrier-pigeon" "--date 2020-02-30" "--tickers A/B" "--fields name,colour"; do
  set +e
  fs collect $bad >/dev/null 2>"$T/err"; rc=$?
  set -e
  assert_eq "$rc" 2 "exit code for $bad"
  [ -s "$T/err" ] || fail "no message for $bad"
done
# Into a stream: a repeated window adds nothing; a new day adds its bars.
fs collect --to stream:stocks 2>"$T/err"
assert_contains "$(cat "$T/err")" "3,900 records" "first run into a stream"
fs collect --to stream:stocks 2>"$T/err"
assert_contains "$(cat "$T/err")" "0 records" "repeated run adds nothing"
assert_contains "$(cat "$T/err")" "3900 seen before" "repeated run says why"
fs collect --to stream:stocks --date 2020-05-15 --tickers FB 2>/dev/null
assert_eq "$(fs stream get stocks 2>/dev/null | wc -l)" 4290 "records in the stream"
echo "collect_sim: ok"
