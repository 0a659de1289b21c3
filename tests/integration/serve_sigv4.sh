#!/usr/bin/env bash
# finstream serve with access keys: botocore-signed requests pass; a wrong secret, an
# unknown key, a missing or malformed signature and a body changed after signing each
# get AWS's error type. With keys, a non-loopback address needs no --insecure; without,
# it is refused.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
mkdir -p "$T/data"
if fs serve --listen 0.0.0.0:0 >"$T/o" 2>"$T/e"; then fail "non-loopback without keys"; fi
assert_contains "$(cat "$T/e")" "insecure"
printf '[serve]\naccess_keys = AKIDEXAMPLE:secret, AKIDSECOND:other\n' > "$T/data/finstream.ini"
start_serve
/usr/bin/python3 "$(dirname "$0")/serve/kinesis_client.py" "$EP" auth
# with keys, /metrics needs a signature too
assert_contains "$(curl -s "$EP/metrics")" "MissingAuthenticationTokenException"
stop_serve
echo "serve_sigv4: ok"
