# cli_interrupt.sh - Ctrl-C and SIGTERM end commands within a second, during back-off
# sleeps, a transfer that hangs, a long query and a following delivery, keeping what was
# acknowledged; an unreachable endpoint fails at once with one line, not a retry per
# ticker. Loopback only: a refused port, and a local server that accepts and never answers.
source "$(dirname "$0")/lib.sh"

# Starts "$@" in the background with stderr to $T/err; sets pid.
start() { "$@" 2>"$T/err" >"$T/out" & pid=$!; }
# Waits until file $1 contains $2 (deadline 60 s).
wait_for() {
  for _ in $(seq 600); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "waited for [$2] in $1: $(cat "$1" 2>/dev/null)"
}
# Sends signal $1 to $pid and checks it is gone within 1.5 s with exit status $2.
stop_within() {
  local t0 rc
  t0=$(date +%s%N)
  kill -"$1" "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.01; done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "$3: still running ${ms} ms after SIG$1"; }
  set +e; wait "$pid"; rc=$?; set -e
  [ "$ms" -le 1500 ] || fail "$3: took ${ms} ms to stop after SIG$1"
  assert_eq "$rc" "$2" "$3: exit status after SIG$1"
}

# 1. A refused connection: one clear line, no retries, for any number of tickers.
port_file="$T/port"
python3 - "$port_file" <<'EOF' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
open(sys.argv[1], "w").write(str(port))
EOF
wait
refused="http://127.0.0.1:$(cat "$port_file")"
t0=$(date +%s)
set +e
fs run -q --source yahoo --yahoo-url "$refused" --tickers AAPL,MSFT,GOOG,AMZN,TSLA --retries 5 2>"$T/run.err" >/dev/null
rc=$?
set -e
assert_eq "$rc" 1 "run against a refused port fails"
[ $(( $(date +%s) - t0 )) -le 5 ] || fail "run against a refused port took more than 5 s"
assert_eq "$(grep -c . "$T/run.err")" 1 "one line of error: $(cat "$T/run.err")"
assert_contains "$(cat "$T/run.err")" "AAPL" "the line names the first ticker"
grep -q "retry" "$T/run.err" && fail "a refused connection was retried: $(cat "$T/run.err")"

# 2. A server that accepts and never answers: Ctrl-C ends the transfer.
python3 - "$T/hang.port" <<'EOF' &
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
EOF
hang_pid=$!
trap 'kill $hang_pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/hang.port" ] && break; sleep 0.1; done
start "$FIN_BIN" --data-dir "$T/data" collect --source yahoo --yahoo-url "http://127.0.0.1:$(cat "$T/hang.port")" \
  --tickers AAPL --timeout 60s --out "$T/bars.json"
sleep 0.5
stop_within INT 130 "collect waiting for an answer"

# 3. During back-off sleeps: a server that answers 503 every time, long back-off.
python3 "$(dirname "$0")/fake_yahoo.py" --port-file "$T/fy.port" --log "$T/requests" &
fy_pid=$!
trap 'kill $hang_pid $fy_pid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s "$T/fy.port" ] && break; sleep 0.1; done
start "$FIN_BIN" --data-dir "$T/data" collect --source yahoo --yahoo-url "http://127.0.0.1:$(cat "$T/fy.port")" \
  --tickers DOWN --retries 5 --backoff 20s --backoff-max 60s --out "$T/bars.json"
wait_for "$T/err" "retry 1 of 5"
stop_within TERM 143 "collect in a back-off sleep"

# 4. A long query: DuckDB is interrupted.
start "$FIN_BIN" --data-dir "$T/data" query "SELECT count(*) FROM range(0, 40000000000) t(i) WHERE i % 7 = 3"
sleep 1
stop_within INT 130 "a long query"
assert_contains "$(cat "$T/err")" "nterrupted" "the query says it was interrupted"

# 5. A following delivery: SIGTERM flushes what it holds and stops.
sed -i 's/^buffer_interval .*/buffer_interval = 1s/' "$T/data/finstream.ini"
fs collect --tickers FB,NFLX --date 2020-05-14 --to stream:stocks -q
start "$FIN_BIN" --data-dir "$T/data" deliver
wait_for "$T/err" "flush"
fs collect --tickers SHOP --date 2020-05-14 --to stream:stocks -q
sleep 0.3
stop_within TERM 0 "a following delivery (stopped as it should be)"
n=$(cat "$T"/data/lake/*/*/*/*/* | grep -c '"name"')
assert_eq "$n" 1170 "every acknowledged record delivered once"
echo "cli_interrupt: ok"
