"""Drives finstream serve with boto3, as a producer and consumer written for Kinesis would.

    kinesis_client.py ENDPOINT day FILE      put a trading day (one JSON record per line of
                                             FILE) with put_records, 500 per call, read it
                                             back from every shard, compare exactly
    kinesis_client.py ENDPOINT errors        each bad request gets its exact error type
    kinesis_client.py ENDPOINT produce OUT   put until killed; append each acknowledged
                                             record's data to OUT after the call returns
    kinesis_client.py ENDPOINT verify OUT    every record in OUT is in the stream
"""
import base64
import io
import json
import time
import sys
import urllib.request

import boto3
import botocore
from botocore.config import Config


def client(endpoint, validate=True, key="AKIDEXAMPLE", secret="secret", region="us-east-1"):
    return boto3.client(
        "kinesis", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(parameter_validation=validate, retries={"max_attempts": 1}))


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def read_all(k, stream):
    """All records of all shards, per shard in order."""
    out = {}
    for sh in k.list_shards(StreamName=stream)["Shards"]:
        it = k.get_shard_iterator(StreamName=stream, ShardId=sh["ShardId"],
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        recs = []
        while True:
            g = k.get_records(ShardIterator=it, Limit=1000)
            recs.extend(g["Records"])
            it = g["NextShardIterator"]
            if not g["Records"]:
                break
        out[sh["ShardId"]] = recs
    return out


def day(endpoint, path):
    k = client(endpoint)
    lines = [l for l in open(path, "rb").read().split(b"\n") if l.strip()]
    k.create_stream(StreamName="day", ShardCount=2)
    k.get_waiter("stream_exists").wait(StreamName="day", WaiterConfig={"Delay": 1})
    acked = 0
    for i in range(0, len(lines), 500):
        batch = [{"Data": l, "PartitionKey": json.loads(l).get("name", "x")}
                 for l in lines[i:i + 500]]
        r = k.put_records(StreamName="day", Records=batch)
        if r["FailedRecordCount"]:
            fail("failed records: %r" % r["FailedRecordCount"])
        if len(r["Records"]) != len(batch):
            fail("one result per record")
        acked += len(batch)
    got = read_all(k, "day")
    flat = [r for recs in got.values() for r in recs]
    if len(flat) != len(lines) or acked != len(lines):
        fail("put %d, acknowledged %d, read %d" % (len(lines), acked, len(flat)))
    if sorted(r["Data"] for r in flat) != sorted(lines):
        fail("data read back differs from data put")
    # per partition key, the order of the file
    for recs in got.values():
        seqs = [int(r["SequenceNumber"]) for r in recs]
        if seqs != sorted(seqs) or len(set(seqs)) != len(seqs):
            fail("sequence numbers do not grow within a shard")
    for key in {json.loads(l).get("name", "x") for l in lines}:
        want = [l for l in lines if json.loads(l).get("name", "x") == key]
        have = [r["Data"] for recs in got.values() for r in recs if r["PartitionKey"] == key]
        if want != have:
            fail("order of key %s not kept" % key)
    print("day: %d records put in %d calls and read back from %d shards"
          % (len(lines), (len(lines) + 499) // 500, len(got)))


def expect(fn, typ, status=400):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if code != typ or st != status:
            fail("expected %s/%d, got %s/%d: %s" % (typ, status, code, st, e))
        if not e.response["ResponseMetadata"].get("RequestId"):
            fail("no request id on %s" % typ)
        return
    fail("expected %s, the call succeeded" % typ)


def raw(endpoint, target, body, ctype="application/x-amz-json-1.1", auth=True):
    headers = {"X-Amz-Target": "Kinesis_20131202." + target, "Content-Type": ctype}
    if auth:
        headers["Authorization"] = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/"
                                    "kinesis/aws4_request, SignedHeaders=host, Signature=00")
        headers["X-Amz-Date"] = "20260101T000000Z"
    req = urllib.request.Request(endpoint + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def errors(endpoint):
    k = client(endpoint)
    kn = client(endpoint, validate=False)
    k.create_stream(StreamName="err", ShardCount=1)
    k.get_waiter("stream_exists").wait(StreamName="err", WaiterConfig={"Delay": 1})
    expect(lambda: k.describe_stream(StreamName="missing"), "ResourceNotFoundException")
    expect(lambda: k.create_stream(StreamName="err", ShardCount=1), "ResourceInUseException")
    expect(lambda: k.put_record(StreamName="missing", Data=b"x", PartitionKey="k"),
           "ResourceNotFoundException")
    expect(lambda: kn.put_record(StreamName="err", Data=b"x" * (1024 * 1024 + 1), PartitionKey="k"),
           "ValidationException")
    expect(lambda: kn.put_record(StreamName="err", Data=b"x", PartitionKey=""),
           "ValidationException")
    expect(lambda: kn.put_records(StreamName="err",
                                  Records=[{"Data": b"x", "PartitionKey": "k"}] * 501),
           "ValidationException")
    expect(lambda: kn.create_stream(StreamName="bad name", ShardCount=1), "ValidationException")
    expect(lambda: k.get_shard_iterator(StreamName="err", ShardId="shardId-000000000007",
                                        ShardIteratorType="LATEST"), "ResourceNotFoundException")
    expect(lambda: k.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
           "InvalidArgumentException")
    expect(lambda: k.split_shard(StreamName="err", ShardToSplit="shardId-000000000005",
                                 NewStartingHashKey="1"), "ResourceNotFoundException")
    expect(lambda: k.merge_shards(StreamName="err", ShardToMerge="shardId-000000000000",
                                  AdjacentShardToMerge="shardId-000000000000"),
           "InvalidArgumentException")
    st, body = raw(endpoint, "PutRecord", b'{"StreamName": "err", "Data": ')
    if st != 400 or body["__type"] != "SerializationException":
        fail("malformed JSON: %d %r" % (st, body))
    st, body = raw(endpoint, "PutRecord",
                   b'{"StreamName": "err", "Data": "%%%%", "PartitionKey": "k"}')
    if st != 400 or body["__type"] != "SerializationException":
        fail("malformed base64: %d %r" % (st, body))
    st, body = raw(endpoint, "ListStreams", b"{}", auth=False)
    if st != 400 or body["__type"] != "MissingAuthenticationTokenException":
        fail("no signature: %d %r" % (st, body))
    st, body = raw(endpoint, "ListStreams", b"{}" + b" " * (11 * 1024 * 1024))
    if st != 413 or body["__type"] != "RequestEntityTooLargeException":
        fail("oversize body: %d %r" % (st, body))
    # still serving, and nothing lost
    k.put_record(StreamName="err", Data=b"after", PartitionKey="k")
    got = read_all(k, "err")
    if [r["Data"] for r in got["shardId-000000000000"]] != [b"after"]:
        fail("records after the errors: %r" % got)
    print("errors: every bad request got its error type; serve kept running")


def typed(fn, exc_name, client_obj):
    """fn must raise boto3's modeled exception class exc_name (what SDK users catch)."""
    exc = getattr(client_obj.exceptions, exc_name)
    try:
        fn()
    except exc as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] != 400:
            fail("%s with status %d" % (exc_name, e.response["ResponseMetadata"]["HTTPStatusCode"]))
        return e.response["Error"].get("Message", "")
    except botocore.exceptions.ClientError as e:
        fail("expected the modeled %s, got %s: %s" % (exc_name, e.response["Error"]["Code"], e))
    fail("expected %s, the call succeeded" % exc_name)


def wire(endpoint):
    """The edge behaviour SDKs surface as modeled exceptions, and the structure of
    sequence numbers and iterators."""
    k = client(endpoint)
    kn = client(endpoint, validate=False)
    k.create_stream(StreamName="wire", ShardCount=2)
    k.get_waiter("stream_exists").wait(StreamName="wire", WaiterConfig={"Delay": 1})
    # sequence numbers in AWS's layout: version 2, the shard index in its place
    r = k.put_record(StreamName="wire", Data=b"x", PartitionKey="k")
    n = int(r["SequenceNumber"])
    h = "%x" % n
    if len(r["SequenceNumber"]) != 56 or h[-1] != "2" or \
            int(h[38:46], 16) != int(r["ShardId"][-12:]):
        fail("sequence number layout: %s (%s) for %s" % (r["SequenceNumber"], h, r["ShardId"]))
    # shard ids resolve as AWS resolves them
    for sid in ("0", "shardId-0", "x-0000"):
        k.get_shard_iterator(StreamName="wire", ShardId=sid, ShardIteratorType="TRIM_HORIZON")
    it = k.get_shard_iterator(StreamName="wire", ShardId="shardId-000000000000",
                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    raw_it = base64.b64decode(it)
    if raw_it[:8] != b"\0" * 7 + b"\1" or (len(raw_it) - 8) % 16:
        fail("iterator layout: %r" % raw_it[:16])
    typed(lambda: k.split_shard(StreamName="wire", ShardToSplit="shardId-000000000000",
                                NewStartingHashKey="1"), "InvalidArgumentException", k)
    typed(lambda: k.merge_shards(StreamName="wire", ShardToMerge="shardId-000000000001",
                                 AdjacentShardToMerge="shardId-000000000000"),
          "InvalidArgumentException", k)
    msg = typed(lambda: kn.put_records(StreamName="wire", Records=[
        {"Data": b"x", "PartitionKey": "k"},
        {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(1 << 128)}]),
        "InvalidArgumentException", k)
    if "2^128-1" not in msg:
        fail("hash key message: %s" % msg)
    typed(lambda: k.get_shard_iterator(StreamName="wire", ShardId="shardId-000000000000",
                                       ShardIteratorType="AT_TIMESTAMP",
                                       Timestamp=time.time() + 3600),
          "InvalidArgumentException", k)
    typed(lambda: k.add_tags_to_stream(StreamName="wire", Tags={"a#b": "1"}),
          "InvalidArgumentException", k)
    typed(lambda: k.create_stream(StreamName="huge", ShardCount=1000), "LimitExceededException", k)
    typed(lambda: k.describe_stream(StreamName="missing"), "ResourceNotFoundException", k)
    typed(lambda: k.create_stream(StreamName="wire", ShardCount=1), "ResourceInUseException", k)
    typed(lambda: kn.put_record(StreamName="wire", Data=b"x", PartitionKey=""),
          "ValidationException", k) if hasattr(k.exceptions, "ValidationException") else None
    typed(lambda: k.get_records(ShardIterator="AAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
          "InvalidArgumentException", k)
    # a real split: the closed parent ends at or above where it started; ShardFilter
    k.split_shard(StreamName="wire", ShardToSplit="shardId-000000000000",
                  NewStartingHashKey=str(1 << 126))
    k.get_waiter("stream_exists").wait(StreamName="wire", WaiterConfig={"Delay": 1})
    shards = k.list_shards(StreamName="wire")["Shards"]
    parent = [x for x in shards if x["ShardId"] == "shardId-000000000000"][0]
    rng = parent["SequenceNumberRange"]
    if int(rng["EndingSequenceNumber"]) < int(rng["StartingSequenceNumber"]):
        fail("ending sequence number below the starting one: %r" % rng)
    latest = k.list_shards(StreamName="wire", ShardFilter={"Type": "AT_LATEST"})["Shards"]
    if len(shards) != 4 or sorted(x["ShardId"][-1] for x in latest) != ["1", "2", "3"]:
        fail("ShardFilter AT_LATEST: %r of %r" % ([x["ShardId"] for x in latest], len(shards)))
    after = k.list_shards(StreamName="wire", ShardFilter={"Type": "AFTER_SHARD_ID",
                                                          "ShardId": "shardId-000000000001"})
    if [x["ShardId"][-1] for x in after["Shards"]] != ["2", "3"]:
        fail("ShardFilter AFTER_SHARD_ID: %r" % after["Shards"])
    # ON_DEMAND: four shards, the mode reported, UpdateStreamMode, DescribeLimits
    k.create_stream(StreamName="od", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    k.get_waiter("stream_exists").wait(StreamName="od", WaiterConfig={"Delay": 1})
    d = k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    if d["StreamModeDetails"]["StreamMode"] != "ON_DEMAND" or d["OpenShardCount"] != 4:
        fail("ON_DEMAND stream: %r" % d)
    k.update_stream_mode(StreamARN=d["StreamARN"],
                         StreamModeDetails={"StreamMode": "PROVISIONED"})
    k.get_waiter("stream_exists").wait(StreamName="od", WaiterConfig={"Delay": 1})
    d = k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    if d["StreamModeDetails"]["StreamMode"] != "PROVISIONED":
        fail("UpdateStreamMode: %r" % d)
    em = k.enable_enhanced_monitoring(StreamName="od", ShardLevelMetrics=["IncomingBytes"])
    if em["CurrentShardLevelMetrics"] != [] or em["DesiredShardLevelMetrics"] != ["IncomingBytes"]:
        fail("EnableEnhancedMonitoring: %r" % em)
    k.get_waiter("stream_exists").wait(StreamName="od", WaiterConfig={"Delay": 1})
    d = k.describe_stream_summary(StreamName="od")["StreamDescriptionSummary"]
    if d["EnhancedMonitoring"] != [{"ShardLevelMetrics": ["IncomingBytes"]}]:
        fail("EnhancedMonitoring: %r" % d["EnhancedMonitoring"])
    lim = k.describe_limits()
    if lim["ShardLimit"] != 500 or lim["OpenShardCount"] < 7:
        fail("DescribeLimits: %r" % lim)
    # a credential scoped to another region or service is refused, as AWS does
    expect(lambda: client(endpoint, region="eu-west-1").list_streams(),
           "InvalidSignatureException")
    import botocore.auth, botocore.awsrequest, botocore.credentials
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=b"{}",
        headers={"X-Amz-Target": "Kinesis_20131202.ListStreams",
                 "Content-Type": "application/x-amz-json-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDEXAMPLE", "secret"),
                            "s3", "us-east-1").add_auth(req)
    r2 = urllib.request.Request(endpoint + "/", data=b"{}", headers=dict(req.prepare().headers),
                                method="POST")
    try:
        urllib.request.urlopen(r2)
        fail("a signature for s3 accepted")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        if body["__type"] != "InvalidSignatureException" or "kinesis" not in body["message"]:
            fail("s3 scope: %r" % body)
    # CORS preflight and a GET answer as AWS does
    req = urllib.request.Request(endpoint + "/", method="OPTIONS", headers={
        "Origin": "http://example", "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(req) as r3:
        if r3.status != 200 or r3.headers["Access-Control-Allow-Origin"] != "*" or \
                r3.headers["Access-Control-Allow-Methods"] != "POST":
            fail("preflight: %d %r" % (r3.status, dict(r3.headers)))
    try:
        urllib.request.urlopen(endpoint + "/")
        fail("GET / answered 200")
    except urllib.error.HTTPError as e:
        if e.code != 403 or b"<AccessDeniedException>" not in e.read():
            fail("GET /: %d" % e.code)
    print("wire: modeled exceptions, sequence number and iterator layout, scope checks, CORS")


def auth(endpoint):
    """serve has access_keys = AKIDEXAMPLE:secret: botocore's signatures by that key pass,
    any other key or secret gets AWS's error type."""
    k = client(endpoint)
    k.create_stream(StreamName="signed", ShardCount=1)
    k.get_waiter("stream_exists").wait(StreamName="signed", WaiterConfig={"Delay": 1})
    k.put_records(StreamName="signed", Records=[{"Data": b"x" * 100, "PartitionKey": "k"}] * 500)
    k.put_record(StreamName="signed", Data=b"one", PartitionKey="k")
    expect(lambda: client(endpoint, secret="wrong").list_streams(), "InvalidSignatureException")
    expect(lambda: client(endpoint, key="AKIDOTHER").list_streams(), "UnrecognizedClientException")
    st, body = raw(endpoint, "ListStreams", b"{}")
    if st != 400 or body["__type"] not in ("IncompleteSignatureException",
                                            "InvalidSignatureException"):
        fail("unsigned header accepted: %d %r" % (st, body))
    st, body = raw(endpoint, "ListStreams", b"{}", auth=False)
    if st != 400 or body["__type"] != "MissingAuthenticationTokenException":
        fail("no signature: %d %r" % (st, body))
    # a body changed after signing: the payload hash no longer matches
    import botocore.auth, botocore.awsrequest, botocore.credentials
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=b'{"StreamName":"signed"}',
        headers={"X-Amz-Target": "Kinesis_20131202.DescribeStream",
                 "Content-Type": "application/x-amz-json-1.1"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDEXAMPLE", "secret"),
                            "kinesis", "us-east-1").add_auth(req)
    p = req.prepare()
    hdrs = dict(p.headers)
    r = urllib.request.Request(endpoint + "/", data=b'{"StreamName":"signex"}', headers=hdrs,
                               method="POST")
    try:
        urllib.request.urlopen(r)
        fail("tampered body accepted")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        if body["__type"] != "InvalidSignatureException":
            fail("tampered body: %r" % body)
    got = read_all(k, "signed")
    if len(got["shardId-000000000000"]) != 501:
        fail("signed puts: %d records" % len(got["shardId-000000000000"]))
    print("auth: signed requests pass, wrong, unknown, missing and tampered ones fail")


def reshard(endpoint):
    """Split and merge with puts around them; a consumer reading parents to their end
    before children sees every key's records in order."""
    k = client(endpoint)
    k.create_stream(StreamName="rs", ShardCount=2)
    k.get_waiter("stream_exists").wait(StreamName="rs", WaiterConfig={"Delay": 1})
    keys = ["AAPL", "MSFT", "FB", "TSLA", "SHOP"]
    sent = {key: [] for key in keys}
    n = 0

    def put(count):
        nonlocal n
        recs = []
        for i in range(count):
            key = keys[(n + i) % len(keys)]
            data = b"%s-%06d" % (key.encode(), n + i)
            sent[key].append(data)
            recs.append({"Data": data, "PartitionKey": key})
        n += count
        if k.put_records(StreamName="rs", Records=recs)["FailedRecordCount"]:
            fail("put failed")

    def settle():
        for _ in range(100):
            if k.describe_stream_summary(StreamName="rs")["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                return
            import time
            time.sleep(0.1)
        fail("stream stayed UPDATING")

    put(200)
    k.split_shard(StreamName="rs", ShardToSplit="shardId-000000000000",
                  NewStartingHashKey=str(2 ** 126))
    settle()
    put(200)
    k.merge_shards(StreamName="rs", ShardToMerge="shardId-000000000002",
                   AdjacentShardToMerge="shardId-000000000003")
    settle()
    put(200)
    shards = k.list_shards(StreamName="rs")["Shards"]
    if len(shards) != 5 or shards[2]["ParentShardId"] != "shardId-000000000000":
        fail("shards after split and merge: %r" % shards)
    # read parents before children, following ChildShards
    got = {key: [] for key in keys}
    done, todo = set(), [s["ShardId"] for s in shards if "ParentShardId" not in s]
    while todo:
        sid = todo.pop(0)
        if sid in done:
            continue
        done.add(sid)
        it = k.get_shard_iterator(StreamName="rs", ShardId=sid,
                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            g = k.get_records(ShardIterator=it)
            for r in g["Records"]:
                got[r["PartitionKey"]].append(r["Data"])
            it = g.get("NextShardIterator")
            if it and not g["Records"]:
                break
            for c in g.get("ChildShards", []):
                if all(p in done for p in c["ParentShards"]):
                    todo.append(c["ShardId"])
    if got != sent:
        fail("per-key order across split and merge: %r" % {x: (len(got[x]), len(sent[x])) for x in keys})
    print("reshard: %d records across a split and a merge, every key in order" % n)


def cbor(endpoint):
    """application/x-amz-cbor-1.1, as the Java SDK sends it: blobs as byte strings."""
    try:
        import cbor2
    except ImportError:
        print("python3-cbor2 not installed: CBOR part skipped")
        return

    def call(target, body):
        req = urllib.request.Request(endpoint + "/", data=cbor2.dumps(body), method="POST", headers={
            "X-Amz-Target": "Kinesis_20131202." + target,
            "Content-Type": "application/x-amz-cbor-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/kinesis/"
                             "aws4_request, SignedHeaders=host, Signature=00",
            "X-Amz-Date": "20260101T000000Z"})
        try:
            with urllib.request.urlopen(req) as r:
                ct, st, data = r.headers["Content-Type"], r.status, r.read()
        except urllib.error.HTTPError as e:
            ct, st, data = e.headers["Content-Type"], e.code, e.read()
        if ct != "application/x-amz-cbor-1.1":
            fail("CBOR answered as %s" % ct)
        if not data:  # operations without output: empty
            return st, None
        # tag-1 times are milliseconds (the Java SDK's convention): read them as numbers
        from cbor2 import decoder as pydec
        pydec.semantic_decoders[1] = lambda self: ("epoch-ms", self._decode())
        return st, pydec.CBORDecoder(io.BytesIO(data)).decode()

    st, _ = call("CreateStream", {"StreamName": "cb", "ShardCount": 1})
    import time
    time.sleep(0.5)
    blob = bytes(range(256))
    st, r = call("PutRecords", {"StreamName": "cb", "Records": [
        {"Data": blob, "PartitionKey": "k"}, {"Data": b"two", "PartitionKey": "k"}]})
    if st != 200 or r["FailedRecordCount"] != 0:
        fail("CBOR PutRecords: %d %r" % (st, r))
    st, r = call("GetShardIterator", {"StreamName": "cb", "ShardId": "shardId-000000000000",
                                      "ShardIteratorType": "TRIM_HORIZON"})
    st, r = call("GetRecords", {"ShardIterator": r["ShardIterator"]})
    if [x["Data"] for x in r["Records"]] != [blob, b"two"]:
        fail("CBOR GetRecords data: %r" % r)
    ts = r["Records"][0]["ApproximateArrivalTimestamp"]
    if not (isinstance(ts, tuple) and ts[0] == "epoch-ms" and isinstance(ts[1], int) and
            abs(ts[1] - time.time() * 1000) < 600000):
        fail("CBOR timestamp is not tag-1 epoch milliseconds: %r" % (ts,))
    # AT_TIMESTAMP in milliseconds finds the records (not a time 1000 times later)
    st, r = call("GetShardIterator", {"StreamName": "cb", "ShardId": "shardId-000000000000",
                                      "ShardIteratorType": "AT_TIMESTAMP",
                                      "Timestamp": cbor2.CBORTag(1, ts[1] - 1000)})
    if st != 200:
        fail("CBOR AT_TIMESTAMP: %d %r" % (st, r))
    st, r = call("GetRecords", {"ShardIterator": r["ShardIterator"]})
    if len(r["Records"]) != 2:
        fail("CBOR AT_TIMESTAMP read %d records" % len(r["Records"]))
    # a NUL in a name does not cut it short: refused, and nothing made or deleted
    for bad in ("a\0b", "cb\0zzz", "\0"):
        st, r = call("CreateStream" if bad != "cb\0zzz" else "DeleteStream",
                     {"StreamName": bad, "ShardCount": 1} if bad != "cb\0zzz" else
                     {"StreamName": bad})
        if st != 400 or r["__type"] != "SerializationException":
            fail("CBOR name with NUL %r: %d %r" % (bad, st, r))
    st, r = call("DescribeStreamSummary", {"StreamName": "cb"})
    if st != 200:
        fail("stream cb after a NUL name: %d %r" % (st, r))
    st, r = call("DescribeStreamSummary", {"StreamName": "a"})
    if st != 400:
        fail("stream a made from 'a\\0b'")
    st, r = call("DescribeStream", {"StreamName": "none"})
    if st != 400 or r["__type"] != "ResourceNotFoundException":
        fail("CBOR error: %d %r" % (st, r))
    print("cbor: put and read back with byte strings and tagged times; errors in CBOR")


def produce(endpoint, out):
    k = client(endpoint)
    try:
        k.create_stream(StreamName="crash", ShardCount=2)
        k.get_waiter("stream_exists").wait(StreamName="crash", WaiterConfig={"Delay": 1})
    except botocore.exceptions.ClientError:
        pass
    n = 0
    with open(out, "a") as f:
        while True:
            batch = [{"Data": b"rec-%08d" % (n + i), "PartitionKey": "k%d" % (i % 5)}
                     for i in range(100)]
            try:
                r = k.put_records(StreamName="crash", Records=batch)
            except Exception:
                return
            for b, res in zip(batch, r["Records"]):
                if "SequenceNumber" in res:
                    f.write(b["Data"].decode() + "\n")
            f.flush()
            n += 100


def verify(endpoint, out):
    k = client(endpoint)
    acked = set(l.strip() for l in open(out) if l.strip())
    got = read_all(k, "crash")
    have = set(r["Data"].decode() for recs in got.values() for r in recs)
    lost = acked - have
    if lost or not acked:
        fail("%d acknowledged records lost (of %d), e.g. %r" % (len(lost), len(acked),
                                                               sorted(lost)[:3]))
    print("verify: all %d acknowledged records are there (%d in the stream)"
          % (len(acked), len(have)))


if __name__ == "__main__":
    ep, mode = sys.argv[1], sys.argv[2]
    {"day": lambda: day(ep, sys.argv[3]), "errors": lambda: errors(ep),
     "auth": lambda: auth(ep), "wire": lambda: wire(ep), "cbor": lambda: cbor(ep), "reshard": lambda: reshard(ep), "produce": lambda: produce(ep, sys.argv[3]), "verify": lambda: verify(ep, sys.argv[3])}[mode]()
