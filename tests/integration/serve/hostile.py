"""Hostile clients against finstream serve started with --timeout 1s --max-per-client 8:
slow senders are cut off, connections beyond the per-client limit are refused, garbage
and half requests do not hurt, and a normal client is served throughout.

    hostile.py ENDPOINT
"""
import json
import socket
import sys
import time
import urllib.request

ep = sys.argv[1]
host, port = ep.split("//")[1].split(":")
port = int(port)


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


def ok_request():
    req = urllib.request.Request(ep + "/", data=b"{}", method="POST", headers={
        "X-Amz-Target": "Kinesis_20131202.ListStreams",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host, Signature=00", "X-Amz-Date": "20260101T000000Z"})
    with urllib.request.urlopen(req, timeout=5) as r:
        if r.status != 200 or "StreamNames" not in json.loads(r.read()):
            fail("normal request failed")


# a slow sender: headers promise a body that never comes; closed after the timeout
s = socket.create_connection((host, port))
s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
t0 = time.time()
s.settimeout(10)
try:
    data = s.recv(100)
except (ConnectionResetError, socket.timeout):
    data = b""
waited = time.time() - t0
if waited > 5:
    fail("slow sender kept for %.1f s" % waited)
s.close()

# garbage and a request line cut in the middle
for junk in [b"\x00\xff" * 1000 + b"\r\n\r\n", b"GET /hea", b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"]:
    g = socket.create_connection((host, port))
    g.sendall(junk)
    g.close()
ok_request()

# more connections than the per-client limit: the extra ones are closed at once
held = []
for _ in range(8):
    held.append(socket.create_connection((host, port)))
extra = socket.create_connection((host, port))
extra.settimeout(3)
try:
    extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    got = extra.recv(100)
except (ConnectionResetError, BrokenPipeError, socket.timeout):
    got = b""
if got.startswith(b"HTTP/1.1 200"):
    fail("connection beyond the per-client limit was served")
for h in held:
    h.close()
time.sleep(0.3)
ok_request()
print("hostile: slow sender cut after %.1f s; limits held; serve kept serving" % waited)
