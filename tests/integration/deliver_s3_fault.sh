#!/usr/bin/env bash
# finstream deliver into s3rver through a proxy that fails calls the way S3 does under
# load (503 SlowDown, 500 before and after the work is done, dropped connections): the
# client retries, and the bucket ends with each record exactly once, byte for byte what a
# local lake gets. Then a bucket that fails every call: --once exits with an error and a
# later run rewrites the unfinished flush; a following delivery backs off and catches up
# once the bucket recovers. Skips when npm cannot install the server.
source "$FIN_SRC/tests/integration/lib.sh"
source "$FIN_SRC/tests/integration/aws/peers.sh"
trap 'peers_stop; rm -rf "$T"' EXIT
aws_peers_install || exit 0
TOOL="$FIN_BUILD/tests/delivery_tool"
AWS="$FIN_BUILD/tests/aws_tool"
D="$T/data"
BUCKET=finstream-faults
mkdir -p "$D"
start_s3rver "$PEERS_DIR/s3"
export FIN_PROXY_VERIFY=S3RVER:S3RVER FIN_PROXY_TRACE=1
start_proxy "$S3_PORT" "ok,503,ok,after500,ok,reset,ok,500"
FLAKY=$PROXY_PORT
FLAKY_LOG="$PEERS_DIR/proxy.$PROXIES.log"
start_proxy "$S3_PORT" "500"
DOWN=$PROXY_PORT
start_proxy "$S3_PORT" "once:500*6"
RECOVERS=$PROXY_PORT

# write_ini WHERE PORT RETRIES
write_ini() {
  cat >"$D/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = S3RVER
secret_access_key = S3RVER
retries           = $3
backoff           = 10ms
backoff_max       = 100ms

[aws "s3"]
endpoint_url      = http://127.0.0.1:$2

[delivery "plain"]
source          = stream:stocks
buffer_size     = 1MiB
buffer_interval = 1s
destination     = $1/plain/

[delivery "zipped"]
source      = stream:stocks
buffer_size = 1MiB
compression = gzip
destination = $1/zipped/

[delivery "pq"]
source      = stream:stocks
buffer_size = 1MiB
format      = parquet
destination = $1/pq/
INI
}

N=30000
"$TOOL" feed "$D" stocks 2 0 $N 97 >/dev/null
write_ini "$T/local" 0 0
fs deliver --once >/dev/null
rm -rf "$D/deliveries"
write_ini "s3://$BUCKET" "$S3_PORT" 0
"$AWS" "$D/finstream.ini" mb $BUCKET
write_ini "s3://$BUCKET" "$FLAKY" 8
out=$(fs deliver --once)
assert_contains "$out" "deliver   plain: 30,000 records  4 objects"
for d in plain zipped pq; do
  mkdir -p "$T/bucket/$d"
  "$AWS" "$D/finstream.ini" get "s3://$BUCKET/$d/" "$T/bucket/$d"
  diff -r "$T/local/$d" "$T/bucket/$d" || fail "$d: the bucket differs from the local lake"
done
"$TOOL" check "$T/bucket/plain" $N 0 >/dev/null || fail "plain: records not there exactly once"
"$TOOL" check "$T/bucket/zipped" $N 0 >/dev/null || fail "zipped: records not there exactly once"
"$TOOL" check "$T/bucket/pq" $N 309 >/dev/null || fail "pq: records not there exactly once"
# Every kind of failure happened, on puts too (an object stored, then a 500: put again).
for what in "503 PUT" "after500 PUT" "reset PUT" "500 PUT"; do
  grep -q "^$what /$BUCKET/" "$FLAKY_LOG" || fail "the proxy never answered a put with ${what% *}"
done

# A bucket that fails every call: --once gives up with S3's error, the checkpoint stays.
"$TOOL" feed "$D" stocks 2 $N 5000 >/dev/null
write_ini "s3://$BUCKET" "$DOWN" 1
set +e
fs deliver plain --once >/dev/null 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "exit status with a failing bucket"
assert_contains "$(cat "$T/err")" "InternalError" "the error names S3's code"
assert_contains "$(fs deliver --status plain)" "unfinished   a flush"
# It recovers: the unfinished flush is written under the same keys, then the rest.
write_ini "s3://$BUCKET" "$S3_PORT" 1
out=$(fs deliver plain --once)
assert_contains "$out" "deliver   plain: 5,000 records  1 object.*1 unfinished flush rewritten"
rm -rf "$T/bucket/plain" && mkdir -p "$T/bucket/plain"
"$AWS" "$D/finstream.ini" get "s3://$BUCKET/plain/" "$T/bucket/plain"
"$TOOL" check "$T/bucket/plain" $((N + 5000)) 0 >/dev/null ||
  fail "plain: records not there exactly once after the failing bucket"

# Following: the first six calls fail; delivery retries with backoff and catches up.
"$TOOL" feed "$D" stocks 2 $((N + 5000)) 3000 >/dev/null
write_ini "s3://$BUCKET" "$RECOVERS" 1
"$FIN_BIN" --data-dir "$D" deliver plain 2>"$T/follow.err" >/dev/null &
pid=$!
deadline=$((SECONDS + 30))
until fs deliver --status plain | grep -q "written      38,000 records"; do
  [ $SECONDS -lt $deadline ] || { kill "$pid"; cat "$T/follow.err"; fail "not caught up after 30 s"; }
  sleep 0.2
done
kill -TERM "$pid"
wait "$pid" || fail "deliver exited with $? after SIGTERM"
assert_contains "$(cat "$T/follow.err")" "retrying in" "backoff after a failed flush"
rm -rf "$T/bucket/plain" && mkdir -p "$T/bucket/plain"
"$AWS" "$D/finstream.ini" get "s3://$BUCKET/plain/" "$T/bucket/plain"
"$TOOL" check "$T/bucket/plain" $((N + 8000)) 0 >/dev/null ||
  fail "plain: records not there exactly once after recovering"
echo "deliver_s3_fault: ok"
