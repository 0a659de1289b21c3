"""One AWS call through boto3 against finstream serve, for shell tests.

    aws_call.py ENDPOINT SERVICE OPERATION [JSON-PARAMS] [REGION]

Prints the response (without ResponseMetadata) as JSON on one line, or, for an error
answer, "ERROR <code> <message>" (exit status 0 either way, so tests assert on the text).
Data members of Firehose and Kinesis records are given as text and sent as bytes.
"""
import json
import sys

import boto3
import botocore.config

endpoint, service, op = sys.argv[1], sys.argv[2], sys.argv[3]
params = json.loads(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else {}
region = sys.argv[5] if len(sys.argv) > 5 else "us-east-1"
client = boto3.client(service, endpoint_url=endpoint, region_name=region,
                      aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                      config=botocore.config.Config(retries={"max_attempts": 1},
                                                    parameter_validation=False))


def to_bytes(p):
    for key in ("Record",):
        if key in p and isinstance(p[key].get("Data"), str):
            p[key]["Data"] = p[key]["Data"].encode()
    for r in p.get("Records", []):
        if isinstance(r.get("Data"), str):
            r["Data"] = r["Data"].encode()
    if isinstance(p.get("Data"), str):
        p["Data"] = p["Data"].encode()
    return p


snake = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
try:
    out = getattr(client, snake)(**to_bytes(params))
    out.pop("ResponseMetadata", None)
    print(json.dumps(out, default=str, sort_keys=True))
except client.exceptions.ClientError as e:
    err = e.response.get("Error", {})
    print("ERROR %s %s" % (err.get("Code"), err.get("Message")))
