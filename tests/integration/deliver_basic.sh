# finstream deliver on real output: key layout and names, JSON lines, gzip, Parquet,
# dynamic partitions, error records, --status, a second run, SIGTERM, direct put.
source "$FIN_SRC/tests/integration/lib.sh"
TOOL="$FIN_BUILD/tests/delivery_tool"
D="$T/data"
mkdir -p "$D"
cat >"$D/finstream.ini" <<INI
[delivery "lake"]
source = stream:stocks
[delivery "part"]
source = stream:stocks
prefix = name=!{partitionKeyFromQuery:name}/dt=!{timestamp:yyyy-MM-dd}/
compression = gzip
destination = $T/lake-part
[delivery "pq"]
source = stream:stocks
format = parquet
destination = $T/lake-pq
INI
N=3900
BAD=97
"$TOOL" feed "$D" stocks 2 0 $N $BAD
out=$(fs deliver --once)
assert_contains "$out" "deliver   lake: 3,900 records  1 object"
assert_contains "$out" "deliver   part: 3,880 records  10 objects"
assert_contains "$out" "  20 errors"
assert_contains "$out" "last in name=T"
assert_contains "$out" "deliver   pq: 3,860 records  1 object"

uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
stamp='([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{2})-[0-9]{2}-[0-9]{2}'
# default prefix: the UTC arrival hour of the object's first record, which the name repeats
keys=$(cd "$D/lake" && find . -type f | sed 's|^\./||')
assert_eq "$(wc -l <<<"$keys")" 1 "objects in lake"
[[ $keys =~ ^([0-9]{4})/([0-9]{2})/([0-9]{2})/([0-9]{2})/lake-1-$stamp-$uuid$ ]] || fail "bad key: $keys"
[ "${BASH_REMATCH[1]}${BASH_REMATCH[2]}${BASH_REMATCH[3]}${BASH_REMATCH[4]}" == \
  "${BASH_REMATCH[5]}${BASH_REMATCH[6]}${BASH_REMATCH[7]}${BASH_REMATCH[8]}" ] || fail "prefix hour differs from the name: $keys"
"$TOOL" check "$D/lake" $N 0 >/dev/null || fail "lake: records not there exactly once"
[ "$(tail -c 1 "$D/lake/$keys" | od -An -c | tr -d ' ')" == '\n' ] || fail "no newline after the last record"
assert_eq "$(wc -l <"$D/lake/$keys")" $N "one record per line"

