# Delivery under kill -9: a feeder appends to a 2-shard stream while `finstream deliver`
# is killed at random moments and restarted; afterwards the lake must hold every record
# exactly once (bad ones exactly once under the error prefix) and no partial object.
source "$FIN_SRC/tests/integration/lib.sh"
TOOL="$FIN_BUILD/tests/delivery_tool"
[ -x "$TOOL" ] || TOOL="$FIN_BUILD/delivery_tool"
ITER=${FIN_FAULT_ITERATIONS:-6}
BATCH=30000
BAD=97
D="$T/data"
mkdir -p "$D"
cat >"$D/finstream.ini" <<INI
[delivery "plain"]
source = stream:ticks
buffer_size = 1MiB
buffer_interval = 0
prefix = !{partitionKeyFromQuery:name}/
[delivery "gz"]
source = stream:ticks
buffer_size = 1MiB
buffer_interval = 1s
compression = gzip
destination = $T/lake-gz
[delivery "pq"]
source = stream:ticks
buffer_size = 2MiB
buffer_interval = 0
format = parquet
destination = $T/lake-pq
INI
"$TOOL" feed "$D" ticks 2 0 $BATCH $BAD
total=$BATCH
RANDOM=${FIN_FAULT_SEED:-$$}
for i in $(seq 1 "$ITER"); do
  "$TOOL" feed "$D" ticks 2 $total $BATCH $BAD &
  feeder=$!
  "$FIN_BIN" --data-dir "$D" deliver >"$T/out.$i" 2>&1 &
  pid=$!
  # a random moment: 0 to 0.6 s into the run
  sleep "0.$((RANDOM % 6))$((RANDOM % 10))"
  kill -9 $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  wait $feeder
  total=$((total + BATCH))
  # Nothing half-written may be visible: every object in the lakes is complete.
  if find "$D/lake" "$T/lake-gz" "$T/lake-pq" -name '*.tmp*' 2>/dev/null | grep -q .; then
    fail "a temporary file is visible in the lake"
  fi
done
fs deliver --once >"$T/final.out" 2>&1 || { cat "$T/final.out"; fail "final deliver failed"; }
# with partitioning by name, the records that are not JSON fail (every other bad one);
# Parquet refuses all bad ones
errors=0 all_bad=0
for ((k = 0; k * BAD + BAD - 1 < total; k++)); do
  (( k % 2 == 0 )) && errors=$((errors + 1))
  all_bad=$((all_bad + 1))
done
"$TOOL" check "$D/lake" $total $errors || fail "lake 'plain' does not hold each record exactly once"
"$TOOL" check "$T/lake-gz" $total 0 || fail "lake 'gz' does not hold each record exactly once"
"$TOOL" check "$T/lake-pq" $total $all_bad || fail "lake 'pq' does not hold each record exactly once"
for f in $(find "$T/lake-gz" -name '*.gz'); do gzip -t "$f" || fail "$f fails gzip -t"; done
fs deliver --status plain >"$T/status" 2>&1
assert_contains "$(cat "$T/status")" "lag 0 records"
fs deliver --status >"$T/status.all" 2>&1; grep -h "flushes" "$T/status.all"
echo "delivery_kill: $ITER kills, $total records: ok"
