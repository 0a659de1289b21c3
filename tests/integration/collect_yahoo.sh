# collect_yahoo.sh - finstream collect --source yahoo against a local stand-in for the chart
# API (fake_yahoo.py): records per ticker, offsets in May and December, null bars, and
# every failure case with its message and the exit code.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 not found: skipping"; exit 0; }

python3 "$(dirname "$0")/fake_yahoo.py" --port-file "$T/port" --log "$T/requests" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "the local chart server did not start"
URL="http://127.0.0.1:$(cat "$T/port")"
yahoo() { fs collect --source yahoo --yahoo-url "$URL" --backoff 10ms --backoff-max 50ms "$@"; }
per_ticker() { sed 's/^{"name":"\([^"]*\)".*/\1/' "$1" | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' '; }

# A good day: 390 one-minute bars per ticker, New York at -04:00, London at +01:00.
yahoo --tickers AAPL,NULLS,VOD.L --date 2020-05-14 --out "$T/may.json" 2>"$T/may.err" \
  || fail "collect failed: $(cat "$T/may.err")"
assert_eq "$(per_ticker "$T/may.json")" "AAPL=390 NULLS=335 VOD.L=390 " "records per ticker in May"
assert_eq "$(head -1 "$T/may.json" | cut -c1-47)" '{"name":"AAPL","ts":"2020-05-14 09:30:00-04:00"' "first bar"
assert_eq "$(grep -c -- '-04:00"' "$T/may.json")" 725 "New York bars at -04:00"
assert_eq "$(grep VOD.L "$T/may.json" | head -1 | cut -c1-48)" '{"name":"VOD.L","ts":"2020-05-14 09:30:00+01:00"' "London bar"
assert_contains "$(cat "$T/may.err")" "55 null bars skipped" "summary of null bars"
# Bar 3 of NULLS has no volume: the field is left out, not written as null.
assert_eq "$(grep NULLS "$T/may.json" | sed -n 4p | grep -c volume)" 0 "partial bar keeps no volume"
# Yahoo's digits come back as they were sent.
assert_contains "$(head -1 "$T/may.json")" '"high":200.11000061035156' "price spelling"

# December: -05:00 in New York, +00:00 in London; 5-minute bars.
yahoo --tickers AAPL,VOD.L --date 2020-12-14 --interval 5m --out "$T/dec.json" 2>"$T/dec.err" \
  || fail "collect failed: $(cat "$T/dec.err")"
assert_eq "$(per_ticker "$T/dec.json")" "AAPL=78 VOD.L=78 " "5-minute bars in December"
assert_eq "$(grep -c -- '-05:00"' "$T/dec.json")" 78 "New York bars at -05:00"
assert_eq "$(grep -c -- '+00:00"' "$T/dec.json")" 78 "London bars at +00:00"

# Daily bars over a week start at the open.
yahoo --tickers AAPL --start 2020-05-11 --end 2020-05-16 --interval 1d --out "$T/daily.json" 2>/dev/null
assert_eq "$(cut -d'"' -f8 "$T/daily.json" | tr '\n' ' ')" \
  "2020-05-11 09:30:00-04:00 2020-05-12 09:30:00-04:00 2020-05-13 09:30:00-04:00 2020-05-14 09:30:00-04:00 2020-05-15 09:30:00-04:00 " \
  "daily bars"

# Failures: each ticker fails alone, the others complete, the run exits 1.
: >"$T/requests"
set +e
yahoo --tickers RATE,DOWN,TRUNC,NOPE,HTML,EMPTY,FLAKY,AAPL --retries 3 --date 2020-05-14 \
  --out "$T/fail.json" 2>"$T/fail.err"
rc=$?
set -e
err=$(cat "$T/fail.err")
assert_eq "$rc" 1 "exit code with failed tickers"
assert_eq "$(per_ticker "$T/fail.json")" "AAPL=390 FLAKY=390 RATE=390 " "the tickers that completed"
assert_contains "$err" "yahoo: DOWN: $URL/v8/finance/chart/DOWN?period1=" "500: ticker and URL"
assert_contains "$err" "giving up after 4 attempts: HTTP 500" "500: retried, then given up"
assert_contains "$err" "yahoo: TRUNC: .*not valid JSON" "truncated JSON"
assert_contains "$err" "yahoo: NOPE: .*HTTP 404: Yahoo says Not Found: No data found, symbol may be delisted" "unknown ticker"
assert_contains "$err" "yahoo: HTML: .*an HTML page" "HTML page"
assert_contains "$err" "yahoo: EMPTY: .*empty answer" "empty answer"
assert_contains "$err" "yahoo: RATE: HTTP 429" "429 reported as a retry"
assert_contains "$err" "5 tickers failed" "summary of failed tickers"
assert_eq "$(grep -c '^DOWN 500' "$T/requests")" 4 "requests for DOWN (1 + 3 retries)"
assert_eq "$(grep -c '^NOPE' "$T/requests")" 1 "404 is not retried"
assert_eq "$(grep -c '^RATE' "$T/requests")" 2 "429 then success"
assert_eq "$(grep -c '^FLAKY' "$T/requests")" 3 "503 twice then success"

# A server that does not answer in time: timed out, retried, given up.
set +e
yahoo --tickers SLOW --timeout 200ms --retries 1 --date 2020-05-14 >/dev/null 2>"$T/slow.err"
rc=$?
set -e
assert_eq "$rc" 1 "exit code after timeouts"
assert_contains "$(cat "$T/slow.err")" "yahoo: SLOW: .*giving up after 2 attempts: timed out" "timeout message"

# A connection that drops mid-body is a network failure: retried, then given up.
set +e
yahoo --tickers CUT,AAPL --retries 2 --date 2020-05-14 --out "$T/cut.json" 2>"$T/cut.err"
rc=$?
set -e
assert_eq "$rc" 1 "exit code after cut connections"
assert_contains "$(cat "$T/cut.err")" "yahoo: CUT: .*giving up after 3 attempts: transfer closed with" "cut connection message"
assert_eq "$(per_ticker "$T/cut.json")" "AAPL=390 " "the next ticker completes"

# No server at all: a clear network error, not a crash.
set +e
fs collect --source yahoo --yahoo-url "http://127.0.0.1:1" --tickers AAPL --retries 0 >/dev/null 2>"$T/down.err"
rc=$?
set -e
assert_eq "$rc" 1 "exit code without a server"
assert_contains "$(cat "$T/down.err")" "yahoo: AAPL: http://127.0.0.1:1/v8/finance/chart/AAPL" "connection refused names the URL"
echo "collect_yahoo: ok"
