"""What CreateDeliveryStream is given is honoured and described back, through boto3.

    firehose_fidelity.py ENDPOINT

Creates, in region eu-west-1:
  - "pq": DirectPut, Parquet conversion, dynamic partitioning by a JQ query
    ({name: .name, venue: .meta.venue}), prefix with !{partitionKeyFromQuery:...} and a
    timestamp, error prefix; puts right after the create call (no waiter), including
    records the query cannot partition;
  - "gz": GZIP, custom plain prefix;
  - "ks": KinesisStreamAsSource from a Kinesis stream "src".
Checks DescribeDeliveryStream against the request, the ARNs' region, AWS-format
validation errors, the bucket and prefix rules, and that the private stream of a DirectPut
delivery stream is invisible through the Kinesis API. The lake is checked by the caller
after serve has stopped (which flushes).
"""
import json
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config

ep = sys.argv[1]
cfg = botocore.config.Config(retries={"max_attempts": 1}, parameter_validation=False)
kw = dict(endpoint_url=ep, region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE",
          aws_secret_access_key="secret", config=cfg)
f = boto3.client("firehose", **kw)
k = boto3.client("kinesis", **kw)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def error_of(fn, **args):
    try:
        fn(**args)
    except f.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    return None, None


ROLE = "arn:aws:iam::123456789012:role/firehose_delivery_role"
PQ_DEST = {
    "RoleARN": ROLE,
    "BucketARN": "arn:aws:s3:::fidelity-lake",
    "Prefix": "name=!{partitionKeyFromQuery:name}/venue=!{partitionKeyFromQuery:venue}/dt=!{timestamp:yyyy-MM-dd}/",
    "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
    "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
    "CompressionFormat": "UNCOMPRESSED",
    "ProcessingConfiguration": {"Enabled": True, "Processors": [
        {"Type": "MetadataExtraction", "Parameters": [
            {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{name: .name, venue: .meta.venue}"},
            {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
        {"Type": "AppendDelimiterToRecord", "Parameters": []}]},
    "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}},
    "DataFormatConversionConfiguration": {
        "Enabled": True,
        "SchemaConfiguration": {"RoleARN": ROLE, "DatabaseName": "finance", "TableName": "stocks",
                                "Region": "eu-west-1", "VersionId": "LATEST"},
        "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}}},
}
r = f.create_delivery_stream(DeliveryStreamName="pq", DeliveryStreamType="DirectPut",
                             ExtendedS3DestinationConfiguration=PQ_DEST)
check(r["DeliveryStreamARN"] == "arn:aws:firehose:eu-west-1:000000000000:deliverystream/pq",
      "create ARN: %s" % r["DeliveryStreamARN"])

# No waiter: the stream takes puts as soon as the create call has returned.
recs = []
for i, (name, venue) in enumerate([("FB", "NASDAQ"), ("SHOP", "NYSE"), ("FB", "NASDAQ"),
                                   ("SHOP", "NYSE"), ("FB", "IEX")]):
    recs.append({"Data": json.dumps({"name": name, "ts": "2020-05-14 09:3%d:00-04:00" % i,
                                     "high": 200.5 + i, "low": 199.0 + i, "volume": 1000 + i,
                                     "meta": {"venue": venue}}).encode()})
recs.append({"Data": b'{"name":"NOVENUE","high":1.0}'})          # no .meta.venue
recs.append({"Data": b'{"name":"..","meta":{"venue":"X"}}'})     # a value that climbs out
r = f.put_record_batch(DeliveryStreamName="pq", Records=recs)
check(r["FailedPutCount"] == 0 and len(r["RequestResponses"]) == len(recs), "put pq: %r" % r)

d = f.describe_delivery_stream(DeliveryStreamName="pq")["DeliveryStreamDescription"]
check(d["DeliveryStreamStatus"] == "ACTIVE", "status %s" % d["DeliveryStreamStatus"])
check(d["DeliveryStreamType"] == "DirectPut", "type %s" % d["DeliveryStreamType"])
check(d["DeliveryStreamARN"].startswith("arn:aws:firehose:eu-west-1:"), "describe ARN")
ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
for key, want in PQ_DEST.items():
    got = ext.get(key)
    if key == "DataFormatConversionConfiguration":
        got = dict(got or {})
    check(got == want, "described %s: %r != %r" % (key, got, want))
check(ext.get("S3BackupMode") == "Disabled", "S3BackupMode default")
check(d["Destinations"][0]["S3DestinationDescription"]["Prefix"] == PQ_DEST["Prefix"],
      "S3DestinationDescription.Prefix")

# gzip, plain prefix, defaults filled in (no BufferingHints given).
f.create_delivery_stream(DeliveryStreamName="gz", ExtendedS3DestinationConfiguration={
    "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::other-lake", "Prefix": "gz/",
    "CompressionFormat": "GZIP"})
f.put_record(DeliveryStreamName="gz", Record={"Data": b'{"name":"GZ","n":1}'})
ext = f.describe_delivery_stream(DeliveryStreamName="gz")["DeliveryStreamDescription"][
    "Destinations"][0]["ExtendedS3DestinationDescription"]
check(ext["BufferingHints"] == {"SizeInMBs": 5, "IntervalInSeconds": 300}, "default hints %r" % ext)
check(ext["CompressionFormat"] == "GZIP" and ext["Prefix"] == "gz/" and ext["RoleARN"] == ROLE,
      "gz described %r" % ext)
check("ErrorOutputPrefix" not in ext, "no ErrorOutputPrefix invented")

# Kinesis stream as source: described with its Source.
k.create_stream(StreamName="src", ShardCount=1)
k.get_waiter("stream_exists").wait(StreamName="src", WaiterConfig={"Delay": 0.2})
f.create_delivery_stream(DeliveryStreamName="ks", DeliveryStreamType="KinesisStreamAsSource",
                         KinesisStreamSourceConfiguration={
                             "KinesisStreamARN": "arn:aws:kinesis:eu-west-1:000000000000:stream/src",
                             "RoleARN": ROLE},
                         ExtendedS3DestinationConfiguration={
                             "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::other-lake",
                             "Prefix": "ks/"})
d = f.describe_delivery_stream(DeliveryStreamName="ks")["DeliveryStreamDescription"]
check(d["DeliveryStreamType"] == "KinesisStreamAsSource", "ks type")
check(d.get("Source", {}).get("KinesisStreamSourceDescription", {}).get("KinesisStreamARN") ==
      "arn:aws:kinesis:eu-west-1:000000000000:stream/src", "ks source %r" % d.get("Source"))
code, _ = error_of(f.put_record, DeliveryStreamName="ks", Record={"Data": b"x"})
check(code == "InvalidArgumentException", "put to a Kinesis-sourced stream: %s" % code)
names = f.list_delivery_streams(DeliveryStreamType="DirectPut")["DeliveryStreamNames"]
check(names == ["gz", "pq"], "list DirectPut: %r" % names)

# Validation in AWS's format: every failing constraint, in model order.
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="x" * 65 + "!",
                     DeliveryStreamType="Direct")
check(code == "ValidationException" and msg.startswith("3 validation errors detected: ") and
      "at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64" in msg and
      "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" in msg and
      "Value 'Direct' at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [DirectPut, KinesisStreamAsSource" in msg,
      "validation: %s %s" % (code, msg))
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="v",
                     ExtendedS3DestinationConfiguration={
                         "BucketARN": "arn:aws:s3:::ok-bucket",
                         "BufferingHints": {"SizeInMBs": 0, "IntervalInSeconds": 901}})
check(code == "ValidationException" and msg.startswith("3 validation errors detected: Value null at "
                                                       "'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null; ")
      and "Value '0' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1" in msg
      and "Value '901' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900" in msg,
      "nested validation: %s %s" % (code, msg))
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="v",
                     ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": 5})
check(code == "SerializationException", "wrong type: %s %s" % (code, msg))

code, msg = error_of(f.put_record_batch, DeliveryStreamName="pq",
                     Records=[{"Data": b"x"}] * 501)
check(code == "ValidationException" and "at 'records' failed to satisfy constraint: Member must "
      "have length less than or equal to 500" in msg, "501 records: %s %s" % (code, msg))
code, msg = error_of(f.put_record_batch, DeliveryStreamName="pq", Records=[{"Data": b"x"}, {}])
check(code == "ValidationException" and msg == "1 validation error detected: Value null at "
      "'records.2.member.data' failed to satisfy constraint: Member must not be null",
      "record without Data: %s %s" % (code, msg))
code, msg = error_of(f.put_record, DeliveryStreamName="nope", Record={"Data": b"x"})
check(code == "ResourceNotFoundException", "put to a missing stream: %s %s" % (code, msg))

# Buckets S3 would refuse, and prefixes that would leave the lake, are refused at creation.
for bucket in ["..", "-", "b.", "a..b", "Upper", "ab", "192.168.0.1", "x" * 64, "a/b"]:
    code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="bad",
                         ExtendedS3DestinationConfiguration={"RoleARN": ROLE,
                                                             "BucketARN": "arn:aws:s3:::" + bucket})
    check(code == "InvalidArgumentException", "bucket %r: %s %s" % (bucket, code, msg))
for prefix in ["../up/", "a/../../streams/", "/abs/", "a//b/", "!{timestamp:'..'}/", "x/./"]:
    code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="bad",
                         ExtendedS3DestinationConfiguration={
                             "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::ok-bucket",
                             "Prefix": prefix, "ErrorOutputPrefix": "e/"})
    check(code == "InvalidArgumentException", "prefix %r: %s %s" % (prefix, code, msg))
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="bad",
                     ExtendedS3DestinationConfiguration={
                         "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::ok-bucket",
                         "ErrorOutputPrefix": "../e/"})
