# serve_lib.sh - sourced by the serve tests after lib.sh: start and stop `finstream serve`.
start_serve() {
  mkdir -p "$T/data"
  "$FIN_BIN" --data-dir "$T/data" serve --listen 127.0.0.1:0 --status-delay "${STATUS_DELAY:-200ms}" \
    "$@" >"$T/serve.out" 2>"$T/serve.err" &
  SERVE_PID=$!
  local i
  for i in $(seq 1 100); do
    grep -q '^listening on' "$T/serve.out" 2>/dev/null && break
    kill -0 "$SERVE_PID" 2>/dev/null || { cat "$T/serve.err" >&2; fail "serve did not start"; }
    sleep 0.05
  done
  PORT=$(awk -F: '/^listening on/{print $NF}' "$T/serve.out")
  [ -n "$PORT" ] || fail "serve printed no port"
  EP="http://127.0.0.1:$PORT"
}
stop_serve() {
  kill -TERM "$SERVE_PID" 2>/dev/null || true
  wait "$SERVE_PID" || fail "serve exited with $? on SIGTERM"
}
need_boto3() {
  /usr/bin/python3 -c 'import boto3' 2>/dev/null || { echo "python3-boto3 not installed: skipping"; exit 0; }
}
