# A failing destination: while the lake cannot take objects, `finstream deliver` logs the
# error and retries with backoff; once the fault clears it writes every record exactly
# once, and an unfinished flush is not duplicated by the retries.
source "$FIN_SRC/tests/integration/lib.sh"
TOOL="$FIN_BUILD/tests/delivery_tool"
D="$T/data"
mkdir -p "$D"
cat >"$D/finstream.ini" <<INI
[delivery "lake"]
source = stream:ticks
buffer_interval = 0
prefix = !{partitionKeyFromQuery:name}/
INI
"$TOOL" feed "$D" ticks 2 0 5000
# T3's folder is a plain file: the flush writes some partitions, then fails on T3.
mkdir -p "$D/lake"
echo blocked >"$D/lake/T3"
"$FIN_BIN" --data-dir "$D" deliver >"$T/out" 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
until grep -q "retrying in" "$T/out"; do
  (( SECONDS < deadline )) || fail "no retry reported: $(cat "$T/out")"
  kill -0 $pid 2>/dev/null || fail "deliver exited: $(cat "$T/out")"
  sleep 0.05
done
assert_contains "$(cat "$T/out")" "T3"
# more records arrive meanwhile; they must wait for the failed flush
"$TOOL" feed "$D" ticks 2 5000 1000
rm "$D/lake/T3"
until fs deliver --status lake 2>/dev/null | grep -q "lag 0 records" &&
      [ "$(fs deliver --status lake | grep -c 'lag 0 records')" == 2 ]; do
  (( SECONDS < deadline )) || fail "delivery did not resume: $(cat "$T/out")"
  kill -0 $pid 2>/dev/null || fail "deliver exited: $(cat "$T/out")"
  sleep 0.05
done
kill -TERM $pid
wait $pid || fail "deliver exited with $?: $(cat "$T/out")"
"$TOOL" check "$D/lake" 6000 0 || fail "records not there exactly once after the fault cleared"
cat "$T/out"
echo "delivery_destination: ok"
