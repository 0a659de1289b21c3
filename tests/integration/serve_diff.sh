#!/usr/bin/env bash
# The differential harness: identical raw requests to kinesalite and to finstream serve
# (tests/integration/serve/kinesis_diff.py); fails on any difference that
# serve/kinesis_diff_allow.txt does not list with its reason.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
source "$(dirname "$0")/aws/peers.sh"
need_boto3
aws_peers_install || exit 0
KINESIS_PORT=$(free_port)
node "$(dirname "$0")/serve/kinesalite_ref.js" "$PEERS_NPM/kinesalite" "$KINESIS_PORT" \
  >"$PEERS_DIR/kinesalite.log" 2>&1 &
PEER_PIDS+=($!)
wait_port "$KINESIS_PORT"
STATUS_DELAY=0ms start_serve --shard-limit 100
/usr/bin/python3 "$(dirname "$0")/serve/kinesis_diff.py" "http://127.0.0.1:$KINESIS_PORT" "$EP" \
  "$(dirname "$0")/serve/kinesis_diff_allow.txt" "$@"
stop_serve
echo "serve_diff: ok"
