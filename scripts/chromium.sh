#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser test (a large package, so it is
# installed only when that test runs, not by setup.sh). Idempotent.
#
# Prints the browser's path and exits 0 when it is there; exits 3 with a message when it
# cannot be installed (not root, no apt), so the test can skip instead of failing.
set -uo pipefail
for b in /usr/bin/chromium /usr/bin/chromium-browser; do
  [ -x "$b" ] && { echo "$b"; exit 0; }
done
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: not installed, and cannot install it here (needs root and apt-get)" >&2
  exit 3
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Another apt run may hold the lock: wait for it rather than fail.
if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
       chromium fonts-dejavu-core >"$log" 2>&1; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq >>"$log" 2>&1
  if ! apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
         chromium fonts-dejavu-core >>"$log" 2>&1; then
    echo "chromium: apt-get install chromium failed:" >&2
    tail -5 "$log" >&2
    exit 3
  fi
fi
[ -x /usr/bin/chromium ] || { echo "chromium: /usr/bin/chromium missing after install" >&2; exit 3; }
echo /usr/bin/chromium
