#!/usr/bin/env bash
# Peak memory and wall time of a 100-job `nemo batch` (-j 8) against
# `nemo sandbox` on loopback (small 3.5 KB renders, a quick agent),
# release build; then the same command again, which finds every file there
# and sends nothing. (bench/run.sh has the same row among the others.)
#
#   bench/batch-rss.sh [JOBS]
#
# The emulator starts with a registered user whose credits cover every
# job. Needs GNU time (/usr/bin/time).
set -euo pipefail

. "$(dirname "$0")/common.sh"
JOBS="${1:-100}"

TOKEN="nmv_usr_bench$(printf '%024d' 0)"
cat > "$WORK/emu.json" << JSON
{"users":{"usr_bench":{"user_id":"usr_bench","anonymous":false,"available":1000000000,"frozen":0}},
 "tokens":{"$TOKEN":{"user_id":"usr_bench","expires_at":4102444800}}}
JSON
export NEMO_CONFIG_DIR="$WORK/config" NEMO_TOKEN="$TOKEN"
unset NEMO_SESSION NEMO_CLIENT_ID
"$NEMO" sandbox --state "$WORK/emu.json" --fault chat_pace_ms=0 --fault chat_tool_ms=50 \
  --fault render_ms=200 > "$WORK/sandbox.out" 2> "$WORK/sandbox.err" &
SANDBOX_PID=$!
for _ in $(seq 100); do
  grep -q '^NEMO_API_URL=' "$WORK/sandbox.out" 2>/dev/null && break
  sleep 0.1
done
NEMO_API_URL="$(sed -n 's/^NEMO_API_URL=//p' "$WORK/sandbox.out")"
export NEMO_API_URL

for i in $(seq "$JOBS"); do echo "generate a 5-second clip of waves, take $i"; done > "$WORK/jobs.txt"

run() { # label
  if ! /usr/bin/time -v "$NEMO" batch "$WORK/jobs.txt" -j 8 -o "$WORK/out" \
      --poll-interval 0.2 > "$WORK/stdout.txt" 2> "$WORK/time.txt"; then
    echo "batch failed:" >&2; tail -20 "$WORK/time.txt" >&2; exit 1
  fi
  RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
  WALL=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/time.txt")
  SUMMARY=$(grep -E '^[0-9]+ done, ' "$WORK/time.txt")
  echo "  $1: peak RSS ${RSS} KB, wall ${WALL}, ${SUMMARY}, $(wc -l < "$WORK/stdout.txt") paths on stdout"
}

echo "nemo batch of $JOBS jobs, -j 8, release build, against nemo sandbox on 127.0.0.1"
run "first run"
echo "  files saved: $(find "$WORK/out" -name '*.mp4' | wc -l)"
run "re-run   "
