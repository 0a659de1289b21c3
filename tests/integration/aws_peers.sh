#!/usr/bin/env bash
# The AWS clients against s3rver and kinesalite on loopback, directly and through a
# fault-injecting proxy. Skips when npm cannot install the servers.
set -euo pipefail
: "${FIN_BUILD:?}" "${FIN_SRC:?}"
source "$FIN_SRC/tests/integration/aws/peers.sh"
aws_peers_install || exit 0

start_s3rver "$PEERS_DIR/s3"
start_kinesalite
# The fault proxies also check every signature with botocore's signer (when it is there).
export FIN_PROXY_VERIFY=S3RVER:S3RVER
start_proxy "$S3_PORT" "ok,503,ok,after500,ok,reset,ok,500,ok,ok"
fault=$PROXY_PORT
start_proxy "$S3_PORT" "ok"
verify=$PROXY_PORT
# Create, first part, then every try of the second part fails: the upload is aborted.
start_proxy "$S3_PORT" "ok,ok,500,500"
abort=$PROXY_PORT
start_proxy "$KINESIS_PORT" "ok,throttle,ok,500,reset,ok"
kfault=$PROXY_PORT

export FIN_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export FIN_S3_FAULT_ENDPOINT="http://127.0.0.1:$fault"
export FIN_S3_ABORT_ENDPOINT="http://127.0.0.1:$abort"
export FIN_S3_VERIFY_ENDPOINT="http://127.0.0.1:$verify"
export FIN_KINESIS_ENDPOINT="http://127.0.0.1:$KINESIS_PORT"
export FIN_KINESIS_FAULT_ENDPOINT="http://127.0.0.1:$kfault"
"$FIN_BUILD/tests/test_aws_peers"