check(code == "InvalidArgumentException", "error prefix '../e/': %s %s" % (code, msg))
# Dynamic partitioning needs the keys defined by the query.
bad = json.loads(json.dumps(PQ_DEST))
bad["Prefix"] = "x=!{partitionKeyFromQuery:other}/"
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="bad",
                     ExtendedS3DestinationConfiguration=bad)
check(code == "InvalidArgumentException" and "other" in msg, "undefined key: %s %s" % (code, msg))
bad = json.loads(json.dumps(PQ_DEST))
del bad["DynamicPartitioningConfiguration"]
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="bad",
                     ExtendedS3DestinationConfiguration=bad)
check(code == "InvalidArgumentException", "keys without partitioning: %s %s" % (code, msg))
names = f.list_delivery_streams()["DeliveryStreamNames"]
check(names == ["gz", "ks", "pq"], "nothing refused was created: %r" % names)

# The private stream of "pq" is invisible and untouchable through Kinesis.
listed = k.list_streams()["StreamNames"]
check(listed == ["src"], "list_streams: %r" % listed)
private = "__firehose.pq"
arn = "arn:aws:kinesis:eu-west-1:000000000000:stream/" + private
for op, args in [("describe_stream", {"StreamName": private}),
                 ("describe_stream_summary", {"StreamName": private}),
                 ("put_record", {"StreamName": private, "Data": b"x", "PartitionKey": "k"}),
                 ("put_records", {"StreamName": private, "Records": [{"Data": b"x", "PartitionKey": "k"}]}),
                 ("get_shard_iterator", {"StreamName": private, "ShardId": "shardId-000000000000",
                                         "ShardIteratorType": "TRIM_HORIZON"}),
                 ("list_shards", {"StreamName": private}),
                 ("split_shard", {"StreamName": private, "ShardToSplit": "shardId-000000000000",
                                  "NewStartingHashKey": "1000"}),
                 ("add_tags_to_stream", {"StreamName": private, "Tags": {"a": "b"}}),
                 ("delete_stream", {"StreamName": private})]:
    code, msg = error_of(getattr(k, op), **args)
    check(code == "ResourceNotFoundException" and msg == "Stream %s under account 000000000000 not found." % private,
          "kinesis %s on the private stream: %s %s" % (op, code, msg))
