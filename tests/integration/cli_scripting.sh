# cli_scripting.sh - the command line as scripts use it: global options after the command,
# --format json on the commands that list or report, exit statuses, checked inputs, the
# simulator's calendar and tickers, a second run that reuses its answer, any ticker count
# in run and report, and the generated man page and completion.
source "$(dirname "$0")/lib.sh"
json_ok() { python3 -c 'import json,sys
for line in sys.stdin:
    json.loads(line)' || fail "$1: not JSON lines"; }

# Global options after the command, never half-applied: a bad one stops everything.
set +e
"$FIN_BIN" run --data-dir "$T/never" --log-format yaml 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 2 "a bad global option is a usage error"
[ ! -e "$T/never" ] || fail "a usage error still created the data directory"
assert_contains "$(cat "$T/err")" "--log-format is text or json" "names the option"

# A 250-ticker day: run draws the most active, the tables list all; -q after the command.
tickers=$(python3 -c 'print(",".join("T%03d" % i for i in range(210)))')
"$FIN_BIN" run --data-dir "$T/data" --tickers "$tickers" --date 2020-05-14 2>"$T/run.err"
assert_contains "$(cat "$T/run.err")" "210 tickers, the 30 most active drawn" "run draws 30 of 210"
page=$(ls "$T"/data/reports/2020-05-14/index.html)
assert_eq "$(grep -o '<td class="t">T[0-9]*</td>' "$page" | sort -u | wc -l)" 210 "every ticker in the tables"
csv_before=$(ls "$T"/data/results/*.csv | wc -l)
"$FIN_BIN" run --tickers "$tickers" --date 2020-05-14 --data-dir "$T/data" -q 2>"$T/run2.err" >"$T/run2.out"
assert_eq "$(cat "$T/run2.err" "$T/run2.out")" "" "-q after the command silences run"
assert_eq "$(ls "$T"/data/results/*.csv | wc -l)" "$csv_before" "a second run adds no second answer"
"$FIN_BIN" run --tickers "$tickers" --date 2020-05-14 --data-dir "$T/data" --no-report 2>"$T/run3.err"
assert_contains "$(cat "$T/run3.err")" "answer reused" "the reuse is said"
fs report --top 5 --out "$T/r5" >"$T/rep.out"
assert_contains "$(cat "$T/rep.out")" "210 tickers (5 drawn)" "report --top 5"
set +e
fs report --top zero --out "$T/r0" 2>/dev/null; rc=$?
set -e
assert_eq "$rc" 2 "--top needs a count"

# --format json: one object per line (lists) or one document (describe, version).
fs stream list --format json | json_ok "stream list"
assert_eq "$(fs stream list --format json)" '{"name":"stocks"}' "stream list json"
fs stream describe stocks --format json | json_ok "stream describe"
assert_eq "$(fs stream describe stocks --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["open_shards"], len(d["shards"]))')" "2 2" "describe json shards"
fs deliver --status --format json | json_ok "deliver --status"
assert_eq "$(fs deliver --status --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["delivery"], d["records"], sum(s["lag_records"] for s in d["shards"]))')" "lake 81900 0" "deliver status json"
fs check --format json | json_ok "check"
assert_eq "$(fs check --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["stream"], d["status"], d["records"])')" "stocks ok 81900" "check json"
"$FIN_BIN" version --format json | json_ok "version"
set +e
fs check --format yaml 2>/dev/null; rc=$?
set -e
assert_eq "$rc" 2 "an unknown format is a usage error"

# Log events as JSON: a following delivery's flush lines.
fs --log-format json collect --tickers FB --date 2020-05-15 --to stream:stocks -q
sed -i 's/^buffer_interval .*/buffer_interval = 1s/' "$T/data/finstream.ini"
"$FIN_BIN" --data-dir "$T/data" deliver --log-format json 2>"$T/follow.err" & dpid=$!
trap 'kill $dpid 2>/dev/null || true; rm -rf "$T"' EXIT
for _ in $(seq 300); do grep -q '"event":"flush"' "$T/follow.err" && break; sleep 0.1; done
kill -TERM $dpid; set +e; wait $dpid; rc=$?; set -e
assert_eq "$rc" 0 "a following delivery stopped by SIGTERM"
grep '"event":"flush"' "$T/follow.err" | json_ok "flush events"
assert_contains "$(cat "$T/follow.err")" '"records":390' "the flush counts the new day"

# Progress: on a terminal (a pty) a long query shows its elapsed time on stderr; not with
# -q, and not when stderr is a file.
pty_stderr() { python3 -c '
import os, pty, subprocess, sys
m, s = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
out = b""
while True:
    try:
        d = os.read(m, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
p.wait()
sys.stdout.write(repr(out))
' "$@"; }
slow="SELECT count(*) FROM range(0, 300000000) t(i) WHERE i % 7 = 3"
assert_contains "$(pty_stderr "$FIN_BIN" --data-dir "$T/data" query "$slow")" 'x1b\[Kquery ' "a progress line on a terminal"
assert_eq "$(pty_stderr "$FIN_BIN" --data-dir "$T/data" query "$slow" -q)" "b''" "nothing with -q"
grep -q $'\r' "$T/run.err" && fail "a progress line went to a file"

# Inputs checked.
set +e
for d in 2026-13-01 2026-02-30 2026-1-01; do
  fs collect --date "$d" --out /dev/null 2>"$T/err"; rc=$?
  assert_eq "$rc" 2 "impossible date $d"
  assert_contains "$(cat "$T/err")" "$d" "the date is named"
done
fs stream get stocks --iterator AT_SEQUENCE_NUMBER --seq 5 >"$T/out" 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 2 "a --seq that names no shard"
assert_eq "$(cat "$T/out")" "" "nothing printed for it"
seq=$(fs stream get stocks --shard 1 --show-seq --limit 1 | cut -f2)
assert_eq "$(fs stream get stocks --iterator AT_SEQUENCE_NUMBER --seq "$seq" --limit 1 | wc -l)" 1 "a real sequence number names its shard"

# The simulator: weekends and holidays say why; tickers without regard to case; bars sane.
fs collect --date 2026-11-26 --out "$T/h.json" 2>"$T/err"
assert_contains "$(cat "$T/err")" "2026-11-26 is Thanksgiving" "holiday named"
fs collect --date 2026-11-28 --out "$T/h.json" 2>"$T/err"
assert_contains "$(cat "$T/err")" "2026-11-28 is a Saturday" "weekend named"
fs collect --tickers fb,Nflx --date 2020-05-14 --out "$T/lower.json" 2>/dev/null
fs collect --tickers FB,NFLX --date 2020-05-14 --out "$T/upper.json" 2>/dev/null
cmp -s "$T/lower.json" "$T/upper.json" || fail "tickers are not case-insensitive"
fs collect --tickers "$(cut -d, -f1-50 <<<"$tickers")" --start "2020-05-01" --end "2020-05-09" --out "$T/month.json" 2>/dev/null
python3 - "$T/month.json" <<'EOF' || fail "a bar breaks low <= open, close <= high"
import json, sys
n = 0
for line in open(sys.argv[1]):
    b = json.loads(line); n += 1
    assert b["low"] <= min(b["open"], b["close"]) and max(b["open"], b["close"]) <= b["high"], b
assert n == 50 * 6 * 390, n
EOF

# The default list spelled out (as run's finstream.ini has it) filters no replay.
fs collect --source "replay:$T/month.json" --tickers "FB, SHOP,BYND,NFLX,PINS,SQ,TTD,OKTA,SNAP,DDOG" --out "$T/replayed.json" 2>/dev/null
assert_eq "$(wc -l <"$T/replayed.json")" "$(wc -l <"$T/month.json")" "the classic list replays everything"
assert_eq "$(fs collect --tickers fb,FB --date 2020-05-14 --to stdout 2>/dev/null | wc -l)" 390 "fb and FB are one ticker"

# Man page and completion from the same tables as --help.
man=$("$FIN_BIN" --man-page)
comp=$("$FIN_BIN" --bash-completion)
for c in run collect stream deliver crawl catalog query report serve check version; do
  assert_contains "$man" ".SS $c" "man page has $c"
  assert_contains "$comp" "        $c) words_for=" "completion has $c"
done
assert_contains "$comp" "--top" "completion knows report --top"
bash -n <<<"$comp" || fail "the completion script does not parse"
echo "cli_scripting: ok"
