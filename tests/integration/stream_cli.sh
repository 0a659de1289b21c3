# The stream from the command line: create/list/describe/put/get/delete, a reader
# following a writer in another process, the one-writer lock, recovery of a torn tail,
# corruption found by check and cut by check --fix, and names that must not escape.
source "$(dirname "$0")/lib.sh"

# poll FILE until it has N lines or the deadline passes
wait_lines() {
  local file=$1 n=$2 deadline=$((SECONDS + 20))
  while [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -lt "$n" ]; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $n lines in $file (have $(wc -l <"$file"))"
    sleep 0.05
  done
}

fs stream create ticks --shards 2 --retention 48h >/dev/null
assert_eq "$(fs stream list)" "ticks" "list"
desc=$(fs stream describe ticks)
assert_contains "$desc" "shards          2"
assert_contains "$desc" "retention       172800 s"
assert_contains "$desc" "170141183460469231731687303715884105728 .. 340282366920938463463374607431768211455"

# put from arguments: one line per record with shard and sequence number
out=$(fs stream put ticks '{"name":"AAPL","high":1.5}' '{"name":"FB","high":2.5}')
assert_contains "$out" "shardId-000000000001	49"   # AAPL hashes into the upper half
assert_contains "$out" "shardId-000000000000	49"   # FB into the lower
seq_aapl=$(head -1 <<<"$out" | cut -f2)
assert_eq "${#seq_aapl}" 56 "sequence number length"

# put from stdin, keyed by a JSON field; a bad line is reported by line number, the rest go in
set +e
printf '{"name":"MSFT","i":1}\nnot json\n{"name":"MSFT","i":2}\n' | fs stream put ticks 2>"$T/err"
rc=$?
set -e
assert_eq "$rc" 1 "put with a bad line exits 1"
assert_contains "$(cat "$T/err")" "stdin:2: not a JSON object"
assert_contains "$(cat "$T/err")" "put 2 records to ticks"

all=$(fs stream get ticks)
assert_eq "$(wc -l <<<"$all")" 4 "records read back"
assert_contains "$all" '{"name":"MSFT","i":2}'
# MSFT's records keep their order within the shard
assert_eq "$(grep MSFT <<<"$all" | tr -d '\n')" '{"name":"MSFT","i":1}{"name":"MSFT","i":2}' "order per key"
assert_eq "$(fs stream get ticks --iterator AT_SEQUENCE_NUMBER --seq "$seq_aapl" --limit 1)" '{"name":"AAPL","high":1.5}' "AT_SEQUENCE_NUMBER"
assert_eq "$(fs stream get ticks --iterator LATEST)" "" "LATEST"

# A writer appending in one process, a reader following in another.
fs stream create live >/dev/null
"$FIN_BIN" --data-dir "$T/data" stream get live --follow --show-seq >"$T/follow.txt" 2>"$T/follow.err" &
follower=$!
mkfifo "$T/feed"
"$FIN_BIN" --data-dir "$T/data" stream put live --key k <"$T/feed" 2>"$T/writer.err" &
writer=$!
exec 3>"$T/feed"
for i in $(seq 1 50); do echo "first-$i" >&3; done
wait_lines "$T/follow.txt" 50   # seen while the writer still runs
kill -0 $writer || fail "the writer ended early"
# a second writer is refused, naming the holder
set +e
fs stream put live --key k x 2>"$T/busy.err"
rc=$?
set -e
assert_eq "$rc" 1 "second writer exit code"
assert_contains "$(cat "$T/busy.err")" "open for writing by process $writer"
for i in $(seq 1 50); do echo "second-$i" >&3; done
exec 3>&-
wait $writer
wait_lines "$T/follow.txt" 100
kill $follower; wait $follower || true
assert_eq "$(cut -f5 "$T/follow.txt" | head -1)" "first-1" "first followed record"
assert_eq "$(cut -f5 "$T/follow.txt" | tail -1)" "second-50" "last followed record"
assert_eq "$(cut -f2 "$T/follow.txt" | sort -c && echo sorted)" "sorted" "sequence numbers increase"

