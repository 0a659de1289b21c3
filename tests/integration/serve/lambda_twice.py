"""Lambda Invoke of a collector twice for the same window adds nothing the second time.

    lambda_twice.py ENDPOINT

[collector "classic"] (sim, to stream:lam) is invoked for FB on 2020-05-14, again the
same, then for FB and SHOP; the stream must hold each bar once (780 records).
"""
import json
import sys

import boto3
import botocore.config

ep = sys.argv[1]
kw = dict(endpoint_url=ep, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
          aws_secret_access_key="secret",
          config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=120))
lam = boto3.client("lambda", **kw)
k = boto3.client("kinesis", **kw)
k.create_stream(StreamName="lam", ShardCount=1)
k.get_waiter("stream_exists").wait(StreamName="lam", WaiterConfig={"Delay": 0.2})


def invoke(tickers):
    r = lam.invoke(FunctionName="classic", Payload=json.dumps({"date": "2020-05-14",
                                                               "tickers": tickers}).encode())
    if r.get("FunctionError"):
        sys.exit("FAIL: invoke: %s" % r["Payload"].read())
    return json.loads(r["Payload"].read())


runs = [invoke(["FB"]), invoke(["FB"]), invoke(["FB", "SHOP"])]
want = [(390, 0), (0, 390), (390, 390)]
got = [(s["records"], s["duplicates"]) for s in runs]
if got != want:
    sys.exit("FAIL: (records, duplicates) per invoke: %r, want %r" % (got, want))
it = k.get_shard_iterator(StreamName="lam", ShardId="shardId-000000000000",
                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
recs = k.get_records(ShardIterator=it, Limit=10000)["Records"]
bars = [json.loads(r["Data"]) for r in recs]
keys = {(b["name"], b["ts"]) for b in bars}
if len(bars) != 780 or len(keys) != 780:
    sys.exit("FAIL: %d records, %d distinct bars in the stream (want 780 and 780)" %
             (len(bars), len(keys)))
print("lambda: invoked 3 times, 780 distinct bars in the stream")
