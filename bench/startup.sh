#!/usr/bin/env bash
# Wall time of short commands, release build, against `nemo sandbox` on
# loopback: what a CI gate (`nemo credits --min N`) or a script loop pays
# per call. Uses hyperfine (Debian package `hyperfine`) when present, else a
# plain loop of 50 runs.
#
#   bench/startup.sh
set -euo pipefail

. "$(dirname "$0")/common.sh"

start_sandbox
"$NEMO" -q session new > /dev/null

echo "binary: $(du -h "$NEMO" | cut -f1) ($NEMO)"
if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 5 --runs 50 \
    "$NEMO --version" \
    "$NEMO credits --min 1" \
    "$NEMO state --json"
else
  for cmd in "--version" "credits --min 1" "state --json"; do
    start=$(date +%s%N)
    for _ in $(seq 50); do $NEMO $cmd > /dev/null; done
    end=$(date +%s%N)
    echo "nemo $cmd: $(( (end - start) / 50000 )) µs per run (mean of 50)"
  done
fi
/usr/bin/time -v "$NEMO" credits 2> "$WORK/time.txt" > /dev/null
echo "peak RSS of nemo credits: $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt") KB"
