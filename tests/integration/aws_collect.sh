# finstream collect --to kinesis:STREAM against a Kinesis-compatible server on loopback:
# every record arrives once, keyed by ticker; a repeated window sends nothing.
source "$(dirname "$0")/lib.sh"
: "${FIN_SRC:?}"
source "$FIN_SRC/tests/integration/aws/peers.sh"
PY=python3
python3 -c 'import botocore' 2>/dev/null || PY=/usr/bin/python3
if ! "$PY" -c 'import botocore' 2>/dev/null; then
  echo "botocore not found: skipping"; exit 0
fi
aws_peers_install || exit 0
start_kinesalite

kinesis() {   # kinesis OPERATION JSON-ARGS: one call through botocore, prints the JSON answer
  "$PY" - "$KINESIS_PORT" "$@" <<'PY'
import json, sys, time, botocore.session
port, op, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c = botocore.session.get_session().create_client(
    "kinesis", region_name="us-east-1", endpoint_url="http://127.0.0.1:%s" % port,
    aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
if op == "count":
    n, keys = 0, set()
    for shard in c.list_shards(StreamName=args["stream"])["Shards"]:
        it = c.get_shard_iterator(StreamName=args["stream"], ShardId=shard["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = c.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                n += 1
                keys.add(rec["PartitionKey"])
                assert json.loads(rec["Data"])["name"] == rec["PartitionKey"]
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    print(n, len(keys))
elif op == "create":
    c.create_stream(StreamName=args["stream"], ShardCount=2)
    for _ in range(100):
        if c.describe_stream_summary(StreamName=args["stream"])["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
PY
}
kinesis create '{"stream": "stocks"}'

mkdir -p "$T/data"
cat >"$T/data/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = AKIDEXAMPLE
secret_access_key = secret

[aws "kinesis"]
endpoint_url      = http://127.0.0.1:$KINESIS_PORT
INI
fs collect --to kinesis:stocks 2>"$T/err" || { cat "$T/err"; fail "collect to kinesis failed"; }
assert_contains "$(cat "$T/err")" "3,900 records" "collect summary"
assert_eq "$(kinesis count '{"stream": "stocks"}')" "3900 10" "records and tickers in the stream"
fs collect --to kinesis:stocks 2>"$T/err"
assert_contains "$(cat "$T/err")" "0 records" "a repeated window sends nothing"
assert_eq "$(kinesis count '{"stream": "stocks"}')" "3900 10" "nothing sent twice"
set +e
fs collect --to kinesis:missing 2>"$T/err" >/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "a stream that does not exist"
assert_contains "$(cat "$T/err")" "ResourceNotFoundException" "names the AWS error"
echo "aws_collect: ok"
