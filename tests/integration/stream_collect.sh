# collect --to stream:NAME, read back by a follower in another process while it grows:
# the records in the stream are exactly the ones the collector emits, in order per ticker.
source "$(dirname "$0")/lib.sh"

wait_lines() {
  local file=$1 n=$2 deadline=$((SECONDS + 30))
  while [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -lt "$n" ]; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $n lines in $file (have $(wc -l <"$file"))"
    sleep 0.05
  done
}

mkdir -p "$T/data"
cat >"$T/data/finstream.ini" <<'INI'
[stream "stocks"]
shards = 2
fsync  = always
INI
fs collect --to stdout >"$T/expected.json" 2>/dev/null
n=$(wc -l <"$T/expected.json")
[ "$n" -gt 0 ] || fail "the collector emitted nothing"

fs stream create stocks >/dev/null   # takes shards = 2 from the ini
"$FIN_BIN" --data-dir "$T/data" stream get stocks --follow >"$T/followed.json" 2>"$T/follow.err" &
follower=$!
fs collect --to stream:stocks 2>"$T/collect.err" || fail "collect failed: $(cat "$T/collect.err")"
wait_lines "$T/followed.json" "$n"
kill $follower; wait $follower || true

assert_contains "$(fs stream describe stocks)" "shards          2"
# the same records; within each ticker (one partition key, one shard) in the same order
assert_eq "$(sort "$T/followed.json" | md5sum)" "$(sort "$T/expected.json" | md5sum)" "same records"
for t in FB SHOP NFLX; do
  assert_eq "$(grep "\"name\":\"$t\"" "$T/followed.json" | md5sum)" \
            "$(grep "\"name\":\"$t\"" "$T/expected.json" | md5sum)" "order of $t"
done
# a ticker's records all sit in one shard
for sh in 0 1; do fs stream get stocks --shard $sh --show-seq | cut -f4 | sort -u >"$T/keys$sh"; done
[ -z "$(comm -12 "$T/keys0" "$T/keys1")" ] || fail "a partition key in both shards"

# a stream that does not exist yet is created from the ini by collect
fs collect --to stream:fresh 2>/dev/null
assert_eq "$(fs stream get fresh | wc -l)" "$n" "records in a stream created by collect"
echo "stream_collect: ok"
