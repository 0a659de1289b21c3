# The interactive SQL shell under a pseudo-terminal (python3's pty module drives it).
source "$(dirname "$0")/lib.sh"
L="$T/data/lake"
for h in 13 14 15; do
  mkdir -p "$L/2020/05/14/$h"
  for t in FB SQ; do
    printf '{"name":"%s","high":%s.5,"ts":"2020-05-14 %s:30:00-04:00"}\n' "$t" "$h" "$((h - 4))"
  done >"$L/2020/05/14/$h/obj"
done
fs crawl --table stocks >/dev/null
python3 "$(dirname "$0")/query/shell_pty.py" "$FIN_BIN" "$T/data"
