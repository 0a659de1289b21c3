#!/usr/bin/env bash
# Installs what the console's browser test needs: Debian's chromium (scripts/chromium.sh)
# and puppeteer-core from npm, pinned by version and checked against its sha512
# integrity, into third_party/npm-console (ignored by git). Idempotent.
#
# Prints the chromium path and exits 0 when both are there; exits 3 with a message when
# either cannot be installed, so the test can skip instead of failing.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/npm-console"
PUPPETEER_VERSION=24.43.1
PUPPETEER_INTEGRITY="sha512-T5ScUMAsmhdNbgDR41AGESYeS6V9MSgetkSnVhhW+gXvzC42VesKCn5ld87gAZDJ6vLHL9GkRvY9WtQWSnwFbw=="

chromium=$(bash "$root/scripts/chromium.sh") || exit 3

have() {
  [ -f "$dest/node_modules/puppeteer-core/package.json" ] &&
    grep -q "\"version\": \"$PUPPETEER_VERSION\"" "$dest/node_modules/puppeteer-core/package.json"
}
if ! have; then
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "console-test-deps: npm or node not found; cannot install puppeteer-core" >&2
    exit 3
  fi
  mkdir -p "$dest"
  exec 9>"$dest/.install.lock"
  flock 9
  if ! have; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    if ! (cd "$tmp" && npm pack --silent "puppeteer-core@$PUPPETEER_VERSION" >"$tmp/pack" 2>"$tmp/err"); then
      echo "console-test-deps: npm pack puppeteer-core failed:" >&2
      tail -3 "$tmp/err" >&2
      exit 3
    fi
    tgz="$tmp/$(tail -1 "$tmp/pack")"
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$PUPPETEER_INTEGRITY" ]; then
      echo "console-test-deps: puppeteer-core integrity mismatch: got $got" >&2
      exit 3
    fi
    [ -f "$dest/package.json" ] || echo '{"name":"finstream-console-tests","private":true}' >"$dest/package.json"
    # The checked tarball itself; npm checks its dependencies against the registry's
    # integrity fields.
    if ! (cd "$dest" && npm install --silent --no-audit --no-fund --no-save "$tgz" >"$dest/install.log" 2>&1); then
      echo "console-test-deps: npm install of puppeteer-core failed (see $dest/install.log)" >&2
      exit 3
    fi
    have || { echo "console-test-deps: puppeteer-core missing after install" >&2; exit 3; }
  fi
fi
echo "$chromium"
