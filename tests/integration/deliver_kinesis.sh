#!/usr/bin/env bash
# finstream deliver with source = kinesis:STREAM, reading a 2-shard stream on a
# Kinesis-compatible server (kinesalite on loopback) into the local lake: every record the
# collector produced is there exactly once, a second run takes only what is new, an
# unfinished flush is rewritten whole, and --status shows Kinesis's shard ids and sequence
# numbers as checkpoints. Then the same stream into a bucket on s3rver. Skips when npm
# cannot install the servers.
source "$FIN_SRC/tests/integration/lib.sh"
source "$FIN_SRC/tests/integration/aws/peers.sh"
trap 'peers_stop; rm -rf "$T"' EXIT
aws_peers_install || exit 0
AWS="$FIN_BUILD/tests/aws_tool"
D="$T/data"
mkdir -p "$D"
start_kinesalite

cat >"$D/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = AKIDEXAMPLE
secret_access_key = secret

[aws "kinesis"]
endpoint_url      = http://127.0.0.1:$KINESIS_PORT

[delivery "lake"]
source          = kinesis:stocks
buffer_interval = 1s
INI
"$AWS" "$D/finstream.ini" kinesis-create stocks 2

# lake_records: every record in the lake, sorted
lake_records() { find "$D/lake" -type f -exec cat {} + | LC_ALL=C sort; }

fs collect --date 2020-05-14 --to kinesis:stocks 2>/dev/null
fs collect --date 2020-05-14 --out "$T/day1.json" 2>/dev/null
out=$(fs deliver --once); echo "$out"
# a slow read may span the 1 s buffering interval: one object or more, each record once
assert_contains "$out" "deliver   lake: 3,900 records  [0-9]* objects\?  "
assert_eq "$(lake_records)" "$(LC_ALL=C sort "$T/day1.json")" "the lake holds the day's records once"

# The next day: only the new records are delivered.
fs collect --date 2020-05-15 --to kinesis:stocks 2>/dev/null
fs collect --date 2020-05-15 --out "$T/day2.json" 2>/dev/null
out=$(fs deliver --once); echo "$out"
assert_contains "$out" "deliver   lake: 3,900 records  [0-9]* objects\?  "
assert_eq "$(lake_records)" "$(cat "$T/day1.json" "$T/day2.json" | LC_ALL=C sort)" \
          "two days, each record once"
assert_eq "$(lake_records | cut -d'"' -f4 | sort -u | wc -l)" 10 "tickers"
assert_contains "$(fs deliver --once)" "deliver   lake: 0 records  0 objects"

status=$(fs deliver --status lake); echo "$status"
assert_contains "$status" "source       kinesis:stocks"
assert_contains "$status" "written      7,800 records in [0-9]* objects"
assert_eq "$(grep -cE '^  shardId-00000000000[01]  checkpoint [0-9]{20,}$' <<<"$status")" 2 \
          "a checkpoint per shard"

# An unfinished flush is rewritten whole, although its ranges (13,650 records a shard)
# take two GetRecords calls per shard, 200 ms apart. The flush fails on the object for
# FB, whose folder is blocked by a file, after writing others.
fs collect --start 2020-05-18 --end 2020-05-23 --to kinesis:stocks 2>/dev/null
fs collect --start 2020-05-18 --end 2020-05-23 --out "$T/week.json" 2>/dev/null
cat >>"$D/finstream.ini" <<INI

[delivery "parts"]
source      = kinesis:stocks
prefix      = !{partitionKeyFromQuery:name}/
buffer_size = 128MiB
destination = $T/parts
INI
mkdir -p "$T/parts"
echo blocked >"$T/parts/FB"
set +e
fs deliver parts --once >/dev/null 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "exit status with a blocked folder"
assert_contains "$(fs deliver --status parts)" "unfinished   a flush"
rm "$T/parts/FB"
out=$(fs deliver parts --once 2>"$T/err"); echo "$out"
assert_contains "$out" "deliver   parts: 27,300 records  10 objects.*1 unfinished flush rewritten"
grep -q "left in the stream" "$T/err" && fail "the rewritten flush missed records: $(cat "$T/err")"
assert_eq "$(find "$T/parts" -type f -exec cat {} + | LC_ALL=C sort)" \
          "$(cat "$T/day1.json" "$T/day2.json" "$T/week.json" | LC_ALL=C sort)" \
          "the rewritten flush holds every record once"

# The whole remote path: the Kinesis stream delivered into a bucket on s3rver.
start_s3rver "$PEERS_DIR/s3"
cat >>"$D/finstream.ini" <<INI

[aws "s3"]
endpoint_url      = http://127.0.0.1:$S3_PORT
access_key_id     = S3RVER               ; s3rver's own account
secret_access_key = S3RVER

[delivery "bucket"]
source      = kinesis:stocks
destination = s3://finstream-lake/
INI
"$AWS" "$D/finstream.ini" mb finstream-lake
assert_contains "$(fs deliver bucket --once)" "deliver   bucket: 27,300 records  1 object"
mkdir -p "$T/bucket"
"$AWS" "$D/finstream.ini" get s3://finstream-lake/ "$T/bucket"
assert_eq "$(find "$T/bucket" -type f -exec cat {} + | LC_ALL=C sort)" \
          "$(cat "$T/day1.json" "$T/day2.json" "$T/week.json" | LC_ALL=C sort)" \
          "Kinesis to S3: every record once"

# Following the stream: records produced while delivery runs arrive, then SIGTERM.
"$FIN_BIN" --data-dir "$D" deliver lake >/dev/null 2>"$T/follow.err" &
pid=$!
fs collect --date 2020-05-26 --to kinesis:stocks 2>/dev/null
fs collect --date 2020-05-26 --out "$T/day3.json" 2>/dev/null
deadline=$((SECONDS + 30))
until fs deliver --status lake | grep -q "written      31,200 records"; do
  kill -0 "$pid" 2>/dev/null || fail "deliver exited: $(cat "$T/follow.err")"
  [ $SECONDS -lt $deadline ] || { kill "$pid"; fail "not caught up after 30 s"; }
  sleep 0.2
done
kill -TERM "$pid"
wait "$pid" || fail "deliver exited with $? after SIGTERM: $(cat "$T/follow.err")"
assert_eq "$(lake_records)" \
          "$(cat "$T/day1.json" "$T/day2.json" "$T/week.json" "$T/day3.json" | LC_ALL=C sort)" \
          "following: every record once"

# A stream that does not exist: a clear error naming it.
sed -i 's/kinesis:stocks/kinesis:missing/' "$D/finstream.ini"
set +e
fs deliver lake --once 2>"$T/err" >/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "exit status for a missing stream"
assert_contains "$(cat "$T/err")" "kinesis:missing" "names the source"
assert_contains "$(cat "$T/err")" "ResourceNotFoundException" "names the AWS error"
echo "deliver_kinesis: ok"
