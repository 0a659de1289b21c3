#!/usr/bin/env bash
# SIGKILL of serve while a producer puts: every record serve acknowledged is in the
# stream after a restart.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
PY="/usr/bin/python3 $(dirname "$0")/serve/kinesis_client.py"
for round in 1 2; do
  start_serve
  $PY "$EP" produce "$T/acked" &
  prod=$!
  # let it acknowledge some records, then kill serve mid-stream
  for i in $(seq 1 200); do
    [ "$(wc -l < "$T/acked" 2>/dev/null || echo 0)" -ge $((round * 2000)) ] && break
    sleep 0.05
  done
  kill -KILL "$SERVE_PID"
  wait "$SERVE_PID" 2>/dev/null || true
  wait "$prod" || true
done
start_serve
$PY "$EP" verify "$T/acked"
stop_serve
echo "serve_kill: ok"
