#!/usr/bin/env bash
# Peak memory of `nemo export` downloading a 3.5 KB render and a 500 MB one
# from the emulator's CDN on loopback, release build. Shows that downloads
# stream to `PATH.part`: peak RSS stays flat whatever the file size.
#
#   bench/download-rss.sh
#
# The large render is the emulator's real MP4 with a trailing 500 MB `free`
# box (fault `render_pad_bytes`), so it is still a playable file.
# Needs GNU time (/usr/bin/time).
set -euo pipefail

. "$(dirname "$0")/common.sh"

start_sandbox
"$NEMO" -q chat "generate a 5-second video of waves" > /dev/null

measure() { # pad-bytes output -> sets RSS (peak KB), WALL, SIZE
  "$NEMO" sandbox --help > /dev/null # keep the binary hot in the page cache
  curl -fsS -X POST -H 'content-type: application/json' \
    -d "{\"render_pad_bytes\": $1, \"render_ms\": 300}" "$NEMO_API_URL/_sandbox/faults" > /dev/null
  if ! /usr/bin/time -v "$NEMO" export -o "$WORK/$2" --poll-interval 0.2 2> "$WORK/time.txt" > /dev/null; then
    echo "export failed:" >&2; cat "$WORK/time.txt" >&2; exit 1
  fi
  RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
  SIZE=$(stat -c %s "$WORK/$2")
  rm -f "$WORK/$2"
}

measure 0 small.mp4; small="peak RSS ${RSS} KB, wall ${WALL}, ${SIZE} bytes"
measure $((50 * 1024 * 1024)) mid.mp4; mid="peak RSS ${RSS} KB, wall ${WALL}, ${SIZE} bytes"
measure $((500 * 1024 * 1024)) big.mp4; big="peak RSS ${RSS} KB, wall ${WALL}, ${SIZE} bytes"

echo "nemo export (submit, poll, download), release build, against nemo sandbox on 127.0.0.1"
echo "  3.5 KB render: $small"
echo "  50 MB render:  $mid"
echo "  500 MB render: $big"
