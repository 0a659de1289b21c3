#!/usr/bin/env bash
# The Python example of docs/serve.md runs as written (only the port changed): the
# delivery stream takes the put right after create_delivery_stream, with no waiter, and
# the record reaches the lake.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
STATUS_DELAY=0ms start_serve   # the Kinesis waiter then returns at its first poll
awk '/^```python$/{on=1; next} /^```$/{on=0} on' "${FIN_SRC:-$(dirname "$0")/../..}/docs/serve.md" |
  sed "s/127.0.0.1:4567/127.0.0.1:$PORT/g" > "$T/example.py"
grep -q create_delivery_stream "$T/example.py" || fail "no Python example found in docs/serve.md"
/usr/bin/python3 "$T/example.py" || fail "the example failed"
stop_serve
assert_eq "$(find "$T/data/lake/stocks" -type f -exec cat {} +)" '{"name":"FB"}' "the example's record in the lake"
echo "serve_docs_example: ok"
