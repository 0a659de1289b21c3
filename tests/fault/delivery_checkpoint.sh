# Delivery checkpoints that do not fit the stream are refused, never acted on:
#  - a checkpoint past the shard's end (delivery would wait for records that never
#    come, and --status would show a lag of 0);
#  - a checkpoint for a shard the stream never had (the shard it replaced would be
#    delivered again from its start: duplicates);
#  - two checkpoints for one shard.
# Each refusal names state.json and the shard; once corrected, delivery resumes exactly
# where it was, with nothing delivered twice.
source "$FIN_SRC/tests/integration/lib.sh"
TOOL="$FIN_BUILD/tests/delivery_tool"
D="$T/data"
mkdir -p "$D"
cat >"$D/finstream.ini" <<INI
[delivery "lake"]
source = stream:stocks
INI
N=600
"$TOOL" feed "$D" stocks 2 0 $N 0
out=$(fs deliver --once)
assert_contains "$out" "deliver   lake: 600 records"
STATE="$D/deliveries/lake/state.json"
cp "$STATE" "$T/good.json"
seq0=$(python3 -c 'import json,sys; print([s["seq"] for s in json.load(open(sys.argv[1]))["shards"] if s["shard"]=="shardId-000000000000"][0])' "$STATE")

# 1. past the end: the counter (last 20 digits) far beyond what the shard holds
far="${seq0:0:36}00000000000099999999"
sed "s/$seq0/$far/" "$T/good.json" >"$STATE"
if out=$(fs deliver --once 2>&1); then fail "a checkpoint past the end was accepted: $out"; fi
assert_contains "$out" "shardId-000000000000"
assert_contains "$out" "past the end"
if out=$(fs deliver --status 2>&1); then fail "--status accepted a checkpoint past the end: $out"; fi
assert_contains "$out" "past the end"

# 2. a shard the stream never had
sed "s/shardId-000000000000/shardId-000000000007/" "$T/good.json" >"$STATE"
if out=$(fs deliver --once 2>&1); then fail "an unknown shard was accepted: $out"; fi
assert_contains "$out" "state.json"
assert_contains "$out" "shardId-000000000007"
assert_contains "$out" "never had"

# 3. a second checkpoint for one shard
python3 - "$T/good.json" "$STATE" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
st["shards"].append(dict(st["shards"][0]))
json.dump(st, open(sys.argv[2], "w"))
PY
if out=$(fs deliver --once 2>&1); then fail "a duplicate checkpoint was accepted: $out"; fi
assert_contains "$out" "second checkpoint"

# corrected: more records go in, and each record is in the lake exactly once
cp "$T/good.json" "$STATE"
"$TOOL" feed "$D" stocks 2 $N 200 0
out=$(fs deliver --once)
assert_contains "$out" "deliver   lake: 200 records"
"$TOOL" check "$D/lake" 800 0 >/dev/null || fail "lake: records not there exactly once"
echo "checkpoints past the end, of unknown shards and duplicated were refused"
