# The binary's front door: help for every command, version with the engine, usage errors.
source "$(dirname "$0")/lib.sh"
out=$("$FIN_BIN" --help)
for c in run collect stream deliver crawl catalog query report serve check version; do
  assert_contains "$out" "  $c " "top-level help lists $c"
  "$FIN_BIN" "$c" --help >"$T/help.txt" 2>&1 || fail "$c --help exited non-zero"
  assert_contains "$(cat "$T/help.txt")" "usage: finstream $c" "$c --help shows usage"
done
assert_contains "$("$FIN_BIN" version)" "duckdb    v1.4" "version names DuckDB"
set +e
"$FIN_BIN" frobnicate 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 2 "unknown command exit code"
assert_contains "$(cat "$T/err")" "'frobnicate' is not a command"
echo "cli_basics: ok"
