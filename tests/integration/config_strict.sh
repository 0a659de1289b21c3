#!/usr/bin/env bash
# Strict configuration and checked input at the command line: every mistake in
# finstream.ini is an error naming file, line and key before anything runs; names cannot
# walk out of the data directory; an edited shard count and a damaged stream.ini are
# refused (check never says ok for them); an empty query and a UTF-16 replay fail.
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/data"
ini="$T/data/finstream.ini"

# expect_config TEXT NEEDLE: collect refuses to run, naming the place
expect_config() {
  printf '%b' "$1" >"$ini"
  local err rc=0
  err=$(fs collect --out "$T/never.json" 2>&1) || rc=$?
  [ "$rc" -ne 0 ] || fail "accepted: $1"
  assert_contains "$err" "$2" "message for: $1"
  [ ! -e "$T/never.json" ] || fail "something ran with: $1"
}
expect_config '[colector "c"]\nsource = sim\n' 'finstream.ini:1: unknown section \[colector "c"\]; did you mean \[collector\]?'
expect_config 'source = sim\n[collector "c"]\n' "finstream.ini:1: key 'source' is outside a section"
expect_config '[collector "c"]\nsource = sim\nshards = 2\n' "finstream.ini:3: \[collector \"c\"\]: key 'shards' belongs in a \[stream\] section"
expect_config '[stream "s"]\nshards = 2\n[stream "s"]\n' 'finstream.ini:3: \[stream "s"\] again (first at line 1)'
expect_config '[stream "s"]\nretention = 1h\nretention = 2h\n' "finstream.ini:3: \[stream \"s\"\]: key 'retention' again"
expect_config '[delivery "d"]\nbuffer_interval = 1.5s\n' "finstream.ini:2: \[delivery \"d\"\]: buffer_interval: '1.5s' is not a whole number of seconds"
expect_config '[collector "c"]\nevery = 0.5ms\n' "finstream.ini:2: \[collector \"c\"\]: every: '0.5ms' is not a whole number of milliseconds"
expect_config '[collector "../../x"]\nsource = sim\n' "finstream.ini:1: \[collector \"../../x\"\]: collector name '../../x' may not start with '.'"
expect_config '[collector "a"]\n[collector "b"]\n' 'has 2 \[collector\] sections: "a" (line 1), "b" (line 2); choose one with --collector NAME'
[ ! -e "$T/x" ] && [ ! -e "$T/data/../x" ] || fail "a collector name wrote outside the data directory"

# the two collectors run when one is chosen; a name given on the command line is checked too
printf '[collector "a"]\ntickers = FB\n[collector "b"]\ntickers = SNAP,\n' >"$ini"
fs collect --collector a --out "$T/a.json" 2>/dev/null || fail "chosen collector did not run"
assert_eq "$(grep -c '"name":"FB"' "$T/a.json")" 390 "the chosen collector's tickers"
rc=0; err=$(fs collect --collector ../b 2>&1) || rc=$?
assert_eq "$rc" 2 "a bad --collector name is a usage error"
assert_contains "$err" "collector name '../b'" "--collector name checked"
# a long ticker list on one line (no line length limit)
printf '[collector "c"]\nsource = sim\ntickers = %s\n' "$(seq -f "T%g" 1 300 | paste -sd,)" >"$ini"
fs collect --date 2020-05-14 --interval 1d --out "$T/many.json" 2>/dev/null || fail "300 tickers on one line"
assert_eq "$(wc -l <"$T/many.json")" 300 "one daily bar per ticker"
rm -f "$ini"

# a stream's own stream.ini: the shard count is not edited there, and damage fails check
fs stream create s --shards 2 >/dev/null
fs stream put s --key-field name '{"name":"A"}' '{"name":"B"}' '{"name":"C"}' >/dev/null
sini="$T/data/streams/s/stream.ini"
cp "$sini" "$T/stream.ini.good"
sed -i '0,/^shards = 2/s//shards = 3/' "$sini"
rc=0; err=$(fs stream put s --key K x 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "a put after editing shards was accepted"
assert_contains "$err" 'stream.ini:3: \[stream "s"\]: shards = 3, but the stream was created with 2' "edited shards refused"
assert_contains "$err" "stream scale|split|merge" "the message says how to reshard"
rc=0; out=$(fs check s 2>&1) || rc=$?
assert_eq "$rc" 1 "check of a stream with an edited shard count"
if grep -q ': ok' <<<"$out"; then fail "check said ok: $out"; fi
cp "$T/stream.ini.good" "$sini"
sed -i 's/^created = .*/created = yesterday/' "$sini"
rc=0; out=$(fs check 2>&1) || rc=$?
assert_eq "$rc" 1 "check of a stream with a damaged stream.ini"
if grep -q ': ok' <<<"$out"; then fail "check said ok: $out"; fi
assert_contains "$out" "stream.ini:" "check names the file"
cp "$T/stream.ini.good" "$sini"
assert_contains "$(fs check s 2>&1)" "s: " "check after the repair"
fs check s >/dev/null || fail "check of the restored stream"

# an empty query is an error; so is a replay of UTF-16 records
rc=0; err=$(fs query "" 2>&1) || rc=$?
assert_eq "$rc" 2 "query \"\""
assert_contains "$err" "the SQL is empty" "query \"\" says why"
printf '{"name":"FB","high":1}\n' | iconv -f UTF-8 -t UTF-16 >"$T/u16.json"
rc=0; err=$(fs collect --source "replay:$T/u16.json" --out "$T/u16.out" 2>&1) || rc=$?
assert_eq "$rc" 1 "replay of UTF-16"
assert_contains "$err" "UTF-16LE text, not UTF-8" "replay says why"
echo "config_strict: ok"
