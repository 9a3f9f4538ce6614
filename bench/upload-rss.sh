#!/usr/bin/env bash
# Peak memory of `nemo upload` for a 500 MB file (the limit) against the
# built-in emulator on loopback, release build. Shows that the upload is
# streamed: peak RSS stays flat whatever the file size.
#
#   bench/upload-rss.sh            # sparse 500 MB file (no disk space used)
#   REAL=1 bench/upload-rss.sh     # 500 MB of random bytes on disk
#
# Needs GNU time (/usr/bin/time). Prints peak RSS (KB) of nemo for a 1 MB
# and a 500 MB upload, the wall time, and the emulator's own peak RSS.
set -euo pipefail

. "$(dirname "$0")/common.sh"

SIZE=$((500 * 1024 * 1024))
if [ "${REAL:-0}" = 1 ]; then
  head -c "$SIZE" /dev/urandom > "$WORK/big.mp4"
  KIND="random bytes on disk"
else
  truncate -s "$SIZE" "$WORK/big.mp4"
  KIND="sparse"
fi
head -c $((1024 * 1024)) /dev/urandom > "$WORK/small.mp4"

start_sandbox
"$NEMO" session new > /dev/null 2>&1

measure() { # file -> sets RSS (peak KB) and WALL
  if ! /usr/bin/time -v "$NEMO" upload "$1" 2> "$WORK/time.txt" > "$WORK/upload.out"; then
    echo "upload of $1 failed:" >&2; cat "$WORK/time.txt" >&2; exit 1
  fi
  RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
}

measure "$WORK/small.mp4"; small_rss=$RSS; small_wall=$WALL
measure "$WORK/big.mp4"; big_rss=$RSS; big_wall=$WALL
emu_rss=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$SANDBOX_PID/status")

echo "nemo upload, release build, against nemo sandbox on 127.0.0.1 ($KIND file)"
echo "  1 MB file:   peak RSS ${small_rss} KB, wall ${small_wall}"
echo "  500 MB file: peak RSS ${big_rss} KB, wall ${big_wall}"
echo "  server's answers: $(cut -c1-60 "$WORK/upload.out")"
echo "  emulator (nemo sandbox) peak RSS after both: ${emu_rss}"
