#!/usr/bin/env python3
"""A small HTTP proxy on 127.0.0.1 that forwards to an upstream server on loopback and
fails some calls on purpose, the way S3 and Kinesis do under load.

Usage: fault_proxy.py UPSTREAM_PORT PORT_FILE [PATTERN]

PATTERN is a comma-separated cycle of what to do with successive requests:
  ok        forward
  503       answer 503 SlowDown (S3 XML) without forwarding
  500       answer 500 InternalError without forwarding
  after500  forward, then answer 500 anyway (the server did the work; the client retries it)
  reset     close the connection without an answer
  throttle  answer 400 ProvisionedThroughputExceededException (JSON) without forwarding
An item may carry a count, ACTION*N, for N requests in a row ("500*6"). A pattern that
starts with "once:" is not repeated: after its last item every request is forwarded
("once:500*6" fails the first six requests, then recovers for good).
The chosen port is written to PORT_FILE. Counts go to stderr on exit; with
FIN_PROXY_TRACE=1, also one line per request: the action, method and path.

With FIN_PROXY_VERIFY=ACCESS_KEY:SECRET in the environment, every request's SigV4
signature is recomputed with botocore's signer over the headers the client signed (and
an S3 request's x-amz-content-sha256 checked against its body) before anything else; a
mismatch gets 403 SignatureDoesNotMatch. Without botocore the proxy only forwards."""
import hashlib
import http.client
import http.server
import os
import re
import socketserver
import sys
import threading

VERIFY = os.environ.get("FIN_PROXY_VERIFY", "")
try:
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    if VERIFY:
        print("fault proxy: botocore not found, signatures not verified", file=sys.stderr)
    VERIFY = ""
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
                     r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]{64})$")

UP = int(sys.argv[1])
SPEC = sys.argv[3] if len(sys.argv) > 3 else "ok,503,ok,after500,ok,reset,ok,500"
ONCE = SPEC.startswith("once:")
PATTERN = []
for item in SPEC[5 if ONCE else 0:].split(","):
    action, _, times = item.partition("*")
    PATTERN += [action] * int(times or 1)
TRACE = os.environ.get("FIN_PROXY_TRACE") == "1"
lock = threading.Lock()
n = [0]
counts = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, ctype, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _verified(self, body):
        ak, secret = VERIFY.split(":", 1)
        m = AUTH_RE.match(self.headers.get("Authorization", ""))
        if not m or m.group(1) != ak:
            return False
        _, _, region, service, signed, sig = m.groups()
        headers = {}
        for name in signed.split(";"):
            if self.headers.get(name) is None:
                return False
            headers[name] = self.headers.get(name)
        if service == "s3":
            claimed = self.headers.get("x-amz-content-sha256", "")
            if claimed != "UNSIGNED-PAYLOAD" and claimed != hashlib.sha256(body).hexdigest():
                return False
        req = AWSRequest(method=self.command, url="http://" + self.headers["Host"] + self.path,
                         data=body, headers=headers)
        req.context["timestamp"] = self.headers.get("X-Amz-Date", "")
        auth = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(ak, secret), service, region)
        canonical = auth.canonical_request(req)
        return auth.signature(auth.string_to_sign(req, canonical), req) == sig

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if VERIFY and not self._verified(body):
            with lock:
                counts["badsig"] = counts.get("badsig", 0) + 1
            return self._answer(403, "application/xml",
                                "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                                "signature we calculated does not match</Message></Error>")
        with lock:
            if ONCE:
                action = PATTERN[n[0]] if n[0] < len(PATTERN) else "ok"
            else:
                action = PATTERN[n[0] % len(PATTERN)]
            n[0] += 1
            counts[action] = counts.get(action, 0) + 1
            if TRACE:
                print(action, self.command, self.path, file=sys.stderr, flush=True)
        if action == "reset":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if action == "503":
            return self._answer(503, "application/xml",
                                "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>")
        if action == "500":
            return self._answer(500, "application/xml",
                                "<Error><Code>InternalError</Code><Message>injected</Message></Error>")
        if action == "throttle":
            return self._answer(400, "application/x-amz-json-1.1",
                                '{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"}')
        conn = http.client.HTTPConnection("127.0.0.1", UP, timeout=30)
        headers = {k: v for k, v in self.headers.items()}
        conn.request(self.command, self.path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        if action == "after500":
            conn.close()
            return self._answer(500, "application/xml",
                                "<Error><Code>InternalError</Code><Message>injected after</Message></Error>")
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        # A HEAD answer has no body but tells the object's length.
        self.send_header("Content-Length", r.getheader("Content-Length", "0")
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
try:
    srv.serve_forever()
except KeyboardInterrupt:
    pass
finally:
    print("fault proxy:", counts, file=sys.stderr)