# Recovery: a torn tail is cut with a warning that says how much.
seg=$(ls "$T"/data/streams/live/shardId-000000000000/*.log | tail -1)
size=$(stat -c %s "$seg")
rm -f "$T/data/streams/live/clean"
truncate -s $((size - 5)) "$seg"
fs stream put live --key k after-torn >/dev/null 2>"$T/torn.err"
assert_contains "$(cat "$T/torn.err")" "torn tail"
assert_contains "$(cat "$T/torn.err")" "truncated"
assert_eq "$(fs stream get live | tail -2 | tr '\n' ' ')" "second-49 after-torn " "torn record gone, the rest kept"

# Corruption in the middle: readers and writers refuse it, check names it, readers can
# skip it, --fix removes it and keeps the records after it.
printf 'X' | dd of="$seg" bs=1 seek=200 conv=notrunc status=none
rm -f "$T/data/streams/live/clean"   # as after a crash: a clean shutdown would skip the scan
set +e
fs stream get live >/dev/null 2>"$T/get.err"; rc_get=$?
fs stream put live --key k y >/dev/null 2>"$T/put.err"; rc_put=$?
fs check live >"$T/check.out" 2>&1; rc_check=$?
set -e
assert_eq "$rc_get" 1 "get of a corrupt stream"
assert_contains "$(cat "$T/get.err")" "offset"
assert_eq "$rc_put" 1 "put to a corrupt stream"
assert_contains "$(cat "$T/put.err")" "check --fix"
assert_eq "$rc_check" 1 "check finds the damage"
assert_contains "$(cat "$T/check.out")" "$(basename "$seg"): offset"
# --skip-damaged reads past it with a warning; --fix removes that record alone
total=$(fs stream get live --skip-damaged 2>"$T/skip.err" | wc -l)
assert_contains "$(cat "$T/skip.err")" "skipped"
fs check --fix live >"$T/fix.out" 2>&1 || fail "check --fix failed: $(cat "$T/fix.out")"
assert_contains "$(cat "$T/fix.out")" "repaired"
assert_contains "$(cat "$T/fix.out")" "1 record lost"
assert_eq "$(fs stream get live | wc -l)" "$total" "every record after the damage kept"
fs check >/dev/null || fail "check after --fix"
fs stream put live --key k after-fix >/dev/null
assert_eq "$(fs stream get live | tail -1)" "after-fix" "puts work after the repair"

# Names never reach outside the data directory; limits are named.
set +e
fs stream create ../escape 2>"$T/name.err"; rc=$?
set -e
assert_eq "$rc" 1 "bad name"
assert_contains "$(cat "$T/name.err")" "stream name '../escape'"
[ ! -e "$T/escape" ] || fail "a stream was created outside the data directory"
set +e
fs stream put ticks --key "$(printf 'k%.0s' $(seq 1 257))" x 2>"$T/key.err"; rc=$?
set -e
assert_eq "$rc" 1 "long key"
assert_contains "$(cat "$T/key.err")" "partition key is 257 characters"

# a line over the data limit is reported and skipped; the next one goes in
set +e
(head -c 3000000 /dev/zero | tr '\0' x; printf '\nafter-long\n') | fs stream put live --key k 2>"$T/long.err"; rc=$?
set -e
assert_eq "$rc" 1 "over-long line"
assert_contains "$(cat "$T/long.err")" "stdin:1: data is 3000000 bytes; at most 1048576"
assert_eq "$(fs stream get live | tail -1)" "after-long" "the line after the long one"

# a file of records goes in as batches
fs collect --to stdout >"$T/day.json" 2>/dev/null
fs stream create day >/dev/null
fs stream put day <"$T/day.json" 2>/dev/null
assert_eq "$(fs stream get day | md5sum)" "$(md5sum <"$T/day.json")" "a day of records through stdin"

fs stream delete ticks >/dev/null
assert_eq "$(fs stream list | tr '\n' ' ')" "day live " "after delete"
echo "stream_cli: ok"
