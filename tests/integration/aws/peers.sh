# peers.sh - sourced by the AWS tests and benchmarks: installs s3rver and kinesalite
# (scripts/aws-peers.sh), starts them and the fault proxy on 127.0.0.1 on free ports, and
# stops exactly the processes it started when the shell exits.
#
#   aws_peers_install || exit 0      # prints why and skips when npm cannot install them
#   start_s3rver DIR                 # sets S3_PORT, S3_PID
#   start_kinesalite                 # sets KINESIS_PORT, KINESIS_PID
#   start_proxy UPSTREAM_PORT PATTERN  # sets PROXY_PORT
: "${FIN_SRC:?FIN_SRC must point at the source tree}"
PEERS_NPM="$FIN_SRC/third_party/npm/node_modules"
PEERS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/finstream-peers-XXXXXX")
PEER_PIDS=()

peers_stop() {
  local pid
  for pid in "${PEER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PEER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  PEER_PIDS=()
  [ -n "${FIN_KEEP_PEERS:-}" ] && echo "peers left in $PEERS_DIR" >&2 || rm -rf "$PEERS_DIR"
}
trap peers_stop EXIT

aws_peers_install() {
  if ! bash "$FIN_SRC/scripts/aws-peers.sh"; then
    echo "s3rver and kinesalite could not be installed from npm: skipping"
    return 1
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (up to 20 s) until something accepts connections on 127.0.0.1:$1.
wait_port() {
  local deadline=$((SECONDS + 20))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      echo "nothing listens on 127.0.0.1:$1 after 20 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

start_s3rver() {
  local dir=$1
  mkdir -p "$dir"
  S3_PORT=$(free_port)
  node "$PEERS_NPM/s3rver/bin/s3rver.js" -d "$dir" -a 127.0.0.1 -p "$S3_PORT" -s \
    --no-vhost-buckets >"$PEERS_DIR/s3rver.log" 2>&1 &
  S3_PID=$!
  PEER_PIDS+=($!)
  wait_port "$S3_PORT"
}

start_kinesalite() {
  KINESIS_PORT=$(free_port)
  node "$FIN_SRC/tests/integration/aws/kinesalite.js" "$PEERS_NPM/kinesalite" "$KINESIS_PORT" \
    >"$PEERS_DIR/kinesalite.log" 2>&1 &
  KINESIS_PID=$!
  PEER_PIDS+=($!)
  wait_port "$KINESIS_PORT"
}

# The proxy verifies signatures with botocore when a Python with it is found (Debian's
# python3-botocore may sit beside another python3 first on PATH); FIN_PROXY_VERIFIES says so.
PEERS_PY=python3
if ! python3 -c 'import botocore' 2>/dev/null && [ -x /usr/bin/python3 ] &&
   /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
  PEERS_PY=/usr/bin/python3
fi
if "$PEERS_PY" -c 'import botocore' 2>/dev/null; then
  export FIN_PROXY_VERIFIES=1
else
  echo "botocore not found: the fault proxy will not verify signatures"
  export FIN_PROXY_VERIFIES=
fi
PROXIES=0
start_proxy() {
  PROXIES=$((PROXIES + 1))
  local f="$PEERS_DIR/proxy.$PROXIES.port"
  "$PEERS_PY" "$FIN_SRC/tests/integration/aws/fault_proxy.py" "$1" "$f" "$2" \
    2>"$PEERS_DIR/proxy.$PROXIES.log" &
  PEER_PIDS+=($!)
  local deadline=$((SECONDS + 20))
  while [ ! -s "$f" ]; do
    [ $SECONDS -ge $deadline ] && { echo "fault proxy did not start" >&2; return 1; }
    sleep 0.05
  done
  PROXY_PORT=$(cat "$f")
  wait_port "$PROXY_PORT"
}
