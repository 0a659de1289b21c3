#!/usr/bin/env python3
"""fake_yahoo.py - a local stand-in for Yahoo Finance's chart API, for the collector's tests.

Listens on 127.0.0.1 (a free port, written to --port-file once it is listening) and answers
GET /v8/finance/chart/<TICKER>?period1=..&period2=..&interval=.. in the shape the real API
uses. The ticker picks the behaviour:

  NULLS     a regular day in which every 7th bar is all null and bar 3 has no volume
  RATE      429 with Retry-After: 1 on the first request, then a regular day
  FLAKY     503 twice (no Retry-After), then a regular day
  DOWN      500 on every request
  SLOW      waits 3 s before answering (longer than the tests' timeout)
  TRUNC     a regular day's JSON cut off in the middle (Content-Length says so)
  CUT       the connection drops a third of the way into the promised body
  NOPE      404 with Yahoo's error JSON ("No data found, symbol may be delisted")
  HTML      200 with an HTML page (what a consent or error page looks like)
  EMPTY     200 with an empty body
  VOD.L     a regular day on the London exchange (Europe/London)
  anything else: a regular day on the New York exchange

A regular day has one bar per interval from 09:30 to 16:00 exchange time on each trading
weekday of [period1, period2). Prices are floats widened from single precision, as Yahoo
writes them (202.8300018310547). Every request is appended to --log as "TICKER STATUS".
"""
import argparse
import datetime as dt
import json
import os
import struct
import sys
import threading
import time
import urllib.parse
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INTERVALS = {"1m": 60, "2m": 120, "5m": 300, "15m": 900, "30m": 1800, "60m": 3600, "90m": 5400,
             "1d": 86400}
counts = {}
lock = threading.Lock()


def f32(x):
    """x rounded to single precision, as a double: Yahoo's prices look like this."""
    return struct.unpack("f", struct.pack("f", x))[0]


def day_bars(period1, period2, step, zone):
    tz = zoneinfo.ZoneInfo(zone)
    out = []
    day = dt.datetime.fromtimestamp(period1, tz).date()
    last = dt.datetime.fromtimestamp(period2, tz).date()
    while day <= last:
        if day.weekday() < 5:
            open_ = dt.datetime(day.year, day.month, day.day, 9, 30, tzinfo=tz)
            close = dt.datetime(day.year, day.month, day.day, 16, 0, tzinfo=tz)
            if step >= 86400:
                close = open_ + dt.timedelta(seconds=1)
            t = int(open_.timestamp())
            while t < int(close.timestamp()):
                if period1 <= t < period2:
                    out.append(t)
                t += step
        day += dt.timedelta(days=1)
    return out


def chart(ticker, period1, period2, interval):
    step = INTERVALS.get(interval, 60)
    london = ticker == "VOD.L"
    zone = "Europe/London" if london else "America/New_York"
    ts = day_bars(period1, period2, step, zone)
    base = 70.0 if london else 200.0
    quote = {"open": [], "high": [], "low": [], "close": [], "volume": []}
    for i, _ in enumerate(ts):
        o = f32(base + (i % 13) * 0.07)
        c = f32(o + ((i % 5) - 2) * 0.03)
        h = f32(max(o, c) + 0.11)
        lo = f32(min(o, c) - 0.09)
        v = 1000 + 17 * i
        if ticker == "NULLS" and i % 7 == 6:
            o = h = lo = c = v = None
        if ticker == "NULLS" and i == 3:
            v = None
        for k, x in (("open", o), ("high", h), ("low", lo), ("close", c), ("volume", v)):
            quote[k].append(x)
    now = int(time.time())
    offset = int(dt.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(zone)).utcoffset().total_seconds())
    meta = {"currency": "GBp" if london else "USD", "symbol": ticker,
            "exchangeName": "LSE" if london else "NMS", "instrumentType": "EQUITY",
            "regularMarketTime": now, "gmtoffset": offset,
            "timezone": "BST" if offset else "GMT" if london else "EST",
            "exchangeTimezoneName": zone, "priceHint": 2, "dataGranularity": interval}
    result = {"meta": meta, "indicators": {"quote": [quote]}}
    if ts:
        result["timestamp"] = ts
    else:
        result["indicators"] = {"quote": [{}]}
    return json.dumps({"chart": {"result": [result], "error": None}}, separators=(",", ":"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body, ctype="application/json;charset=utf-8", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client gave up (the timeout case)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        prefix = "/v8/finance/chart/"
        if not url.path.startswith(prefix):
            return self.answer(404, "not found", "text/plain")
        ticker = urllib.parse.unquote(url.path[len(prefix):])
        q = urllib.parse.parse_qs(url.query)
        try:
            p1, p2 = int(q["period1"][0]), int(q["period2"][0])
            interval = q["interval"][0]
        except (KeyError, ValueError):
            return self.answer(400, json.dumps({"chart": {"result": None, "error": {
                "code": "Bad Request", "description": "Missing period1 or period2"}}}))
        with lock:
            n = counts[ticker] = counts.get(ticker, 0) + 1
        status = 200
        if ticker == "RATE" and n == 1:
            status = 429
            self.answer(429, "Too Many Requests\n", "text/plain", [("Retry-After", "1")])
        elif ticker == "FLAKY" and n <= 2:
            status = 503
            self.answer(503, "<html><body>Service Unavailable</body></html>", "text/html")
        elif ticker == "DOWN":
            status = 500
            self.answer(500, json.dumps({"finance": {"result": None, "error": {
                "code": "internal-error", "description": "Internal Server Error"}}}))
        elif ticker == "SLOW":
            time.sleep(3)
            self.answer(200, chart(ticker, p1, p2, interval))
        elif ticker == "CUT":
            # The connection drops mid-body: fewer bytes than Content-Length promised.
            data = chart(ticker, p1, p2, interval).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 3])
            self.wfile.flush()
            self.close_connection = True
        elif ticker == "TRUNC":
            body = chart(ticker, p1, p2, interval)
            self.answer(200, body[: len(body) // 2])
        elif ticker == "NOPE":
            status = 404
            self.answer(404, json.dumps({"chart": {"result": None, "error": {
                "code": "Not Found", "description": "No data found, symbol may be delisted"}}}))
        elif ticker == "HTML":
            self.answer(200, "<!DOCTYPE html><html><head><title>Yahoo</title></head>"
                        "<body>Oops, something went wrong</body></html>", "text/html")
        elif ticker == "EMPTY":
            self.answer(200, "")
        else:
            self.answer(200, chart(ticker, p1, p2, interval))
        if args.log:
            with lock, open(args.log, "a") as f:
                f.write(f"{ticker} {status}\n")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)
