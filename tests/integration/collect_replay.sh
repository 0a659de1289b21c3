# collect_replay.sh - finstream collect --source replay:PATH: our own records come back
# byte for byte in every framing, and the real Firehose objects replay in full.
source "$(dirname "$0")/lib.sh"

# Round trip: sim records -> lines, back-to-back objects, array, gzip -> replay -> same bytes.
fs collect --date 2020-12-14 --out "$T/sim.json" 2>/dev/null
mkdir -p "$T/framed/a" "$T/framed/b"
tr -d '\n' <"$T/sim.json" >"$T/framed/a/concatenated"
{ echo '['; sed '$!s/$/,/' "$T/sim.json"; echo ']'; } >"$T/framed/b/array.json"
gzip -c "$T/sim.json" >"$T/framed/lines.gz"
for f in "$T/sim.json" "$T/framed/a/concatenated" "$T/framed/b/array.json" "$T/framed/lines.gz"; do
  fs collect --source "replay:$f" --out "$T/back.json" 2>/dev/null || fail "replay of $f failed"
  cmp -s "$T/back.json" "$T/sim.json" || fail "replay of $f did not give the records back"
done
fs collect --source "replay:$T/framed" --out "$T/all.json" 2>"$T/all.err"
assert_eq "$(wc -l <"$T/all.json")" $((3 * $(wc -l <"$T/sim.json"))) "a folder, recursively"
assert_contains "$(cat "$T/all.err")" "collect   11,700 records" "summary"

# Ticker and window filters apply when asked for.
fs collect --source "replay:$T/sim.json" --tickers FB,SNAP --start "2020-12-14 10:00" --end "2020-12-14 11:00" \
  --out "$T/some.json" 2>/dev/null
assert_eq "$(wc -l <"$T/some.json")" 120 "two tickers, one hour"

# Malformed records are reported with file, line and record number, and skipped.
printf '{"name":"FB","high":1}\n{"name":"FB",\n{"name":"SNAP","high":2}\n' >"$T/bad.json"
fs collect --source "replay:$T/bad.json" --out "$T/bad.out" 2>"$T/bad.err"
assert_eq "$(wc -l <"$T/bad.out")" 2 "good records pass"
assert_contains "$(cat "$T/bad.err")" "bad.json:2: record 2:" "bad record named"
assert_contains "$(cat "$T/bad.err")" "1 bad input skipped" "summary counts it"

skip_without_shared
F=$FIN_SHARED_DATA/firehose
for case in 2020-05-14-ndjson-offset:3844 2020-05-14-ndjson-mixedcase:3844 2021-05-11-concatenated:780; do
  dir=${case%%:*} want=${case##*:}
  fs collect --source "replay:$F/$dir/objects" --out "$T/$dir.json" 2>"$T/$dir.err" \
    || fail "replay of $dir failed: $(cat "$T/$dir.err")"
  assert_eq "$(wc -l <"$T/$dir.json")" "$want" "records replayed from $dir"
  assert_eq "$(grep -c . "$T/$dir.json")" "$want" "one object per line from $dir"
done
# Line-framed objects come back exactly as Firehose wrote them.
find "$F/2020-05-14-ndjson-offset/objects" -type f | sort | xargs cat >"$T/expected.json"
cmp -s "$T/2020-05-14-ndjson-offset.json" "$T/expected.json" || fail "offset objects not replayed byte for byte"
assert_eq "$(head -1 "$T/2021-05-11-concatenated.json")" '{"high":302.47,"low":299.77,"ts":"05-11-2021 09:30:00-0400","name":"FB"}' \
  "back-to-back objects split into lines"
# The mixed-case day filtered by ticker (any case) and by window.
fs collect --source "replay:$F/2020-05-14-ndjson-mixedcase/objects" --tickers FB --date 2020-05-14 \
  --out "$T/fb.json" 2>/dev/null
assert_eq "$(wc -l <"$T/fb.json")" "$(grep -c '"Name": "fb"' "$T/2020-05-14-ndjson-mixedcase.json")" "FB from the mixed-case day"
echo "collect_replay: ok"
