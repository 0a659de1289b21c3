# collect_csv.sh - finstream collect --source csv:PATH on exports with good and bad rows:
# the records that come out, the bad lines named with file and line, the summary's count.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/in"
cat >"$T/in/FB.csv" <<'CSV'
Date,Open,High,Low,Close,Adj Close,Volume
2020-05-13,207.339996,209.149994,201.190002,205.100006,205.100006,22553900
2020-05-14,202.559998,206.690002,199.529999,205.270004,205.270004,19986800
2020-05-15,null,null,null,null,null,null
2020-05-18,209.850006,214.190002,209.050003,213.190002,213.190002,,
2020-05-19,213.660004,218.100006,212.729996,213.630005,213.630005,not-a-number
2020-05-20,216.600006,219.800003,214.600006,218.399994,218.399994,22070000
CSV
# Intraday, columns shuffled and in other cases, a symbol column, CRLF, gzip.
printf '%s\r\n' 'datetime,TICKER,volume,close,low,high,open' \
  '2020-05-14 09:30:00-04:00,SNAP,1000,15.25,15.1,15.3,15.2' \
  '2020-05-14 09:31:00,SNAP,900,15.3,15.2,15.35,15.25' \
  '2020-05-14 09:32:00,SNAP,900,15.3,15.4,15.35,15.25' \
  '2020-12-14T14:30:00Z,SNAP,800,50.5,50.1,50.9,50.2' | gzip >"$T/in/intraday.csv.gz"
echo "ignored: not a .csv file" >"$T/in/README.txt"

fs collect --source "csv:$T/in" --out "$T/all.json" 2>"$T/all.err" || fail "collect failed: $(cat "$T/all.err")"
err=$(cat "$T/all.err")
assert_eq "$(wc -l <"$T/all.json")" 6 "records from both files"
assert_eq "$(grep -c '"name":"FB"' "$T/all.json")" 3 "FB rows (one null, two bad)"
assert_eq "$(grep -c '"name":"SNAP"' "$T/all.json")" 3 "SNAP rows (one bad)"
assert_eq "$(head -1 "$T/all.json")" \
  '{"name":"FB","ts":"2020-05-13 09:30:00-04:00","open":207.339996,"high":209.149994,"low":201.190002,"close":205.100006,"volume":22553900}' \
  "a daily bar at the open, prices as spelled"
assert_contains "$(grep SNAP "$T/all.json" | tail -1)" '"ts":"2020-12-14 09:30:00-05:00"' "a UTC time shown in New York time"
assert_contains "$err" "FB.csv:5: 8 cells, the header has 7" "wrong cell count names file and line"
assert_contains "$err" 'FB.csv:6:67: volume "not-a-number" is not a whole number' "bad number names file, line and column"
assert_contains "$err" "intraday.csv.gz:4:40: high 15.35 is below low 15.4" "high below low"
assert_contains "$err" "3 bad input skipped" "summary counts bad rows"
assert_contains "$err" "1 null bars skipped" "summary counts null rows"

# A window and a ticker list filter the files.
fs collect --source "csv:$T/in" --date 2020-05-14 --tickers snap --out "$T/one.json" 2>/dev/null
assert_eq "$(wc -l <"$T/one.json")" 2 "SNAP on 2020-05-14 only"
assert_contains "$(cat "$T/one.json")" '"ts":"2020-05-14 09:31:00-04:00"' "a time without offset is New York time"

# A single file, and a folder with nothing usable.
fs collect --source "csv:$T/in/FB.csv" --fields high,low,ts,name --out "$T/four.json" 2>/dev/null
assert_eq "$(sed -n 2p "$T/four.json")" '{"high":206.690002,"low":199.529999,"ts":"2020-05-14 09:30:00-04:00","name":"FB"}' "the classic four fields"
mkdir -p "$T/empty"
set +e
fs collect --source "csv:$T/empty" >/dev/null 2>"$T/empty.err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "an empty folder must fail"
assert_contains "$(cat "$T/empty.err")" "no .csv or .csv.gz files" "empty folder message"

# A file that is not OHLCV fails alone; the run exits 1 and the good file still comes out.
printf 'a,b\n1,2\n' >"$T/in/junk.csv"
set +e
fs collect --source "csv:$T/in" --out "$T/junk.json" 2>"$T/junk.err"
rc=$?
set -e
assert_eq "$rc" 1 "exit code with a file that failed"
assert_contains "$(cat "$T/junk.err")" "junk.csv:1: no Date, Datetime or Timestamp column" "file-level failure"
assert_eq "$(wc -l <"$T/junk.json")" 6 "the other files still complete"
echo "collect_csv: ok"
