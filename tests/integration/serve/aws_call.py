"""AWS calls through boto3 against finstream serve, for shell tests.

    aws_call.py ENDPOINT SERVICE OPERATION [JSON-PARAMS] [REGION]
    aws_call.py ENDPOINT - [REGION] < lines of "SERVICE OPERATION JSON-PARAMS"

Prints each response (without ResponseMetadata) as JSON on one line, or, for an error
answer, "ERROR <code> <message>" (exit status 0 either way, so tests assert on the text).
The second form makes many calls in one process (starting Python and boto3 is the slow
part). Data members of Firehose and Kinesis records are given as text and sent as bytes.
"""
import json
import sys

import boto3
import botocore.config

endpoint = sys.argv[1]
batch = sys.argv[2] == "-"
region = (sys.argv[3] if len(sys.argv) > 3 else "us-east-1") if batch else \
    (sys.argv[5] if len(sys.argv) > 5 else "us-east-1")
clients = {}


def client(service):
    if service not in clients:
        clients[service] = boto3.client(
            service, endpoint_url=endpoint, region_name=region,
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=botocore.config.Config(retries={"max_attempts": 1},
                                          parameter_validation=False))
    return clients[service]


def to_bytes(p):
    if isinstance(p.get("Record"), dict) and isinstance(p["Record"].get("Data"), str):
        p["Record"]["Data"] = p["Record"]["Data"].encode()
    for r in p.get("Records", []):
        if isinstance(r.get("Data"), str):
            r["Data"] = r["Data"].encode()
    if isinstance(p.get("Data"), str):
        p["Data"] = p["Data"].encode()
    return p


def call(service, op, params):
    c = client(service)
    snake = "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")
    try:
        out = getattr(c, snake)(**to_bytes(params))
        out.pop("ResponseMetadata", None)
        print(json.dumps(out, default=str, sort_keys=True), flush=True)
    except c.exceptions.ClientError as e:
        err = e.response.get("Error", {})
        print("ERROR %s %s" % (err.get("Code"), err.get("Message")), flush=True)


if batch:
    for line in sys.stdin:
        if line.strip():
            service, op, params = line.strip().split(" ", 2)
            call(service, op, json.loads(params))
else:
    call(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else {})