# dynamic partitions with gzip, and the error prefix
today=$(date -u +%Y-%m-%d)
for k in $(cd "$T/lake-part" && find . -type f | sed 's|^\./||'); do
  if [[ $k == errors/* ]]; then
    [[ $k =~ ^errors/partitioning-failed/[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/part-1-$stamp-$uuid\.gz$ ]] || fail "bad error key: $k"
  else
    [[ $k =~ ^name=T[0-9]/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/part-1-$stamp-$uuid\.gz$ ]] || fail "bad key: $k"
    name=${k#name=}; name=${name%%/*}
    zcat "$T/lake-part/$k" | grep -v "\"name\":\"$name\"" && fail "$k holds another partition's record"
  fi
  gzip -t "$T/lake-part/$k" || fail "$k fails gzip -t"
done
assert_eq "$(cd "$T/lake-part" && find . -path './name=*' -type f | wc -l)" 10 "one object per ticker"
errs=$(zcat "$T"/lake-part/errors/partitioning-failed/*/*/*/*/*.gz)
assert_contains "$errs" '"errorCode":"DynamicPartitioning.MetadataExtractionFailed"'
assert_contains "$errs" '"errorMessage":"not JSON: expected '"'"'{'"'"' (shardId-0000000000'
assert_contains "$errs" '"rawData":"YnJva2VuIHJlY29yZCA5Ng=="'    # "broken record 96"
"$TOOL" check "$T/lake-part" $N 20 >/dev/null || fail "lake-part: records not there exactly once"

# Parquet: typed columns, bad records under the error prefix with reasons
pq=$(cd "$T/lake-pq" && find . -name '*.parquet' | sed 's|^\./||')
[[ $pq =~ ^[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{2}/pq-1-$stamp-$uuid\.parquet$ ]] || fail "bad parquet key: $pq"
"$TOOL" check "$T/lake-pq" $N 40 >/dev/null || fail "lake-pq: records not there exactly once"
perr=$(cat "$T"/lake-pq/errors/format-conversion-failed/*/*/*/*/pq-*)
assert_contains "$perr" "field 'high' is a string, expected a number"
assert_contains "$perr" '"errorCode":"DataFormatConversion.MalformedData"'

# a second run finds nothing new; status shows checkpoints and no lag
out=$(fs deliver lake --once)
assert_contains "$out" "deliver   lake: 0 records  0 objects"
st=$(fs deliver --status)
assert_contains "$st" "delivery lake"
assert_contains "$st" "written      3,900 records in 1 object,"
assert_contains "$st" "errors       20 records in 1 object"
assert_contains "$st" "shardId-000000000001  checkpoint 4"
assert_contains "$st" "lag 0 records, 0.0 s"

# following the stream: SIGTERM flushes and exits cleanly
"$TOOL" feed "$D" stocks 2 $N 1000
cat >>"$D/finstream.ini" <<INI
[delivery "slow"]
source = stream:stocks
buffer_interval = 900s
destination = $T/lake-slow
INI
"$FIN_BIN" --data-dir "$D" deliver slow >"$T/slow.out" 2>&1 &
pid=$!
deadline=$((SECONDS + 30))
until grep -q '^SigCgt:.*' /proc/$pid/status 2>/dev/null &&
      (( 0x$(awk '/^SigCgt/ {print $2}' /proc/$pid/status) & 0x4000 )); do
  (( SECONDS < deadline )) || fail "deliver did not start"
  sleep 0.02
done
kill -TERM $pid
wait $pid || fail "deliver exited with $? on SIGTERM: $(cat "$T/slow.out")"
assert_contains "$(cat "$T/slow.out")" "deliver   slow: 4,900 records  1 object"
"$TOOL" check "$T/lake-slow" $((N + 1000)) 0 >/dev/null || fail "lake-slow: records not there exactly once"

# direct put: the delivery's own stream, the same engine
cat >>"$D/finstream.ini" <<INI
[delivery "direct"]
source = direct
destination = $T/lake-direct
INI
"$TOOL" direct "$D" direct 0 5000 || fail "direct put failed"
"$TOOL" check "$T/lake-direct" 5000 0 >/dev/null || fail "lake-direct: records not there exactly once"
assert_contains "$(fs deliver --status direct)" "lag 0 records"
"$TOOL" direct "$D" lake 0 1 2>"$T/err" && fail "direct put into a stream-fed delivery"
assert_contains "$(cat "$T/err")" "direct put needs source = direct"

# one process per delivery stream: named, it is an error; running all, it is skipped
lock="$D/deliveries/direct/lock"
set +e
flock "$lock" "$FIN_BIN" --data-dir "$D" deliver --once direct 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "busy delivery exit code"
assert_contains "$(cat "$T/err")" "delivery 'direct' is running in another process"
flock "$lock" "$FIN_BIN" --data-dir "$D" deliver --once >"$T/out" 2>"$T/err" || fail "deliver of all with one busy: $(cat "$T/err")"
assert_contains "$(cat "$T/err")" "skipped"
assert_contains "$(cat "$T/out")" "deliver   lake: 1,000 records"

# configuration errors name the place
printf '[delivery "odd"]\nsource = stream:stocks\nprefix = x/!{firehose:random-string}/\n' >>"$D/finstream.ini"
set +e
fs deliver --once odd 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "bad prefix exit code"
assert_contains "$(cat "$T/err")" "finstream.ini:"
assert_contains "$(cat "$T/err")" "unknown expression '!{firehose:random-string}'"
echo "deliver_basic: ok"
