#!/usr/bin/env bash
# The console in a real browser: headless Chromium from Debian driven by puppeteer-core
# (both installed by scripts/console-test-deps.sh; skipped with a message when they
# cannot be). Screenshots go to $FIN_CONSOLE_SHOTS when set (docs/images for the docs).
source "$(dirname "$0")/lib.sh"
# The page is the same in every build; the server under the sanitizers is covered by
# console_api. One browser run (in the release build) keeps CI time down.
if grep -q '^FIN_SANITIZE:BOOL=ON' "${FIN_BUILD:-.}/CMakeCache.txt" 2>/dev/null; then
  echo "sanitizer build: the browser test runs in the release build only; skipping"
  exit 0
fi
if ! chromium=$(bash "$FIN_SRC/scripts/console-test-deps.sh"); then
  echo "chromium or puppeteer-core cannot be installed here: skipping the browser test"
  exit 0
fi
fs run >/dev/null 2>"$T/run.err" || { cat "$T/run.err"; fail "finstream run"; }
sql="SELECT name, substring(ts, 12, 2) AS hour, high, ts
FROM (
  SELECT name, ts, high,
         row_number() OVER (PARTITION BY name, substring(ts, 12, 2)
                            ORDER BY high DESC) AS rn
  FROM finance.stocks
)
WHERE rn = 1
ORDER BY name, hour"
fs query --format csv "$sql" >"$T/expected.csv" 2>"$T/q.err" || { cat "$T/q.err"; fail "query"; }
"$FIN_BIN" --data-dir "$T/data" console --listen 127.0.0.1:0 >"$T/console.out" 2>"$T/console.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 300); do grep -q "console on" "$T/console.out" && break; sleep 0.1; done
url=$(sed -n 's/^console on //p' "$T/console.out")
[ -n "$url" ] || { cat "$T/console.err"; fail "console did not start"; }
shots=${FIN_CONSOLE_SHOTS:-$T/shots}
mkdir -p "$shots"
CONSOLE_URL=$url CHROMIUM=$chromium SHOTS=$shots EXPECTED=$T/expected.csv \
  NODE_PATH="$FIN_SRC/third_party/npm-console/node_modules" \
  node "$FIN_SRC/tests/integration/console/browser.js" || { tail -60 "$T/console.err"; fail "browser test"; }
echo "screenshots in $shots"
