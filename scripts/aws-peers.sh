#!/usr/bin/env bash
# Installs the local stand-ins for S3 and Kinesis that the AWS tests and benchmarks
# talk to: s3rver (an S3-compatible server) and kinesalite (a Kinesis-compatible one),
# both from npm, pinned, into third_party/npm (ignored by git). Idempotent.
#
# Prints nothing and exits 0 when they are there; exits 3 with a message when npm is
# missing or cannot install them, so callers can skip instead of failing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/npm"
S3RVER_VERSION=3.7.1
KINESALITE_VERSION=3.3.3

have() {
  [ -f "$dest/node_modules/s3rver/package.json" ] &&
    [ -f "$dest/node_modules/kinesalite/package.json" ] &&
    grep -q "\"version\": \"$S3RVER_VERSION\"" "$dest/node_modules/s3rver/package.json" &&
    grep -q "\"version\": \"$KINESALITE_VERSION\"" "$dest/node_modules/kinesalite/package.json"
}

have && exit 0
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "aws-peers: npm or node not found; cannot install s3rver and kinesalite" >&2
  exit 3
fi
mkdir -p "$dest"
# A lock so that tests running in parallel do not install over each other.
exec 9>"$dest/.install.lock"
flock 9
have && exit 0
[ -f "$dest/package.json" ] || echo '{"name":"finstream-aws-peers","private":true}' >"$dest/package.json"
if ! (cd "$dest" && npm install --silent --no-audit --no-fund --no-save \
        "s3rver@$S3RVER_VERSION" "kinesalite@$KINESALITE_VERSION" >"$dest/install.log" 2>&1); then
  echo "aws-peers: npm install of s3rver and kinesalite failed (see $dest/install.log)" >&2
  exit 3
fi
have || { echo "aws-peers: s3rver or kinesalite missing after install" >&2; exit 3; }
exit 0
