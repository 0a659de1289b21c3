"""Slow senders and idle floods against finstream serve, with a well-formed client putting
records throughout; serve was started with --timeout 2s --request-timeout 3s and the
default connection limits (512 in all, 64 per address).

  trickle  600 connections from 12 loopback addresses (127.0.0.2 .. 127.0.0.13, 50 each)
           send a request line and then one header line a second, forever (each cut one
           is reopened): the idle timeout never fires, only the whole-request deadline.
  flood    up to 10,000 connections, each from its own loopback address (127.0.x.y),
           opened as fast as possible and left idle (each cut one is reopened).

During each attack the client's PutRecords (a new connection each) must all succeed within
a few seconds; afterwards every acknowledged record must be in the stream (checked by the
caller). Prints the number of records acknowledged as its last line.

    slow_senders.py ENDPOINT STREAM
"""
import base64
import errno
import json
import resource
import selectors
import socket
import sys
import threading
import time
import urllib.request

ep, stream = sys.argv[1], sys.argv[2]
host, port = ep.split("//")[1].split(":")
port = int(port)
REQUEST_TIMEOUT = 3.0


def fail(msg):
    print("FAIL:", msg, file=sys.stderr)
    sys.exit(1)


acked = 0


def put_records(tag, n=10):
    global acked
    body = json.dumps({"StreamName": stream, "Records": [
        {"Data": base64.b64encode(b'{"name":"T","tag":"%s","i":%d}' % (tag.encode(), i)).decode(),
         "PartitionKey": "T"} for i in range(n)]}).encode()
    req = urllib.request.Request(ep + "/", data=body, method="POST", headers={
        "X-Amz-Target": "Kinesis_20131202.PutRecords",
        "Content-Type": "application/x-amz-json-1.1",
        "Authorization": "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host, Signature=00", "X-Amz-Date": "20260101T000000Z"})
    t0 = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            answer = json.loads(r.read())
    except Exception as e:  # refused, reset, timed out: the attack got through
        fail("PutRecords %s failed during the attack after %.1f s: %r" % (tag, time.monotonic() - t0, e))
    if answer.get("FailedRecordCount") != 0 or len(answer.get("Records", [])) != n:
        fail("PutRecords %s answered %r" % (tag, answer))
    acked += n
    return time.monotonic() - t0


def client_during(attack, seconds, tag):
    """Puts every 0.1 s for `seconds` while attack runs; returns the slowest put."""
    slowest, k = 0.0, 0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        slowest = max(slowest, put_records("%s%d" % (tag, k)))
        k += 1
        time.sleep(0.1)
    if slowest > 8:
        fail("%s: a put took %.1f s" % (attack, slowest))
    return k, slowest


class Attack(threading.Thread):
    """Keeps up to `want` connections open from `addrs`, each doing `first` on connect and
    `tick` once a second; reopens what serve closes. Records how long closed ones lived."""

    def __init__(self, addrs, per_addr, first, tick):
        super().__init__(daemon=True)
        self.addrs, self.per_addr, self.first, self.tick = addrs, per_addr, first, tick
        self.stop = threading.Event()
        self.opened = self.cut = self.refused = 0
        self.longest = 0.0
        self.peak = 0
        self.sel = selectors.DefaultSelector()
        self.born = {}

    def open_one(self, addr):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((addr, 0))
            e = s.connect_ex((host, port))
        except OSError:
            s.close()
            self.refused += 1
            return
        if e not in (0, errno.EINPROGRESS):
            s.close()
            self.refused += 1
            return
        self.sel.register(s, selectors.EVENT_READ, addr)
        self.born[s] = [time.monotonic(), False]
        self.opened += 1

    def drop(self, s):
        born, sent = self.born.pop(s)
        self.sel.unregister(s)
        s.close()
        if sent:
            self.cut += 1
            self.longest = max(self.longest, time.monotonic() - born)

    def run(self):
        for a in self.addrs:
            for _ in range(self.per_addr):
                self.open_one(a)
        self.peak = len(self.born)
        next_tick = time.monotonic()
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + 1.0
                for s, st in list(self.born.items()):
                    try:
                        s.send(self.tick if st[1] else self.first)
                        st[1] = True
                    except BlockingIOError:
                        pass
                    except OSError:
                        addr = self.sel.get_key(s).data
                        self.drop(s)
                        self.open_one(addr)
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # closed by serve (or refused): reopen from the same address
                    self.drop(s)
                    self.open_one(key.data)
            self.peak = max(self.peak, len(self.born))
        for s in list(self.born):
            self.sel.unregister(s)
            s.close()


# a sanity put before any attack
put_records("before")

# 1. the deadline alone: 100 trickling connections, well under the cap, each cut once its
#    request has taken longer than request_timeout (the idle timeout never fires for them)
slow = Attack(["127.0.0.2", "127.0.0.3"], 50,
              b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n",
              b"X-Slow: 1\r\n")
slow.start()
n0, slow0 = client_during("deadline", 6.5, "d")
slow.stop.set()
slow.join()
if slow.cut < 90 or not (REQUEST_TIMEOUT - 0.5 <= slow.longest <= REQUEST_TIMEOUT + 3):
    fail("deadline: %d of 100 trickling connections cut, the longest lived %.1f s (deadline %.0f s)"
         % (slow.cut, slow.longest, REQUEST_TIMEOUT))
print("deadline: %d trickling connections cut, longest lived %.1f s; %d puts, slowest %.2f s"
      % (slow.cut, slow.longest, n0, slow0))

# 2. trickling headers: 600 connections from 12 addresses, more than the cap of 512
trickle = Attack(["127.0.0.%d" % i for i in range(2, 14)], 50,
                 b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n",
                 b"X-Slow: 1\r\n")
trickle.start()
time.sleep(1.0)
n1, slow1 = client_during("trickle", 6.0, "t")
trickle.stop.set()
trickle.join()
if trickle.peak < 500:
    fail("trickle: only %d connections were ever open at once" % trickle.peak)
if trickle.cut == 0 or trickle.longest > REQUEST_TIMEOUT + 3:
    fail("trickle: %d connections cut, the longest lived %.1f s (request deadline %.0f s)"
         % (trickle.cut, trickle.longest, REQUEST_TIMEOUT))
print("trickle: %d connections (peak %d open), %d cut, longest %.1f s; %d puts, slowest %.2f s"
      % (trickle.opened, trickle.peak, trickle.cut, trickle.longest, n1, slow1))

# 3. idle flood: 10,000 connections from as many addresses (fewer if descriptors are short)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
want = 10000
if hard != resource.RLIM_INFINITY and hard < want + 200:
    want = max(1000, hard - 200)
resource.setrlimit(resource.RLIMIT_NOFILE, (want + 200 if hard == resource.RLIM_INFINITY
                                            else min(hard, want + 200), hard))
addrs = ["127.0.%d.%d" % (1 + i // 250, 1 + i % 250) for i in range(want)]
flood = Attack(addrs, 1, b"", b"")
flood.start()
n2, slow2 = client_during("flood", 5.0, "f")
flood.stop.set()
flood.join()
print("flood: %d connections opened (%d at once from this side), %d refused; %d puts, slowest %.2f s"
      % (flood.opened, flood.peak, flood.refused, n2, slow2))

put_records("after")
print(acked)
