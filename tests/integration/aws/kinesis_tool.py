"""kinesis_tool.py ENDPOINT OP JSON-ARGS: one Kinesis operation through botocore, for the
shell tests. OP is create (a 2-shard stream, waiting until ACTIVE) or count (records and
distinct partition keys in a stream, checking each record's name matches its key)."""
import json
import sys
import time

import botocore.session

endpoint, op, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
c = botocore.session.get_session().create_client(
    "kinesis", region_name="us-east-1", endpoint_url=endpoint,
    aws_access_key_id=args.get("key", "AKIDEXAMPLE"),
    aws_secret_access_key=args.get("secret", "secret"))
if op == "count":
    n, keys = 0, set()
    for shard in c.list_shards(StreamName=args["stream"])["Shards"]:
        it = c.get_shard_iterator(StreamName=args["stream"], ShardId=shard["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            r = c.get_records(ShardIterator=it, Limit=10000)
            for rec in r["Records"]:
                n += 1
                keys.add(rec["PartitionKey"])
                assert json.loads(rec["Data"])["name"] == rec["PartitionKey"]
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")
    print(n, len(keys))
elif op == "create":
    c.create_stream(StreamName=args["stream"], ShardCount=2)
    for _ in range(200):
        if c.describe_stream_summary(StreamName=args["stream"])["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
            break
        time.sleep(0.05)
else:
    sys.exit("unknown operation " + op)
