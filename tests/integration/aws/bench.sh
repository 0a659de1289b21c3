#!/usr/bin/env bash
# Runs bench_aws against s3rver and kinesalite started on loopback (not part of ctest).
#   tests/integration/aws/bench.sh [BUILD_DIR] [RECORDS] [OBJECTS]
set -euo pipefail
FIN_SRC=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$FIN_SRC/build}
source "$FIN_SRC/tests/integration/aws/peers.sh"
aws_peers_install || exit 0
start_s3rver "$PEERS_DIR/s3"
start_kinesalite
FIN_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" FIN_S3_PID=$S3_PID \
FIN_KINESIS_ENDPOINT="http://127.0.0.1:$KINESIS_PORT" FIN_KINESIS_PID=$KINESIS_PID \
  "$build/bench/bench_aws" "${2:-20000}" "${3:-20}"
