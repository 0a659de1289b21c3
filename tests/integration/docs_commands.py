#!/usr/bin/env python3
"""docs_commands.py - runs every finstream command shown in README.md and docs/*.md.

A command is a line of a fenced code block that starts with `finstream ` or
`./build/finstream ` (a leading `$ ` prompt is dropped; a trailing backslash joins the
next line). Each document's commands run in order, in a fresh data directory and a fresh
working folder, as a reader following the page would run them; a page under docs/ starts
from a data directory where `finstream run` has run (the classic day is in place), the
README and a page whose first command is `run` or `stream create` from nothing. The working folder stands for the repository: ../shared/data is
the shared data folder when it exists. A command fails when it
exits non-zero (except 130/143 are never expected) or takes longer than 120 s.

Some commands cannot run here; docs_skip.txt lists them, one pattern a line with the
reason after ` # `: a command is skipped when the pattern (a Python regular expression)
matches it. Built in: commands that need the network (--source yahoo, s3://, kinesis:
with a real endpoint), that run until stopped (serve, deliver without --once, --every,
--follow, a trailing &), and those with placeholders the reader fills in (NAME, FILE,
<...>, ...).

usage: docs_commands.py SRC_DIR FINSTREAM_BINARY [SKIP_FILE]
Prints one line per command (ok, skip with the reason, FAIL with file:line) and exits 1
when any failed."""
import os
import re
import shlex
import subprocess
import sys
import tempfile

BUILTIN_SKIPS = [
    (r"--source[ =]yahoo|source yahoo", "needs the network (Yahoo Finance)"),
    (r"(?<!--location )s3://|kinesis:|--endpoint-url|amazonaws", "needs a remote service"),
    (r"\bserve\b|\bconsole$|\bconsole --listen", "runs until stopped"),
    (r"\bdeliver\b(?!.*(--once|--status))", "follows until stopped"),
    (r"--every|--follow", "runs until stopped"),
    (r"&\s*$", "runs in the background"),
    (r"<[A-Za-z_ -]+>|\bNAME\b|\bFILE\b|\.\.\.|\bDIR\b|\bSTREAM\b|\bTABLE\b|\bSQL\b|\s\[-|path/to/",
     "has a placeholder"),
]


def commands(path):
    """(line number, command) for each finstream command in the fenced blocks of path."""
    out = []
    fenced = False
    pending = None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.lstrip().startswith("```"):
                fenced = not fenced
                pending = None
                continue
            if not fenced:
                continue
            text = line.strip()
            if pending is not None:
                pending[1] += " " + text.rstrip("\\").strip()
                if not text.endswith("\\"):
                    out.append(tuple(pending))
                    pending = None
                continue
            if text.startswith("$ "):
                text = text[2:]
            if not re.match(r"(\./build/)?finstream(\s|$)", text):
                continue
            # A trailing comment (" # ...") is not part of the command.
            text = re.sub(r"\s+#\s.*$", "", text)
            if text.endswith("\\"):
                pending = [n, text.rstrip("\\").strip()]
            else:
                out.append((n, text))
    return out


def load_skips(path):
    skips = list(BUILTIN_SKIPS)
    if path and os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            pat, _, why = line.partition(" # ")
            skips.append((pat.strip(), why.strip() or "listed in docs_skip.txt"))
    return skips


def main():
    src, binary = sys.argv[1], os.path.abspath(sys.argv[2])
    skips = load_skips(sys.argv[3] if len(sys.argv) > 3 else None)
    docs = [os.path.join(src, "README.md")] + sorted(
        os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs")) if f.endswith(".md"))
    failed = ran = skipped = 0
    shared = os.environ.get("FIN_SHARED_DATA", "")
    for doc in docs:
        rel = os.path.relpath(doc, src)
        cmds = commands(doc)
        if not cmds:
            continue
        with tempfile.TemporaryDirectory(prefix="finstream-docs-") as top:
            work = os.path.join(top, "repo")
            os.makedirs(work)
            env = dict(os.environ, FINSTREAM_DATA_DIR=os.path.join(work, "finstream-data"))
            # `finstream` and `./build/finstream` both mean the binary under test.
            bindir = os.path.join(work, "bin")
            os.makedirs(os.path.join(work, "build"))
            os.makedirs(bindir)
            os.symlink(binary, os.path.join(bindir, "finstream"))
            os.symlink(binary, os.path.join(work, "build", "finstream"))
            env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
            if shared and os.path.isdir(shared):
                os.symlink(os.path.dirname(os.path.abspath(shared)), os.path.join(top, "shared"))
            first = cmds[0][1].split()
            if rel != "README.md" and first[1:3] != ["stream", "create"] and first[1:2] != ["run"]:
                subprocess.run([binary, "run", "-q"], cwd=work, env=env, check=True,
                               stdin=subprocess.DEVNULL)
            for n, cmd in cmds:
                why = next((w for p, w in skips if re.search(p, cmd)), None)
                if not why and "../shared/" in cmd and not os.path.exists(os.path.join(top, "shared")):
                    why = "the shared data folder is absent (FIN_SHARED_DATA)"
                if why:
                    skipped += 1
                    print(f"skip  {rel}:{n}: {cmd}  ({why})")
                    continue
                ran += 1
                try:
                    p = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True,
                                       text=True, timeout=120, stdin=subprocess.DEVNULL)
                    rc, err = p.returncode, p.stderr.strip().splitlines()
                except subprocess.TimeoutExpired:
                    rc, err = -1, ["timed out after 120 s"]
                if rc == 0:
                    print(f"ok    {rel}:{n}: {cmd}")
                else:
                    failed += 1
                    print(f"FAIL  {rel}:{n}: {cmd}  (exit {rc}: {err[-1] if err else ''})")
    print(f"{ran} commands ran, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
