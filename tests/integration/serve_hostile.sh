#!/usr/bin/env bash
# Slow senders, garbage, half requests and too many connections from one client: serve
# cuts them off and keeps serving others; the streams are untouched.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
start_serve --timeout 1s --max-per-client 8
/usr/bin/python3 "$(dirname "$0")/serve/hostile.py" "$EP"
assert_eq "$(curl -s "$EP/health")" "ok"
stop_serve
echo "serve_hostile: ok"
