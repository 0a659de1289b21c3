# finstream query with scripts, databases and the catalog commands: several statements in
# order, unqualified names (the only database, --database, [query] database, USE),
# ambiguous and unknown names, and catalog list/show --format json, rename and drop.
source "$(dirname "$0")/lib.sh"
L="$T/data/lake"
for h in 13 14 15; do
  mkdir -p "$L/2020/05/14/$h"
  for t in FB SQ; do
    printf '{"name":"%s","high":%s.5,"ts":"2020-05-14 %s:30:00-04:00"}\n' "$t" "$h" "$((h - 4))"
  done >"$L/2020/05/14/$h/obj"
done
fs crawl --table stocks >/dev/null

# a script of several statements: each result, in order, a blank line between them
out=$(fs query --format csv "SELECT 1 AS a; -- the second
SELECT 'x;y' AS b;")
assert_eq "$out" '"a"
"1"

"b"
"x;y"' "two statements, two results"
set +e
fs query --format csv "SELECT 1 AS a; SELECT nosuch; SELECT 3" >"$T/out" 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "a failing statement stops the script"
assert_eq "$(cat "$T/out")" '"a"
"1"' "the statements before it printed"
assert_contains "$(cat "$T/err")" "statement 2 of 3"

# unqualified names: the only database that has the table; --database; [query] database
assert_eq "$(fs query --format csv "SELECT count(*) AS n FROM stocks")" '"n"
"6"' "bare table name"
fs query --format csv "CREATE TABLE other.stocks AS SELECT 1 AS one" >/dev/null
set +e
fs query --format csv "SELECT count(*) FROM stocks" >/dev/null 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "ambiguous name"
assert_contains "$(cat "$T/err")" "ambiguous: finance.stocks, other.stocks"
assert_eq "$(fs query --database other --format csv "SELECT * FROM stocks")" '"one"
"1"' "--database"
printf '[query]\ndatabase = finance\n' >"$T/data/finstream.ini"
assert_eq "$(fs query --format csv "SELECT count(*) AS n FROM stocks")" '"n"
"6"' "[query] database"
assert_eq "$(fs query --format csv "USE other; SELECT * FROM stocks")" '"one"
"1"' "USE in a script"
printf '[query]\ndatabse = finance\n' >"$T/data/finstream.ini"
set +e
fs query "SELECT 1" >/dev/null 2>"$T/err"; rc=$?
rm "$T/data/finstream.ini"
fs query --database nowhere "SELECT 1" >/dev/null 2>"$T/err2"; rc2=$?
set -e
assert_eq "$rc" 1 "unknown key in [query]"
assert_contains "$(cat "$T/err")" "databse"
assert_eq "$rc2" 1 "unknown database"
assert_contains "$(cat "$T/err2")" "no database 'nowhere' in the catalog (databases: finance, other)"

# catalog list/show as JSON; rename and drop
js=$(fs catalog list --format json)
assert_eq "$(python3 -c 'import json,sys; print(" ".join(t["database"] + "." + t["name"] for t in json.load(sys.stdin)))' <<<"$js")" \
  "finance.stocks other.stocks" "catalog list --format json"
js=$(fs catalog show finance.stocks --format json)
assert_eq "$(python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["partition_count"], [p["values"]["partition_3"] for p in t["partitions"]], [c["name"] for c in t["columns"]])' <<<"$js")" \
  "3 ['13', '14', '15'] ['name', 'high', 'ts']" "catalog show --format json"
fs -q catalog rename other.stocks finance.ones
assert_eq "$(fs query --format csv "SELECT * FROM finance.ones")" '"one"
"1"' "renamed table answers under its new name"
fs -q catalog drop finance.ones
assert_eq "$(fs query --format csv "SHOW TABLES")" '"tab_name"
"stocks"' "dropped table gone"
set +e
fs catalog drop finance.ones 2>"$T/err"; rc=$?
set -e
assert_eq "$rc" 1 "dropping twice fails"
assert_contains "$(cat "$T/err")" "no table 'finance.ones'"
echo "query_databases: ok"
