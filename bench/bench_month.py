#!/usr/bin/env python3
"""bench_month.py - the 500-ticker month through the whole pipeline, and the report's cost
by ticker count.

Part 1 runs what a user runs, stage by stage, on one-minute simulated bars for 500
tickers over a month (2020-05: 20 trading days, 3,900,000 records): collect into the
stream, deliver into the lake, crawl, the hourly-high query over the whole month, and
the report of the last day. Part 2 draws the report of one day at 10, 500 and 5,000
tickers (from a folder of JSON lines). Each stage is its own process; the figures are
its wall time, its CPU time (user + system: steadier than wall time on a shared machine)
and its peak resident memory (from wait4's rusage).

usage: bench_month.py FINSTREAM_BINARY [WORK_DIR] [--tickers N] [--quick]
--quick: 50 tickers and one week, and the report at 10 and 500 tickers only (a smoke
run for the build; the figures in docs/performance.md come from the full run)."""
import os
import subprocess
import sys
import tempfile
import time

INI = """[collector "classic"]
source   = sim
tickers  = FB
interval = 1m
to       = stream:stocks

[stream "stocks"]
shards    = 2
retention = 7d
fsync     = interval

[delivery "lake"]
source          = stream:stocks
prefix          = YYYY/MM/DD/HH/
buffer_size     = 64MiB
buffer_interval = 60s
"""

HOURLY = """SELECT name AS Stock, substr(ts, 12, 2) AS Hour, max(high) AS Hourly_High
FROM finance.stocks GROUP BY 1, 2 ORDER BY 1, 2"""


def stage(name, argv, **kw):
    """Runs argv; returns (wall seconds, CPU seconds, peak RSS in MiB). Fails loudly on a
    non-zero exit."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{name}: exit {p.returncode}: {err.decode(errors='replace')[-500:]}")
    return secs, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


def tickers(n):
    return ",".join("T%04d" % i for i in range(n))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    n = 50 if quick else 500
    if "--tickers" in sys.argv:
        n = int(sys.argv[sys.argv.index("--tickers") + 1])
        args = [a for a in args if a != str(n)]
    binary = os.path.abspath(args[0])
    work = args[1] if len(args) > 1 else tempfile.mkdtemp(prefix="finstream-month-")
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "finstream.ini"), "w") as f:
        f.write(INI)
    fs = [binary, "--data-dir", data, "-q"]
    end = "2020-05-08" if quick else "2020-06-01"
    print(f"the month: {n} tickers, 2020-05-01 .. {end} (one-minute bars), in {work}")
    rows = []
    rows.append(("collect", *stage("collect", fs + ["collect", "--tickers", tickers(n), "--start",
                                                    "2020-05-01", "--end", end, "--to",
                                                    "stream:stocks"])))
    rows.append(("deliver", *stage("deliver", fs + ["deliver", "--once"])))
    rows.append(("crawl", *stage("crawl", fs + ["crawl", "--table", "stocks"])))
    rows.append(("query", *stage("query", fs + ["query", "--format", "csv", HOURLY])))
    last = "2020-05-07" if quick else "2020-05-29"
    rows.append(("report", *stage("report", fs + ["report", "--date", last, "--out",
                                                  os.path.join(work, "report")])))
    records = n * (5 if quick else 20) * 390
    print(f"{'stage':<10}{'seconds':>10}{'CPU s':>10}{'peak MiB':>10}")
    for name, secs, cpu, mib in rows:
        print(f"{name:<10}{secs:>10.2f}{cpu:>10.2f}{mib:>10.0f}")
    total = sum(r[1] for r in rows)
    print(f"{'total':<10}{total:>10.2f}   ({records:,} records, {records / rows[0][1]:,.0f}/s collected)")

    print("\nthe report of one day by ticker count (from a folder of JSON lines)")
    print(f"{'tickers':<10}{'seconds':>10}{'CPU s':>10}{'peak MiB':>10}")
    for k in ([10, 500] if quick else [10, 500, 5000]):
        folder = os.path.join(work, f"day{k}")
        os.makedirs(folder, exist_ok=True)
        stage("collect", fs + ["collect", "--tickers", tickers(k), "--date", "2020-05-14", "--out",
                               os.path.join(folder, "bars.json")])
        secs, cpu, mib = stage("report", fs + ["report", "--from", folder, "--out",
                                               os.path.join(work, f"report{k}")])
        print(f"{k:<10}{secs:>10.2f}{cpu:>10.2f}{mib:>10.0f}")


if __name__ == "__main__":
    main()
