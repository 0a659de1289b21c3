#!/usr/bin/env python3
"""A loopback HTTP/1.1 server for test_http: echoes what it received as JSON, and answers
the few shapes the transport must handle (redirects, gzip, large and slow answers).
Prints its port on the first line of stdout; exits when stdin closes."""
import gzip
import http.server
import json
import socketserver
import sys
import threading
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, so the client can reuse a connection

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path
        if path == "/redirect":
            return self.reply(302, b"moved", [("Location", "/echo"), ("X-Hop", "first")])
        if path == "/gzip":
            return self.reply(200, gzip.compress(b"decoded text " * 100),
                              [("Content-Encoding", "gzip"), ("Content-Type", "text/plain")])
        if path == "/big":
            return self.reply(200, b"x" * 100000)
        if path == "/slow":
            time.sleep(3)
            return self.reply(200, b"late")
        if path == "/status/503":
            return self.reply(503, b"busy", [("Retry-After", "7")])
        echo = {
            "method": self.command,
            "path": path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("latin-1"),
            "client_port": self.client_address[1],
        }
        self.reply(200, json.dumps(echo).encode(),
                   [("Content-Type", "application/json"), ("X-Echo", "  spaced value  ")])

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass   # clients that give up early (body limit, timeout) are part of the tests


srv = Server(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
sys.stdin.read()
