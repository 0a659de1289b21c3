#!/usr/bin/env bash
# MB/s that `finstream deliver --once` writes into s3rver on loopback, against the same
# delivery into a local lake, with where the time goes (finstream's CPU, s3rver's CPU).
# Not part of ctest.
#   tests/integration/aws/bench_deliver.sh [BUILD_DIR] [RECORDS] [BUFFER]
# MB are the records' bytes (what a JSON object holds; gzip objects are smaller).
# BUFFER (default 64MiB) sets the delivery's buffer_size and so the object size: objects
# of 16 MiB and more go up in 8 MiB parts, smaller ones in one PutObject.
set -euo pipefail
FIN_SRC=$(cd "$(dirname "$0")/../../.." && pwd)
build=${1:-$FIN_SRC/build}
N=${2:-400000}
BUFFER=${3:-64MiB}
source "$FIN_SRC/tests/integration/aws/peers.sh"
aws_peers_install || exit 0
start_s3rver "$PEERS_DIR/s3"
D="$PEERS_DIR/data"
mkdir -p "$D"
TICK=$(getconf CLK_TCK)

cpu_of() {   # user+system seconds of a running process
  awk -v t="$TICK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"
}

write_ini() {   # write_ini DESTINATION COMPRESSION
  cat >"$D/finstream.ini" <<INI
[aws]
region            = us-east-1
access_key_id     = S3RVER
secret_access_key = S3RVER
[aws "s3"]
endpoint_url      = http://127.0.0.1:$S3_PORT
[delivery "bench"]
source      = stream:stocks
buffer_size = $BUFFER
compression = $2
destination = $1
INI
}

"$build/tests/delivery_tool" feed "$D" stocks 2 0 "$N" >/dev/null
write_ini "s3://bench/" none
"$build/tests/aws_tool" "$D/finstream.ini" mb bench
printf "%-20s %9s %8s %8s %8s %8s %10s %15s\n" destination records MB objects seconds MB/s records/s "cpu fin/s3rver"
raw_kib=
for comp in none gzip; do
  for dest in "$PEERS_DIR/lake-$comp/" "s3://bench/$comp/"; do
    rm -rf "$D/deliveries"
    write_ini "$dest" "$comp"
    s3_before=$(cpu_of "$S3_PID")
    out=$( { /usr/bin/time -f "%e %U %S" "$build/finstream" --data-dir "$D" deliver --once \
               >"$PEERS_DIR/out"; } 2>&1 | tail -1)
    s3_after=$(cpu_of "$S3_PID")
    read -r wall user sys <<<"$out"
    kib=$(sed -n 's/.*  \([0-9]*\) KiB.*/\1/p' "$PEERS_DIR/out")
    objects=$(sed -n 's/.* records  \([0-9,]*\) object.*/\1/p' "$PEERS_DIR/out")
    [ -n "$raw_kib" ] || raw_kib=$kib   # the first run writes plain JSON: the records' bytes
    label=$([[ $dest == s3://* ]] && echo "s3rver" || echo "local lake")", $comp"
    awk -v l="$label" -v n="$N" -v kib="$raw_kib" -v o="$objects" -v w="$wall" -v u="$user" \
        -v s="$sys" -v c0="$s3_before" -v c1="$s3_after" 'BEGIN {
      mb = kib * 1024 / 1e6
      printf "%-20s %9d %8.1f %8s %8.2f %8.1f %10.0f %9.2f/%.2f\n", l, n, mb, o, w, mb / w, n / w, u + s, c1 - c0 }'
  done
done
