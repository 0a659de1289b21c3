# docs_commands.sh - every finstream command shown in README.md and docs/*.md runs
# (docs_commands.py says how; docs_skip.txt lists what cannot run here and why).
source "$(dirname "$0")/lib.sh"
python3 "$FIN_SRC/tests/integration/docs_commands.py" "$FIN_SRC" "$FIN_BIN" \
  "$FIN_SRC/tests/integration/docs_skip.txt"
