# lib.sh - sourced by the shell tests: a fresh data directory, assertions that print both sides.
set -euo pipefail
: "${FIN_BIN:?FIN_BIN must point at the finstream binary}"
T=$(mktemp -d "${TMPDIR:-/tmp}/finstream-it-XXXXXX")
trap 'rm -rf "$T"' EXIT
fs() { "$FIN_BIN" --data-dir "$T/data" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
assert_eq() { [ "$1" == "$2" ] || fail "${3:-values differ}: expected [$2], got [$1]"; }
assert_contains() { grep -q -- "$2" <<<"$1" || fail "${3:-missing text}: [$2] not in [$1]"; }
skip_without_shared() {
  if [ ! -d "${FIN_SHARED_DATA:-}/firehose" ]; then
    echo "shared data folder not found (${FIN_SHARED_DATA:-unset}): skipping"; exit 0
  fi
}
