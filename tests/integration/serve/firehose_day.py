"""The classic exercise's producer against finstream serve: a Firehose delivery stream
into bucket "stocks", then one trading day put with put_record_batch, 500 records a call,
each record a JSON object and a newline as the exercise sent them.

    firehose_day.py ENDPOINT FILE
"""
import sys
import time

import boto3

endpoint, path = sys.argv[1], sys.argv[2]
f = boto3.client("firehose", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
f.create_delivery_stream(
    DeliveryStreamName="finance-stream", DeliveryStreamType="DirectPut",
    ExtendedS3DestinationConfiguration={
        "BucketARN": "arn:aws:s3:::stocks", "RoleARN": "arn:aws:iam::000000000000:role/fh",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        "CompressionFormat": "UNCOMPRESSED"})
for _ in range(100):
    d = f.describe_delivery_stream(DeliveryStreamName="finance-stream")
    if d["DeliveryStreamDescription"]["DeliveryStreamStatus"] == "ACTIVE":
        break
    time.sleep(0.1)
lines = [l for l in open(path, "rb").read().split(b"\n") if l.strip()]
acked = 0
for i in range(0, len(lines), 500):
    r = f.put_record_batch(DeliveryStreamName="finance-stream",
                           Records=[{"Data": l + b"\n"} for l in lines[i:i + 500]])
    if r["FailedPutCount"] or len(r["RequestResponses"]) != len(lines[i:i + 500]):
        sys.exit("FAIL: batch %d: %r" % (i, r["FailedPutCount"]))
    acked += len(lines[i:i + 500])
names = f.list_delivery_streams()["DeliveryStreamNames"]
if names != ["finance-stream"]:
    sys.exit("FAIL: list_delivery_streams: %r" % names)
print("firehose: %d records acknowledged in %d calls" % (acked, (acked + 499) // 500))
