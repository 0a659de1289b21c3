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

kinesis() {   # kinesis OPERATION JSON-ARGS: one call through botocore
  "$PY" "$FIN_SRC/tests/integration/aws/kinesis_tool.py" "http://127.0.0.1:$KINESIS_PORT" "$@"
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
