#!/usr/bin/env bash
# The console's JSON API with curl: the overview and its event stream, a stream's shards,
# tail and resharding, the lake and object previews, the catalog and DDL, SQL jobs (page,
# sort, chart, CSV identical to `finstream query`, cancel), the reports' data, and access:
# Host and CSRF checks, logins with keys or the token, and the console beside serve.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "curl not found: skipping"; exit 0; }
fs run >/dev/null 2>"$T/run.err" || { cat "$T/run.err"; fail "finstream run"; }

pids=()
outs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

# start_console OUT [args...]: runs a finstream command that prints "console on URL"
start_bg() {
  local out=$1; shift
  "$FIN_BIN" --data-dir "$T/data" "$@" >"$out" 2>"$out.err" &
  pids+=($!)
  outs+=("$out")
  for _ in $(seq 600); do grep -q "console on" "$out" && return 0; sleep 0.1; done
  cat "$out.err"; fail "console did not start: $*"
}
# the system python when there is one (a version manager's shim costs seconds a call)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
jq_() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# poll CMD... until it succeeds, for up to 60 s
poll() { for _ in $(seq 600); do "$@" && return 0; sleep 0.1; done; return 1; }

start_bg "$T/c1" console --listen 127.0.0.1:0 --refresh 200ms
U=$(sed -n 's/^console on //p' "$T/c1")
C="curl -s --max-time 60"
csrf=$($C "${U}api/session" | jq_ 'd["csrf"]')
[ ${#csrf} -eq 64 ] || fail "session gives no CSRF token"

# ---- the page and its assets are in the binary
page=$($C "$U")
assert_contains "$page" "/assets/app.js" "index page"
assert_eq "$($C -o /dev/null -w '%{http_code}' "${U}assets/app.js")" 200 "app.js"
if [ -f "$FIN_SRC/third_party/web/codemirror.js" ]; then
  assert_eq "$($C -o /dev/null -w '%{http_code}' "${U}assets/lib/codemirror.js")" 200 "codemirror.js embedded"
fi

# ---- access checks
assert_eq "$($C -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "${U}api/overview")" 403 "foreign Host"
assert_eq "$($C -o /dev/null -w '%{http_code}' -X POST -d '{"sql":"select 1"}' "${U}api/queries")" 403 "POST without CSRF"
assert_eq "$($C -o /dev/null -w '%{http_code}' -X POST -H "X-CSRF-Token: $csrf" -H 'Origin: http://attacker.example' \
            -d '{"sql":"select 1"}' "${U}api/queries")" 403 "POST from another origin"

# ---- overview: what the pipeline holds
ov=$($C "${U}api/overview")
assert_eq "$(jq_ 'd["streams"][0]["name"], d["streams"][0]["open_shards"]' <<<"$ov")" "stocks 2" "streams"
assert_eq "$(jq_ 'd["deliveries"][0]["name"], d["deliveries"][0]["records"], d["deliveries"][0]["lag_records"]' <<<"$ov")" \
  "lake 3900 0" "delivery counters and lag"
assert_eq "$(jq_ 'd["streams"][0]["consumers"][0]["name"]' <<<"$ov")" "lake" "the delivery as the stream's consumer"
assert_eq "$(jq_ 'd["collectors"][0]["name"], d["collectors"][0]["schedule"], "last_run" in d["collectors"][0]' <<<"$ov")" \
  "classic once True" "collector"

# new records: counted per second, lag grows (nothing delivers them), the event stream says so
for i in $(seq 1 50); do echo "{\"name\":\"ZZ$i\",\"ts\":\"2020-05-14 16:00:00-04:00\",\"high\":1.5,\"low\":1.0}"; done |
  fs stream put stocks >/dev/null
rate_seen() {
  $C "${U}api/overview" | jq_ 'sum(s["records_per_s"] for s in d["streams"]) > 0 and d["deliveries"][0]["lag_records"] == 50' |
    grep -q True
}
poll rate_seen || fail "the overview never counted the 50 new records: $($C "${U}api/overview")"
ev=$(timeout 20 curl -sN "${U}api/events" | head -n 3 || true)
assert_contains "$ev" "event: overview" "event stream"
assert_contains "$ev" '"lag_records":50' "event stream data"

# ---- a stream: shards, tail, resharding
st=$($C "${U}api/streams/stocks")
assert_eq "$(jq_ 'len(d["shards"]), d["shards"][0]["hash_start"]' <<<"$st")" "2 0" "shards"
tail1=$($C "${U}api/streams/stocks/tail?limit=5")
assert_eq "$(jq_ 'len(d["records"]), json.loads(d["records"][-1]["data"])["name"] in ("ZZ50","ZZ49","ZZ48")' <<<"$tail1")" \
  "5 True" "the tail ends with the newest records"
cursor=$(jq_ 'd["cursor"]' <<<"$tail1")
echo '{"name":"ZZNEW","ts":"2020-05-14 16:01:00-04:00","high":2.5,"low":2.0}' | fs stream put stocks >/dev/null
tail2=$($C -G --data-urlencode "cursor=$cursor" "${U}api/streams/stocks/tail")
assert_eq "$(jq_ '[json.loads(r["data"])["name"] for r in d["records"]]' <<<"$tail2")" "['ZZNEW']" "tail after the cursor"
P="$C -X POST -H X-CSRF-Token:$csrf -H Content-Type:application/json"
sp=$($P -d '{"shard":"shardId-000000000000"}' "${U}api/streams/stocks/split")
assert_eq "$(jq_ 'd["open_shards"], len(d["shards"]), d["shards"][0]["closed"], sorted(s["parent"] for s in d["shards"])' <<<"$sp")" \
  "3 4 True ['', '', 'shardId-000000000000', 'shardId-000000000000']" "split"
mg=$($P -d '{"shard":"shardId-000000000002","adjacent":"shardId-000000000003"}' "${U}api/streams/stocks/merge")
assert_eq "$(jq_ 'd["open_shards"], d["shards"][-1]["parent"], d["shards"][-1]["adjacent_parent"]' <<<"$mg")" \
  "2 shardId-000000000002 shardId-000000000003" "merge"
bad=$($P -d '{"shard":"shardId-000000000000"}' "${U}api/streams/stocks/split")
assert_contains "$(jq_ 'd["message"]' <<<"$bad")" "already been merged or split" "closed shard"
assert_eq "$($C -o /dev/null -w '%{http_code}' "${U}api/streams/..%2Fetc")" 400 "bad stream name"

# ---- lake
obj=$(cd "$T/data/lake" && find . -type f ! -name '.*' | sed 's|^\./||' | head -1)
size=$(stat -c %s "$T/data/lake/$obj")
lk=$($C "${U}api/lake")
assert_eq "$(jq_ 'd["folders"][0]["objects"], d["folders"][0]["bytes"]' <<<"$lk")" "1 $size" "lake tree"
pv=$($C -G --data-urlencode "key=$obj" "${U}api/lake/object?limit=3")
assert_eq "$(jq_ 'd["format"], d["framing"], d["records"], len(d["rows"]), d["rows"][0]["name"]' <<<"$pv")" \
  "json lines $(wc -l <"$T/data/lake/$obj") 3 $(head -1 "$T/data/lake/$obj" | jq_ 'd["name"]')" "object preview"
$C -G --data-urlencode "key=$obj" "${U}api/lake/raw" | cmp - "$T/data/lake/$obj" || fail "raw object differs"
assert_eq "$($C -o /dev/null -w '%{http_code}' "${U}api/lake/object?key=../finstream.ini")" 400 "key outside the lake"
# gzip and Parquet objects (removed again: the report below reads the whole lake)
mkdir -p "$T/data/lake/tmpcheck"
gzip -c "$T/data/lake/$obj" >"$T/data/lake/tmpcheck/x.json.gz"
fs query "COPY (SELECT name, high FROM finance.stocks ORDER BY ts, name LIMIT 7) TO '$T/data/lake/tmpcheck/x.parquet' (FORMAT parquet)" >/dev/null
gz=$($C "${U}api/lake/object?key=tmpcheck/x.json.gz&limit=1")
assert_eq "$(jq_ 'd["format"], d["gzip"], d["records"]' <<<"$gz")" "json True $(wc -l <"$T/data/lake/$obj")" "gzip preview"
pq=$($C "${U}api/lake/object?key=tmpcheck/x.parquet&limit=2")
assert_eq "$(jq_ 'd["format"], [c["name"] + ":" + c["type"] for c in d["schema"]], d["records"], len(d["rows"])' <<<"$pq")" \
  "parquet ['name:VARCHAR', 'high:DOUBLE'] 7 2" "Parquet preview"
rm -rf "$T/data/lake/tmpcheck"

# ---- catalog
ct=$($C "${U}api/catalog")
assert_eq "$(jq_ 'd["databases"][0]["name"], d["databases"][0]["tables"][0]["name"], [c["name"] for c in d["databases"][0]["tables"][0]["columns"]][:4]' <<<"$ct")" \
  "finance stocks ['name', 'ts', 'open', 'high']" "catalog"
tb=$($C "${U}api/catalog/finance.stocks?location=s3://bucket/stocks/")
assert_contains "$(jq_ 'd["ddl"]' <<<"$tb")" "LOCATION 's3://bucket/stocks/'" "DDL"
assert_eq "$(jq_ 'len(d["partition_list"])' <<<"$tb")" 1 "partitions"

# ---- SQL jobs
sql="SELECT name, substring(ts, 12, 2) AS hour, high, ts
FROM (SELECT name, ts, high,
             row_number() OVER (PARTITION BY name, substring(ts, 12, 2) ORDER BY high DESC) AS rn
      FROM finance.stocks)
WHERE rn = 1 ORDER BY name, hour"
fs query --format csv "$sql" >"$T/expected.csv"
body=$("$PY" -c 'import json,sys; print(json.dumps({"sql": sys.argv[1]}))' "$sql")
id=$($P -d "$body" "${U}api/queries" | jq_ 'd["id"]')
done_() { $C "${U}api/queries/$id" | jq_ 'd["state"]' | grep -qv RUNNING; }
poll done_ || fail "query still running"
qd=$($C "${U}api/queries/$id?limit=5&sort=2&desc=1")
rows=$(($(wc -l <"$T/expected.csv") - 1))
assert_eq "$(jq_ 'd["state"], d["rows"], len(d["page"]), d["bytes_scanned"] > 0' <<<"$qd")" "SUCCEEDED $rows 5 True" "query job"
top=$(tail -n +2 "$T/expected.csv" | cut -d'"' -f6 | sort -g | tail -1)
assert_eq "$(jq_ 'd["page"][0][2]' <<<"$qd")" "$top" "sorted by high, descending"
$C "${U}api/queries/$id/csv" | cmp - "$T/expected.csv" || fail "CSV differs from finstream query's"
rid=$(jq_ 'd["result_id"]' <<<"$qd")
[ -f "$T/data/results/$rid.csv" ] || fail "answer not saved under results/"
$C "${U}api/results/$rid.csv" | cmp - "$T/expected.csv" || fail "saved CSV differs"
ch=$($C "${U}api/queries/$id/chart?x=hour&y=high")
assert_eq "$(jq_ 'len(d["x"]["values"]), d["y"][0]["numeric"], d["x"]["numeric"]' <<<"$ch")" "$rows True False" "chart data"
hist=$($C "${U}api/queries")
assert_contains "$(jq_ '[h["query_id"] for h in d["history"]]' <<<"$hist")" "$rid" "history"
id=$($P -d '{"sql":"SELECT nosuchcolumn FROM finance.stocks"}' "${U}api/queries" | jq_ 'd["id"]')
poll done_ || fail "bad query still running"
assert_contains "$($C "${U}api/queries/$id" | jq_ 'd["state"], d["error"]')" "FAILED" "bad SQL fails"
assert_contains "$($C "${U}api/queries/$id" | jq_ 'd["error"]')" "nosuchcolumn" "the error names the column"
id=$($P -d '{"sql":"SELECT count(*) FROM range(1000000000000) a, range(1000) b WHERE a.range * b.range = 7"}' \
     "${U}api/queries" | jq_ 'd["id"]')
started() { $C "${U}api/queries/$id" | jq_ 'd["elapsed_seconds"] > 0.3' | grep -q True; }
poll started
$P -d '{}' "${U}api/queries/$id/cancel" >/dev/null
poll done_ || fail "canceled query still running"
assert_eq "$($C "${U}api/queries/$id" | jq_ 'd["state"]')" "CANCELLED" "cancel"

# ---- reports' data
rp=$($C "${U}api/reports/data?tickers=FB,NFLX")
assert_eq "$(jq_ 'd["date"], len(d["ranges"]), [s["ticker"] for s in d["series"]], len(d["series"][0]["t"])' <<<"$rp")" \
  "2020-05-14 10 ['FB', 'NFLX'] 390" "report data"
assert_eq "$($C -o /dev/null -w '%{http_code}' "${U}reports/2020-05-14/index.html")" 200 "report page"

# ---- a console that asks for keys
cat >>"$T/data/finstream.ini" <<'INI'

[serve]
access_keys = AKIDCONSOLE:s3cr3t
INI
start_bg "$T/c2" console --listen 127.0.0.1:0
U2=$(sed -n 's/^console on //p' "$T/c2")
token=$(sed -n 's/^console token //p' "$T/c2")
[ ${#token} -eq 64 ] || fail "no token printed"
assert_eq "$($C -o /dev/null -w '%{http_code}' "${U2}api/overview")" 401 "login required"
assert_eq "$($C "${U2}api/session" | jq_ 'd["login_required"], d["authenticated"]')" "True False" "session"
assert_eq "$($C -o /dev/null -w '%{http_code}' -X POST -d '{"access_key_id":"AKIDCONSOLE","secret_access_key":"wrong"}' "${U2}api/login")" \
  401 "wrong secret"
csrf2=$($C -c "$T/jar" -X POST -d '{"access_key_id":"AKIDCONSOLE","secret_access_key":"s3cr3t"}' "${U2}api/login" | jq_ 'd["csrf"]')
assert_eq "$($C -b "$T/jar" -o /dev/null -w '%{http_code}' "${U2}api/overview")" 200 "session cookie"
assert_eq "$($C -b "$T/jar" -o /dev/null -w '%{http_code}' -X POST -d '{"sql":"select 1"}' "${U2}api/queries")" 403 "session without CSRF"
assert_eq "$($C -b "$T/jar" -o /dev/null -w '%{http_code}' -X POST -H "X-CSRF-Token: $csrf2" -d '{"sql":"select 1"}' "${U2}api/queries")" \
  202 "session with CSRF"
assert_eq "$($C -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -X POST -d '{"sql":"select 1"}' "${U2}api/queries")" \
  202 "bearer token"

# ---- beside serve: resharding goes through serve's writer
start_bg "$T/s1" serve --listen 127.0.0.1:0 --console 127.0.0.1:0
U3=$(sed -n 's/^console on //p' "$T/s1")
tok3=$(sed -n 's/^console token //p' "$T/s1")
$C "http://$(sed -n 's/^listening on //p' "$T/s1")/health" | grep -q ok || fail "serve's API endpoint"
# the console inside serve reshards with serve's writer; a standalone one cannot take it
sc=$($C -X POST -H "Authorization: Bearer $tok3" -d '{"target":3}' "${U3}api/streams/stocks/scale")
assert_eq "$(jq_ 'd["open_shards"]' <<<"$sc")" 3 "scale through serve"
assert_eq "$($P -o /dev/null -w '%{http_code}' -d '{"target":2}' "${U}api/streams/stocks/scale")" 409 "writer held by serve"

# ---- a non-loopback address needs keys (or --insecure)
sed -i '/^\[serve\]/,$d' "$T/data/finstream.ini"
if timeout 30 "$FIN_BIN" --data-dir "$T/data" console --listen 0.0.0.0:0 >"$T/c4" 2>&1; then fail "non-loopback console without keys started"; fi
assert_contains "$(cat "$T/c4")" "not a loopback address" "non-loopback refused"
# every console stops cleanly on SIGTERM (under the sanitizers: without leaks or errors)
for i in "${!pids[@]}"; do
  kill -TERM "${pids[$i]}"
  rc=0; wait "${pids[$i]}" || rc=$?
  [ $rc -eq 0 ] || { tail -30 "${outs[$i]}.err"; fail "${outs[$i]##*/} exited with $rc after SIGTERM"; }
done
pids=()
echo "console API: ok"
