#!/usr/bin/env bash
# Lambda Invoke is idempotent per window: a collector invoked twice for the same window
# adds nothing the second time, as `finstream collect` would not; across a restart of
# serve too, since the memory is a file beside the data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
need_boto3
mkdir -p "$T/data"
printf '[collector "classic"]\nsource = sim\ntickers = FB,SHOP\nto = stream:lam\n' > "$T/data/finstream.ini"
start_serve
/usr/bin/python3 "$(dirname "$0")/serve/lambda_twice.py" "$EP" || fail "see above"
stop_serve
[ -s "$T/data/collectors/classic@stream_lam.seen" ] || fail "no memory of what was sent"
start_serve
r=$(/usr/bin/python3 "$(dirname "$0")/serve/aws_call.py" "$EP" lambda Invoke \
    '{"FunctionName":"classic","Payload":"{\"date\":\"2020-05-14\",\"tickers\":[\"FB\",\"SHOP\"]}"}')
assert_contains "$r" '"StatusCode": 200' "invoke after a restart"
stop_serve
n=$(fs stream get lam 2>/dev/null | grep -c '"name"')
assert_eq "$n" "780" "records in the stream after a fourth invoke following a restart"
echo "serve_lambda: ok"
