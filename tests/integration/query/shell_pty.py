"""Drives `finstream query` (the interactive shell) through a pseudo-terminal, as a user
would: multi-line statements, the database in the prompt, timing and bytes scanned after
each answer, results cut to the terminal's width, Ctrl-C cancelling a running statement
and dropping typed lines without leaving the shell, history kept in the data directory.

usage: shell_pty.py FINSTREAM DATA_DIR"""
import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time

BIN, DATA = sys.argv[1], sys.argv[2]
WIDTH = 60
out = b""
mark = 0


def fail(msg):
    sys.stderr.write("FAIL: %s\n--- terminal output (end) ---\n%s\n"
                     % (msg, out[-3000:].decode("utf-8", "replace")))
    sys.exit(1)


def read_some(fd, timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        out += data
    return True


def expect(fd, pattern, timeout=60.0, what=None):
    """Waits (with a deadline) until pattern appears after the last match."""
    global mark
    deadline = time.monotonic() + timeout
    rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
    while True:
        m = rx.search(out, mark)
        if m:
            mark = m.end()
            return m
        left = deadline - time.monotonic()
        if left <= 0:
            fail("timed out waiting for %r" % (what or pattern))
        if not read_some(fd, min(left, 0.2)):
            m = rx.search(out, mark)
            if m:
                mark = m.end()
                return m
            fail("the shell ended while waiting for %r" % (what or pattern))


def send(fd, text):
    os.write(fd, text.encode())


pid, fd = pty.fork()
if pid == 0:
    os.environ["PAGER"] = ""
    os.environ["HOME"] = DATA   # no ~/.editrc of the machine's user
    os.execv(BIN, [BIN, "--data-dir", DATA, "query"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, WIDTH, 0, 0))

expect(fd, r"finance> ", what="the first prompt")

# a statement over two lines; the continuation prompt; rows, time and bytes scanned
send(fd, "SELECT name,\r")
expect(fd, r"-> ", what="the continuation prompt")
send(fd, "  count(*) AS n FROM stocks GROUP BY name ORDER BY name;\r")
expect(fd, r"FB\s+\|\s+3", what="the FB row")
expect(fd, r"SQ\s+\|\s+3", what="the SQ row")
expect(fd, r"\(2 rows\)")
m = expect(fd, r"(\d+\.\d{3}) s, (\d+(\.\d)?) (B|KiB) scanned", what="time and bytes scanned")
if m.group(2) in (b"0", b"0.0"):
    fail("no bytes scanned reported for a query over the lake")
expect(fd, r"finance> ")

# results are cut to the terminal's width
start = mark
send(fd, "SELECT repeat('x', 200) AS wide, 1 AS one, 'abc' AS three;\r")
expect(fd, r"\(1 row[^)]*\)")
expect(fd, r"finance> ")
shown = out[start:mark].decode("utf-8", "replace")
for line in shown.splitlines():
    line = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).rstrip("\r")
    if line.startswith("SELECT repeat") or "finance>" in line:
        continue
    if len(line) > WIDTH:
        fail("a line is wider than the terminal (%d > %d): %r" % (len(line), WIDTH, line))
if "\u2026" not in shown:
    fail("the wide value was not cut with an ellipsis")

# USE changes the database in the prompt
send(fd, "CREATE TABLE other.t AS SELECT 1 AS x; USE other;\r")
expect(fd, r"other> ", what="the prompt after USE other")
send(fd, "SELECT x FROM t;\r")
expect(fd, r"\(1 row\)")
expect(fd, r"other> ")
send(fd, "USE finance;\r")
expect(fd, r"finance> ")

# Ctrl-C at the prompt drops the typed lines and stays in the shell
send(fd, "SELECT 'dropped'\r")
expect(fd, r"-> ")
# (a Ctrl-C typed while line editing takes over the terminal can be lost: sent again)
deadline = time.monotonic() + 60
while not re.search(rb"finance> ", out[mark:]):
    if time.monotonic() > deadline:
        fail("no fresh prompt after Ctrl-C")
    send(fd, "\x03")
    until = time.monotonic() + 1.0
    while time.monotonic() < until and not re.search(rb"finance> ", out[mark:]):
        read_some(fd, 0.1)
expect(fd, r"finance> ", what="a fresh prompt after Ctrl-C")
send(fd, "SELECT 7 AS seven;\r")
expect(fd, r"seven\r?\n-+\r?\n\s*7", what="the answer 7 (the dropped line was not kept)")
expect(fd, r"finance> ")

# Ctrl-C cancels a running statement; the shell goes on. A Ctrl-C that lands while the
# shell is still leaving line editing (the line read, the terminal being restored) is a
# Ctrl-C at the prompt: the statement is dropped unrun and the prompt comes back. Then
# the statement is sent again, with a little more time before the first Ctrl-C.
interrupted = False
for attempt in range(5):
    send(fd, "SELECT sum(a * 2) FROM range(1000000000000) t(a);\r")
    # Ctrl-C flushes the terminal's input: wait until the line has been read (echoed)
    expect(fd, r"t\(a\);\r?\n", what="the long statement read")
    read_some(fd, 0.2 * attempt)
    deadline = time.monotonic() + 120
    while not re.search(rb"Interrupt", out[mark:]):
        if re.search(rb"finance> ", out[mark:]):
            break   # dropped at the prompt: try again
        if time.monotonic() > deadline:
            fail("the statement was not interrupted")
        send(fd, "\x03")
        # up to a second for the answer to this Ctrl-C before the next one
        until = time.monotonic() + 1.0
        while time.monotonic() < until and not re.search(rb"Interrupt|finance> ", out[mark:]):
            read_some(fd, 0.1)
    if re.search(rb"Interrupt", out[mark:]):
        interrupted = True
        break
    expect(fd, r"finance> ")
if not interrupted:
    fail("the statement was not interrupted in 5 tries")
expect(fd, r"Interrupt", what="the interrupted message")
expect(fd, r"finance> ", what="the prompt after the interrupted statement")
send(fd, "SELECT 42 AS answer;\r")
expect(fd, r"\s42\r?\n", what="the answer after an interrupt")
expect(fd, r"finance> ")

# Ctrl-D leaves; the history is in the data directory. A Ctrl-D typed while line editing
# is still taking over the terminal can be lost with the terminal's pending input: it is
# sent again each second until the shell ends.
deadline = time.monotonic() + 30
next_eof = 0.0
while True:
    wpid, status = os.waitpid(pid, os.WNOHANG)
    if wpid:
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        fail("the shell did not end on Ctrl-D")
    if time.monotonic() >= next_eof:
        try:
            send(fd, "\x04")
        except OSError:
            pass
        next_eof = time.monotonic() + 1.0
    read_some(fd, 0.2)
if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
    fail("the shell ended with status %r" % status)
with open(os.path.join(DATA, "query_history"), encoding="utf-8", errors="replace") as h:
    # libedit's file format escapes spaces as \040 (octal)
    history = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), h.read())
for want in ("SELECT 42 AS answer;", "SELECT name,   count(*) AS n FROM stocks"):
    if want not in history:
        fail("history lacks %r: %r" % (want, history))
print("query shell: ok")
