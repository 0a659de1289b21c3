# Resharding from the command line: split at the middle and at a chosen key, merge,
# scale, Kinesis' refusals, describe with closed shards, get reading parents before
# children, check; then a delivery that runs while the stream is fed, split, fed,
# merged and scaled, and must put every record in the lake exactly once.
source "$(dirname "$0")/lib.sh"
TOOL="$FIN_BUILD/tests/delivery_tool"
D="$T/data"

fs stream create ticks --shards 2 >/dev/null
for i in 1 2 3 4 5 6; do echo "{\"name\":\"T$i\",\"n\":1}"; done | fs stream put ticks 2>/dev/null
out=$(fs stream split ticks --shard 0)
assert_contains "$out" "ticks: 3 open shards"
assert_contains "$out" "shardId-000000000002  0 .. 85070591730234615865843651857942052863  (from shardId-000000000000)"
assert_contains "$out" "shardId-000000000003  85070591730234615865843651857942052864 .. 170141183460469231731687303715884105727  (from shardId-000000000000)"
out=$(fs stream split ticks --shard shardId-000000000001 --at 200000000000000000000000000000000000000)
assert_contains "$out" "shardId-000000000005  200000000000000000000000000000000000000 .. 340282366920938463463374607431768211455  (from shardId-000000000001)"
out=$(fs stream merge ticks --shard 3 --adjacent 4)
assert_contains "$out" "shardId-000000000006  85070591730234615865843651857942052864 .. 199999999999999999999999999999999999999  (from shardId-000000000003 + shardId-000000000004)"

set +e
err=$(fs stream split ticks --shard 0 2>&1); rc=$?
set -e
assert_eq "$rc" 1 "splitting a closed shard fails"
assert_contains "$err" "Shard shardId-000000000000 in stream ticks has already been merged or split, and thus is not eligible for merging or splitting."
err=$(fs stream merge ticks --shard 2 --adjacent 5 2>&1) && fail "merged shards that do not touch"
assert_contains "$err" "Shards shardId-000000000002 and shardId-000000000005 in stream ticks are not an adjacent pair of shards eligible for merging"
err=$(fs stream split ticks --shard 9 2>&1) && fail "split a shard that does not exist"
assert_contains "$err" "Could not find shard shardId-000000000009 in stream ticks."
err=$(fs stream split ticks --shard 2 --at 0 2>&1) && fail "split at the shard's first key"
assert_contains "$err" "NewStartingHashKey 0 used in SplitShard()"
err=$(fs stream scale ticks --shards 9 2>&1) && fail "scaled past double"
assert_contains "$err" "TargetShardCount 9"
fs stream split --help | grep -q "split NAME --shard ID" || fail "no help for split"

for i in 1 2 3 4 5 6; do echo "{\"name\":\"T$i\",\"n\":2}"; done | fs stream put ticks 2>/dev/null
desc=$(fs stream describe ticks)
assert_contains "$desc" "shards          3 open, 4 closed"
assert_contains "$desc" "shardId-000000000000  (closed)"
assert_contains "$desc" "children      shardId-000000000002, shardId-000000000003"
assert_contains "$desc" "parent        shardId-000000000003, shardId-000000000004"
# every key: its n=1 record (in a parent) before its n=2 record (in a child)
all=$(fs stream get ticks)
assert_eq "$(wc -l <<<"$all")" 12 "records read back"
for i in 1 2 3 4 5 6; do
  assert_eq "$(grep "\"T$i\"" <<<"$all" | tr -d '\n')" "{\"name\":\"T$i\",\"n\":1}{\"name\":\"T$i\",\"n\":2}" "order of T$i"
done
# --shard on a parent follows its children
one=$(fs stream get ticks --shard 0)
assert_contains "$one" '"n":1'
assert_contains "$one" '"n":2'
out=$(fs stream scale ticks --shards 2)
assert_contains "$out" "ticks: 2 open shards"
assert_contains "$out" "0 .. 170141183460469231731687303715884105727"
fs check >/dev/null || fail "check after resharding"
assert_eq "$(fs stream get ticks | wc -l)" 12 "records after scaling"

# ---- delivery while the stream is fed and resharded ----
cat >"$D/finstream.ini" <<INI
[delivery "lake"]
source = stream:stocks
buffer_interval = 1s
INI
"$TOOL" feed "$D" stocks 2 0 3000
"$FIN_BIN" --data-dir "$D" deliver lake >"$T/deliver.out" 2>&1 &
dpid=$!
fs stream split stocks --shard 0 >/dev/null
"$TOOL" feed "$D" stocks 2 3000 3000
fs stream merge stocks --shard 1 --adjacent 3 >/dev/null
"$TOOL" feed "$D" stocks 2 6000 3000
fs stream scale stocks --shards 4 >/dev/null
"$TOOL" feed "$D" stocks 2 9000 3000
N=12000
deadline=$((SECONDS + 60))
until "$TOOL" check "$D/lake" $N 0 >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { kill $dpid; cat "$T/deliver.out"; "$TOOL" check "$D/lake" $N 0; fail "the running delivery did not deliver every record"; }
  sleep 0.2
done
kill -TERM $dpid
wait $dpid || fail "deliver exited with an error: $(cat "$T/deliver.out")"
out=$(fs deliver --once)
assert_contains "$out" "0 records"
"$TOOL" check "$D/lake" $N 0 || fail "lake: records not there exactly once"