# by ARN too (this botocore predates StreamARN: the request is made by hand)
req = urllib.request.Request(ep + "/", method="POST", data=json.dumps({"StreamARN": arn}).encode(),
                             headers={"X-Amz-Target": "Kinesis_20131202.DescribeStreamSummary",
                                      "Content-Type": "application/x-amz-json-1.1",
                                      "X-Amz-Date": "20200101T000000Z",
                                      "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
                                      "20200101/eu-west-1/kinesis/aws4_request, "
                                      "SignedHeaders=host, Signature=00"})
try:
    urllib.request.urlopen(req)
    check(False, "DescribeStreamSummary by ARN answered 200")
except urllib.error.HTTPError as e:
    body = json.loads(e.read())
    check(body.get("__type") == "ResourceNotFoundException", "by ARN: %r" % body)
code, msg = error_of(k.create_stream, StreamName="__firehose.later", ShardCount=1)
check(code == "InvalidArgumentException", "create_stream of a reserved name: %s %s" % (code, msg))
code, msg = error_of(f.create_delivery_stream, DeliveryStreamName="ks2",
                     DeliveryStreamType="KinesisStreamAsSource",
                     KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": ROLE},
                     ExtendedS3DestinationConfiguration={"RoleARN": ROLE,
                                                         "BucketARN": "arn:aws:s3:::ok-bucket"})
check(code == "InvalidArgumentException", "delivery from a private stream: %s %s" % (code, msg))
# ... and still works for its delivery stream.
r = f.put_record(DeliveryStreamName="pq", Record={"Data": json.dumps(
    {"name": "SHOP", "ts": "2020-05-14 09:40:00-04:00", "high": 7.5, "low": 7.0, "volume": 9,
     "meta": {"venue": "NYSE"}}).encode()})
check(bool(r.get("RecordId")), "put after the Kinesis probes")

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("firehose fidelity: ok")
