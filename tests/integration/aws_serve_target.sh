# The collector's Kinesis producer against finstream serve with access keys configured:
# serve verifies every SigV4 signature, so this checks the signer against a real verifier.
source "$(dirname "$0")/lib.sh"
: "${FIN_SRC:?}"
PY=python3
python3 -c 'import botocore' 2>/dev/null || PY=/usr/bin/python3
if ! "$PY" -c 'import botocore' 2>/dev/null; then
  echo "botocore not found: skipping"; exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/server" "$T/data"
cat >"$T/server/finstream.ini" <<INI
[serve]
listen      = 127.0.0.1:$port
access_keys = AKIDFINSTREAM:s3cret-key
status_delay = 50ms
INI
"$FIN_BIN" --data-dir "$T/server" serve >"$T/serve.log" 2>&1 &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null; wait $serve_pid 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
kinesis() { "$PY" "$FIN_SRC/tests/integration/aws/kinesis_tool.py" "http://127.0.0.1:$port" "$@"; }
kinesis create '{"stream": "stocks", "key": "AKIDFINSTREAM", "secret": "s3cret-key"}'

ini() {   # ini SECRET: the collector's AWS settings
  cat >"$T/data/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = AKIDFINSTREAM
secret_access_key = $1

[aws "kinesis"]
endpoint_url      = http://127.0.0.1:$port
INI
}
ini s3cret-key
fs collect --to kinesis:stocks 2>"$T/err" || { cat "$T/err" "$T/serve.log"; fail "collect to serve failed"; }
assert_eq "$(kinesis count '{"stream": "stocks", "key": "AKIDFINSTREAM", "secret": "s3cret-key"}')" "3900 10" \
  "records and tickers in serve's stream"

ini wrong-secret
rm -rf "$T/data/collectors"
set +e
fs collect --to kinesis:stocks --tickers FB 2>"$T/err" >/dev/null; rc=$?
set -e
assert_eq "$rc" 1 "a wrong secret is refused"
assert_contains "$(cat "$T/err")" "InvalidSignatureException" "names the AWS error"
echo "aws_serve_target: ok"
