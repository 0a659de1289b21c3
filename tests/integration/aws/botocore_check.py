#!/usr/bin/env python3
"""Signs the same requests with finstream's SigV4 (through the sign tool) and with
botocore's signer, and compares canonical requests and signatures.

Usage: botocore_check.py SIGN_TOOL. Exits 0 with a message when botocore is absent."""
import json
import subprocess
import sys
from urllib.parse import quote

try:
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    print("botocore not found (Debian package python3-botocore): skipping")
    sys.exit(0)

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
T, AMZ_DATE = 1764153000, "20251126T103000Z"   # 2025-11-26 10:30:00 UTC
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def q(s):
    """Strict query/value encoding, as the finstream clients put it on the wire."""
    return quote(s, safe="-_.~")


def s3_key_path(bucket, key):
    return "/" + bucket + "/" + quote(key, safe="/-_.~")


CASES = []


def case(service, method, path, query="", headers=(), body="", s3=False, host=None):
    CASES.append(dict(service=service, method=method, path=path, query=query,
                      headers=list(headers), body=body, s3=s3,
                      host=host or ("localhost:4569" if s3 else f"{service}.us-west-2.amazonaws.com")))


# S3: unusual characters in keys, sorted and escaped query strings, empty bodies.
for key in ["2026/11/26/10/lake-1-2026-11-26-10-00-00-abc", "a key with spaces.json",
            "weird+plus=eq&amp;#hash?.txt", "caf\u00e9/\u65e5\u672c/\u1234", "a//double/./dot/../x",
            "~tilde*star'quote(paren)!bang", "percent%20literal"]:
    body = '{"name":"FB","high":202.83}\n' * 3
    case("s3", "PUT", s3_key_path("bucket", key), body=body, s3=True,
         headers=[("Content-Type", "application/octet-stream")])
    case("s3", "HEAD", s3_key_path("bucket", key), s3=True)
case("s3", "GET", "/bucket", s3=True,
     query="&".join(sorted(f"{q(k)}={q(v)}" for k, v in
                           [("list-type", "2"), ("prefix", "2026/11/26/"), ("max-keys", "1000"),
                            ("continuation-token", "1Gx/+=="), ("start-after", "a b")])))
case("s3", "POST", "/bucket/big%20object", query="uploads=", s3=True)
case("s3", "PUT", "/bucket/big", query="partNumber=2&uploadId=" + q("ab/c+d=="), s3=True, body="x" * 100)
case("s3", "POST", "/bucket/big", query="uploadId=" + q("ab/c+d=="), s3=True,
     body="<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e\"</ETag></Part>"
          "</CompleteMultipartUpload>")
case("s3", "PUT", "/bucket/empty", s3=True, headers=[("Content-Length", "0")])
# JSON protocols: Kinesis and Firehose.
for target, body in [("Kinesis_20131202.PutRecords",
                      '{"StreamName":"stocks","Records":[{"Data":"eyJ9","PartitionKey":"FB"}]}'),
                     ("Kinesis_20131202.GetRecords", '{"ShardIterator":"AAAA/+==","Limit":1000}'),
                     ("Kinesis_20131202.ListShards", "{}")]:
    case("kinesis", "POST", "/", body=body,
         headers=[("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", target),
                  ("X-Custom", "  spaced   out   value  ")])
case("firehose", "POST", "/", body='{"DeliveryStreamName":"d","Records":[]}',
     headers=[("Content-Type", "application/x-amz-json-1.1"),
              ("X-Amz-Target", "Firehose_20150804.PutRecordBatch")])
case("kinesis", "GET", "/a/./b/../c//d/", query="b=2&a=1&a=0")
case("kinesis", "GET", "/with%20escape/\u1234", query="")


def botocore_sign(c):
    creds = Credentials(AK, SK)
    url = "http://" + c["host"] + c["path"] + ("?" + c["query"] if c["query"] else "")
    headers = {"Host": c["host"], "X-Amz-Date": AMZ_DATE}
    if c["s3"]:
        headers["X-Amz-Content-SHA256"] = c.get("payload_hash") or __import__("hashlib").sha256(
            c["body"].encode()).hexdigest()
    for n, v in c["headers"]:
        headers[n] = v
    req = AWSRequest(method=c["method"], url=url, data=c["body"].encode(), headers=headers)
    req.context["timestamp"] = AMZ_DATE
    auth = (S3SigV4Auth if c["s3"] else SigV4Auth)(creds, c["service"], "us-west-2")
    canonical = auth.canonical_request(req)
    sts = auth.string_to_sign(req, canonical)
    return canonical, auth.signature(sts, req), auth.signed_headers(auth.headers_to_sign(req))


def main():
    tool = sys.argv[1]
    inputs = []
    for c in CASES:
        headers = [["Host", c["host"]], ["X-Amz-Date", AMZ_DATE]]
        if c["s3"]:
            import hashlib
            headers.append(["X-Amz-Content-SHA256", hashlib.sha256(c["body"].encode()).hexdigest()])
        headers += [list(h) for h in c["headers"]]
        inputs.append(dict(method=c["method"], path=c["path"], query=c["query"], headers=headers,
                           body=c["body"], service=c["service"], region="us-west-2", s3=c["s3"],
                           time=T, access_key=AK, secret_key=SK))
    out = subprocess.run([tool], input=json.dumps(inputs), capture_output=True, text=True, check=True)
    ours = json.loads(out.stdout)
    bad = 0
    for c, mine in zip(CASES, ours):
        canonical, sig, signed = botocore_sign(c)
        if canonical != mine["canonical_request"] or sig != mine["signature"]:
            bad += 1
            print(f"MISMATCH {c['service']} {c['method']} {c['path']}?{c['query']}\n"
                  f"--- botocore\n{canonical}\n{sig}\n--- finstream\n{mine['canonical_request']}\n"
                  f"{mine['signature']}\n")
        if f"SignedHeaders={signed}," not in mine["authorization"]:
            bad += 1
            print(f"MISMATCH signed headers {signed} vs {mine['authorization']}")
    print(f"{len(CASES) - bad} passed, {bad} failed")
    sys.exit(1 if bad else 0)


main()
