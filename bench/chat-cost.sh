#!/usr/bin/env bash
# The chat row of bench/run.sh for any nemo binaries, e.g. one per cargo
# profile (BENCHMARKS.md, "Set-up"): `nemo chat --json` reading N ADK text
# events from bench/sse-server.py on 127.0.0.1, ROUNDS runs per binary,
# interleaved; prints the median wall and CPU (user+sys) time and peak RSS
# of each, and its size on disk.
#
#   bench/chat-cost.sh target/debug/nemo target/release/nemo
#   EVENTS=10000 ROUNDS=3 bench/chat-cost.sh target/debug/nemo
#
# Needs python3 and GNU time (/usr/bin/time). Every wait is bounded.
set -euo pipefail
[ $# -ge 1 ] || { echo "error: name at least one nemo binary" >&2; echo "hint: bench/chat-cost.sh target/debug/nemo" >&2; exit 2; }
EVENTS="${EVENTS:-100000}"
ROUNDS="${ROUNDS:-5}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WORK="$(mktemp -d)"
SSE_PID=""
cleanup() {
  if [ -n "$SSE_PID" ]; then kill "$SSE_PID" 2> /dev/null || true; wait "$SSE_PID" 2> /dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

python3 bench/sse-server.py --events "$EVENTS" > "$WORK/sse.out" 2> "$WORK/sse.err" &
SSE_PID=$!
for _ in $(seq 100); do grep -q '^URL=' "$WORK/sse.out" 2> /dev/null && break; sleep 0.1; done
URL="$(sed -n 's/^URL=//p' "$WORK/sse.out" | head -n 1)"
[ -n "$URL" ] || { echo "error: bench/sse-server.py gave no URL in 10 s" >&2; cat "$WORK/sse.err" >&2; exit 1; }

export NEMO_API_URL="$URL" NEMO_CONFIG_DIR="$WORK/config" NEMO_TOKEN="nmv_usr_bench$(printf '%024d' 0)"
unset NEMO_SESSION NEMO_CLIENT_ID
for round in $(seq "$ROUNDS"); do
  for n in $(seq $#); do
    bin="${!n}"
    /usr/bin/time -f "%e %U %S %M" -a -o "$WORK/$n.time" \
      timeout 300 "$bin" --session 1 chat --json --timeout 120 go > /dev/null
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "| binary | size | chat --json, $EVENTS events: wall | CPU user+sys | peak RSS |"
echo "|---|---|---|---|---|"
for n in $(seq $#); do
  bin="${!n}"
  t="$WORK/$n.time"
  wall="$(awk '{ print $1 }' "$t" | median)"
  cpu="$(awk '{ print $2 + $3 }' "$t" | median)"
  rss="$(awk '{ print $4 }' "$t" | median)"
  size="$(stat -c %s "$bin")"
  awk -v b="$bin" -v s="$size" -v w="$wall" -v c="$cpu" -v r="$rss" \
    'BEGIN { printf "| `%s` | %.1f MB | %.2f s | %.2f s | %.1f MB |\n", b, s / 1e6, w, c, r / 1000 }'
done
