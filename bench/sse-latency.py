#!/usr/bin/env python3
"""Delay from the server writing a piece to a client printing it (bench/run.sh).

    sse-latency.py [--runs R] -- CMD_A... -- CMD_B...

Runs each command R times, alternating A and B (interleaved, so both see
the same machine load). Each command must print, one per line, text that
holds the 19-digit `time.time_ns()` stamps written by
`bench/sse-server.py --pace-ms P` (nemo chat --json lines, or the raw
`data:` lines of curl -N). For every stamp seen, the delay is the time the
line arrived here minus the stamp. Prints one line per command:

    <median ms> <min ms> <max ms> <p99 ms> <stamps seen>

Each run is bounded by --timeout seconds.
"""

import argparse
import re
import statistics
import subprocess
import sys
import time

# A piece holds exactly one stamp; the final event repeating the whole
# text (and nemo's `done` line) hold many and are not pieces.
STAMP = re.compile(rb'"text":"(\d{19}) "')


def run_once(cmd, timeout):
    delays = []
    deadline = time.monotonic() + timeout
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0) as proc:
        for line in proc.stdout:
            now = time.time_ns()
            m = STAMP.search(line)
            if m:
                delays.append((now - int(m.group(1))) / 1e6)
            if time.monotonic() > deadline:
                proc.kill()
                break
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    return delays


def main():
    argv = sys.argv[1:]
    if argv.count("--") != 2:
        sys.exit(__doc__)
    first = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=60)
    opts = ap.parse_args(argv[:first])
    rest = argv[first + 1:]
    second = rest.index("--")
    cmds = [rest[:second], rest[second + 1:]]
    delays = [[], []]
    for _ in range(opts.runs):
        for k, cmd in enumerate(cmds):
            delays[k].extend(run_once(cmd, opts.timeout))
    for d in delays:
        if not d:
            print("n/a n/a n/a n/a 0")
            continue
        d.sort()
        p99 = d[min(len(d) - 1, int(len(d) * 0.99))]
        print(f"{statistics.median(d):.2f} {d[0]:.2f} {d[-1]:.2f} {p99:.2f} {len(d)}")


if __name__ == "__main__":
    main()
