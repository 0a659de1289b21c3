#!/usr/bin/env bash
# finstream deliver --once into an S3-compatible server (s3rver on loopback): the same
# stream delivered to a local lake and to the bucket gives the same keys and the same
# bytes, for JSON lines, gzip, Parquet and partitioned objects with error records, and a
# large object goes up in parts. Skips when npm cannot install the server.
source "$FIN_SRC/tests/integration/lib.sh"
source "$FIN_SRC/tests/integration/aws/peers.sh"
trap 'peers_stop; rm -rf "$T"' EXIT
aws_peers_install || exit 0
TOOL="$FIN_BUILD/tests/delivery_tool"
AWS="$FIN_BUILD/tests/aws_tool"
D="$T/data"
BUCKET=finstream-lake
mkdir -p "$D"
start_s3rver "$PEERS_DIR/s3"
# Through a proxy that forwards everything, checks every signature with botocore's signer
# (when botocore is there) and logs each request, to see the multipart upload.
export FIN_PROXY_VERIFY=S3RVER:S3RVER FIN_PROXY_TRACE=1
start_proxy "$S3_PORT" ok
PROXY_LOG="$PEERS_DIR/proxy.$PROXIES.log"

# write_ini WHERE: the four delivery streams, each into its own folder of WHERE
# (a local folder, or s3://bucket/).
write_ini() {
  cat >"$D/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = S3RVER
secret_access_key = S3RVER

[aws "s3"]
endpoint_url        = http://127.0.0.1:$PROXY_PORT
multipart_threshold = 5MiB
part_size           = 5MiB

[delivery "plain"]
source      = stream:stocks
buffer_size = 16MiB
destination = $1/plain/

[delivery "zipped"]
source      = stream:stocks
compression = gzip
destination = $1/zipped/

[delivery "pq"]
source      = stream:stocks
format      = parquet
destination = $1/pq/

[delivery "parts"]
source      = stream:stocks
prefix      = name=!{partitionKeyFromQuery:name}/dt=!{timestamp:yyyy-MM-dd}/
compression = gzip
destination = $1/parts/
INI
}

# 60,000 records, 6.6 MB: the plain object is above the multipart threshold.
N=60000
BAD=97
"$TOOL" feed "$D" stocks 2 0 $N $BAD >/dev/null

write_ini "$T/local"
local_out=$(fs deliver --once)
rm -rf "$D/deliveries"

"$AWS" "$D/finstream.ini" mb $BUCKET
write_ini "s3://$BUCKET"
s3_out=$(fs deliver --once)
echo "$s3_out"
# The same summary, but for where the objects went.
assert_eq "$(sed 's|s3://[^ ]*||; s/ [0-9.]* s$//' <<<"$s3_out")" \
          "$(sed "s|$T/local/[^ ]*||; s/ [0-9.]* s$//" <<<"$local_out")" "summaries"
assert_contains "$s3_out" "deliver   plain: 60,000 records  1 object"
assert_contains "$s3_out" "deliver   pq: 59,382 records  2 objects  .*618 errors"
assert_contains "$s3_out" "deliver   parts: 59,691 records  20 objects  .*309 errors"

for d in plain zipped pq parts; do
  mkdir -p "$T/bucket/$d"
  "$AWS" "$D/finstream.ini" get "s3://$BUCKET/$d/" "$T/bucket/$d"
  # keys and sizes, as listed by S3 and as found in the local lake
  listed=$("$AWS" "$D/finstream.ini" ls "s3://$BUCKET/$d/" | cut -d' ' -f1,2)
  found=$(cd "$T/local/$d" && find . -type f -printf '%P %s\n' | LC_ALL=C sort)
  [ -n "$found" ] || fail "$d: nothing in the local lake"
  assert_eq "$listed" "$found" "$d: keys and sizes in the bucket"
  diff -r "$T/local/$d" "$T/bucket/$d" || fail "$d: the bucket's bytes differ from the local lake's"
done
"$TOOL" check "$T/bucket/plain" $N 0 >/dev/null || fail "plain: records not there exactly once"
"$TOOL" check "$T/bucket/zipped" $N 0 >/dev/null || fail "zipped: records not there exactly once"
# Broken records: 309 not JSON (both), 309 with "high" a string (Parquet only).
"$TOOL" check "$T/bucket/parts" $N 309 >/dev/null || fail "parts: records not there exactly once"
"$TOOL" check "$T/bucket/pq" $N 618 >/dev/null || fail "pq: records not there exactly once"
ls "$T/bucket/parts/errors/partitioning-failed/"*/*/*/*/parts-1-*.gz >/dev/null ||
  fail "no error object under the error prefix"

# The 6.7 MB object went up in two parts of a multipart upload; the others in one put.
key=$("$AWS" "$D/finstream.ini" ls "s3://$BUCKET/plain/" | cut -d' ' -f1)
assert_eq "$(grep -c "^ok PUT /$BUCKET/plain/$key?partNumber=[12]&uploadId=" "$PROXY_LOG")" 2 \
          "parts of the large object"
assert_eq "$(grep -c "^ok POST /$BUCKET/plain/$key?uploadId=" "$PROXY_LOG")" 1 "completion"
assert_eq "$(grep -c "^ok PUT /$BUCKET/zipped/[^?]*$" "$PROXY_LOG")" 2 "single puts of small objects"

# Nothing new in the stream: nothing new in the bucket.
before=$("$AWS" "$D/finstream.ini" ls "s3://$BUCKET/")
assert_contains "$(fs deliver --once)" "deliver   plain: 0 records  0 objects"
assert_eq "$("$AWS" "$D/finstream.ini" ls "s3://$BUCKET/")" "$before" "a second run adds nothing"
assert_contains "$(fs deliver --status plain)" "destination  s3://$BUCKET/plain/"

# A bucket that does not exist: a clear error, and the checkpoint stays.
"$TOOL" feed "$D" stocks 2 $N 10 >/dev/null
sed -i "s|s3://$BUCKET/plain/|s3://no-such-bucket/plain/|" "$D/finstream.ini"
set +e
fs deliver plain --once 2>"$T/err" >/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "exit status for a missing bucket"
assert_contains "$(cat "$T/err")" "NoSuchBucket" "the error names S3's code"
assert_contains "$(fs deliver --status plain)" "unfinished   a flush" "the flush is still pending"
sed -i "s|s3://no-such-bucket/plain/|s3://$BUCKET/plain/|" "$D/finstream.ini"
assert_contains "$(fs deliver plain --once)" "10 records  1 object"
echo "deliver_s3: ok"
