#!/usr/bin/env bash
# Installs the AWS SDK for JavaScript v3 Kinesis client the client tests use, exactly as
# pinned in tests/integration/serve/js/package-lock.json (npm ci checks every package's
# integrity hash), into third_party/js-sdk (ignored by git). Idempotent.
#
# Prints nothing and exits 0 when it is there; exits 3 with a message when npm is
# missing or cannot install it, so callers can skip instead of failing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/tests/integration/serve/js"
dest="$root/third_party/js-sdk"

have() {
  [ -f "$dest/node_modules/@aws-sdk/client-kinesis/package.json" ] &&
    cmp -s "$src/package-lock.json" "$dest/package-lock.json"
}

have && exit 0
if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "js-sdk: npm or node not found; cannot install @aws-sdk/client-kinesis" >&2
  exit 3
fi
mkdir -p "$dest"
# a lock so that tests running in parallel do not install over each other
exec 9>"$dest/.install.lock"
flock 9
have && exit 0
cp "$src/package.json" "$src/package-lock.json" "$dest/"
if ! (cd "$dest" && npm ci --silent --no-audit --no-fund >"$dest/install.log" 2>&1); then
  echo "js-sdk: npm ci of @aws-sdk/client-kinesis failed (see $dest/install.log)" >&2
  exit 3
fi
have || { echo "js-sdk: @aws-sdk/client-kinesis missing after install" >&2; exit 3; }
exit 0
