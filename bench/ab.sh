#!/usr/bin/env bash
# Before/after of one fix: two nemo binaries (A, B) and the reference, run
# interleaved (A, B, ref, then B, A, ref, …) against the same servers on
# 127.0.0.1, each run's CPU (user+sys, from GNU time, which has 10 ms
# steps; so also `perf stat`'s task-clock, the CPU time of the process and
# its children to the µs, when perf works; hardware counters such as
# instructions are not available on every VM) and peak RSS. Prints a markdown table of medians (min–max).
#
#   bench/ab.sh upload A B [MB] [ROUNDS]   # nemo upload vs curl -F
#   bench/ab.sh chat   A B [EVENTS] [ROUNDS]  # nemo chat --json vs curl|jq -c
#   bench/ab.sh stdin  A B [MB] [ROUNDS]   # nemo chat --json - < MB of text
#
# A is served by A's `nemo sandbox` (upload) or bench/sse-server.py (chat,
# stdin). The load average is printed before and after: the machine may be
# shared, and CPU counts hold up under load better than wall times.
# Never run by .ci/run.
set -euo pipefail

WHAT=${1:?upload, chat or stdin}
A=$(realpath "${2:?binary A}")
B=$(realpath "${3:?binary B}")
N=${4:-}
ROUNDS=${5:-5}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "ab: $*" >&2; }

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_line() {
  for _ in $(seq 100); do
    if grep -q "^$2" "$1" 2> /dev/null; then sed -n "s/^$2//p" "$1" | head -n 1; return 0; fi
    sleep 0.1
  done
  echo "error: no '$2' line in $1 after 10 s" >&2
  exit 1
}

PERF=()
if perf stat -x, -e task-clock true > /dev/null 2>&1; then PERF=(perf stat -x, -e task-clock -o); fi

# one NAME CMD...: runs CMD under GNU time (and perf stat), appending
# "wall cpu rss_kb task_clock_s" to $WORK/NAME.
one() {
  local name=$1
  shift
  local ins=nan
  if [ ${#PERF[@]} -gt 0 ]; then
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "${PERF[@]}" "$WORK/p" "$@"
    ins=$(awk -F, '/task-clock/ {print $1 / 1000}' "$WORK/p")
  else
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/t" "$@"
  fi
  read -r wall user sys rss < <(tail -n 1 "$WORK/t")
  echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') $rss $ins" >> "$WORK/$name"
}

stats() { # FILE COLUMN SCALE -> "median (min–max)"
  awk -v c="$2" '{print $c}' "$1" | sort -g | awk -v s="$3" '{v[NR]=$1 * s} END {
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.4g (%.4g–%.4g)", m, v[1], v[NR] }'
}
median() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

TOKEN="nmv_usr_bench$(printf '%024d' 0)"
cat > "$WORK/emu.json" << EOF
{"users":{"usr_bench":{"user_id":"usr_bench","anonymous":false,"available":1000000000,"frozen":0}},
 "tokens":{"$TOKEN":{"user_id":"usr_bench","expires_at":4102444800}}}
EOF
export NEMO_CONFIG_DIR="$WORK/config" NEMO_TOKEN="$TOKEN"
unset NEMO_SESSION NEMO_CLIENT_ID NEMO_SKILL NEMO_SKILL_VERSION SKILL_SOURCE
H=(-H "Authorization: Bearer $TOKEN" -H "X-Skill-Source: nemo-cli" -H "X-Skill-Version: 0" -H "X-Skill-Platform: unknown")

case "$WHAT" in
  upload)
    MB=${N:-500}
    "$A" sandbox --state "$WORK/emu.json" > "$WORK/sandbox.out" 2> "$WORK/sandbox.err" &
    PIDS+=($!)
    export NEMO_API_URL="$(wait_line "$WORK/sandbox.out" NEMO_API_URL=)"
    SID="$("$A" -q session new)"
    head -c $((MB * 1024 * 1024)) /dev/urandom > "$WORK/up.mp4"
    URL="$NEMO_API_URL/api/upload-video/nemo_agent/me/$SID"
    run_a() { one A "$A" -q --session "$SID" upload "$WORK/up.mp4" > /dev/null; }
    run_b() { one B "$B" -q --session "$SID" upload "$WORK/up.mp4" > /dev/null; }
    run_ref() { one REF curl -fsS --max-time 300 -o /dev/null "${H[@]}" -F "files=@$WORK/up.mp4" "$URL"; }
    REF_NAME="curl -F"
    LABEL="upload $MB MB"
    ;;
  chat | stdin)
    EVENTS=${N:-100000}
    [ "$WHAT" = stdin ] && EVENTS=10
    python3 bench/sse-server.py --events "$EVENTS" > "$WORK/sse.out" 2> "$WORK/sse.err" &
    PIDS+=($!)
    export NEMO_API_URL="$(wait_line "$WORK/sse.out" URL=)"
    BODY='{"app_name":"nemo_agent","user_id":"me","session_id":"1","new_message":{"role":"user","parts":[{"text":"go"}]}}'
    if [ "$WHAT" = chat ]; then
      run_a() { one A "$A" --session 1 chat --json --timeout 120 go > /dev/null; }
      run_b() { one B "$B" --session 1 chat --json --timeout 120 go > /dev/null; }
      run_ref() {
        one REF sh -c "curl -fsSN --max-time 120 -X POST -H 'Accept: text/event-stream' -H 'Content-Type: application/json' -d '$BODY' $NEMO_API_URL/run_sse | sed -n 's/^data: //p' | jq -c 'select(.partial) | {type: \"text\", text: .content.parts[0].text}' > /dev/null"
      }
      REF_NAME="curl -N | sed | jq -c"
      LABEL="chat --json, $EVENTS events"
    else
      MB=${N:-60}
      head -c $((MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 100 > "$WORK/msg.txt"
      run_a() { one A sh -c "'$A' --session 1 chat --json --timeout 120 - < '$WORK/msg.txt' > /dev/null"; }
      run_b() { one B sh -c "'$B' --session 1 chat --json --timeout 120 - < '$WORK/msg.txt' > /dev/null"; }
      run_ref() { one REF sh -c "curl -fsSN --max-time 120 -X POST -H 'Content-Type: application/json' --data-binary @'$WORK/msg.txt' $NEMO_API_URL/run_sse > /dev/null"; }
      REF_NAME="curl --data-binary @file (not JSON-escaped)"
      LABEL="chat --json - with $(($(stat -c %s "$WORK/msg.txt") / 1048576)) MB on stdin"
    fi
    ;;
  *) echo "error: unknown benchmark $WHAT" >&2; exit 2 ;;
esac

log "$LABEL: $ROUNDS rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
run_a; run_b; run_ref # warm-up, not counted
: > "$WORK/A"; : > "$WORK/B"; : > "$WORK/REF"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run_a; run_b; run_ref; else run_ref; run_b; run_a; fi
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

echo "$LABEL; load before/after: see stderr, after $LOAD_AFTER; $ROUNDS interleaved rounds"
echo
echo "| | wall s | CPU user+sys s (time) | CPU s (perf task-clock) | peak RSS MB |"
echo "|---|---|---|---|---|"
for k in A B REF; do
  case $k in A) name="A: $A" ;; B) name="B: $B" ;; REF) name="$REF_NAME" ;; esac
  echo "| $name | $(stats "$WORK/$k" 1 1) | $(stats "$WORK/$k" 2 1) | $(stats "$WORK/$k" 4 1) | $(stats "$WORK/$k" 3 0.0009765625) |"
done
awk -v a="$(median "$WORK/A" 4)" -v b="$(median "$WORK/B" 4)" -v r="$(median "$WORK/REF" 4)" \
  -v aw="$(median "$WORK/A" 1)" -v bw="$(median "$WORK/B" 1)" -v rw="$(median "$WORK/REF" 1)" 'BEGIN {
  printf "\nMedians, task-clock CPU: B/A %.2f×; A %.2f× the reference, B %.2f×. Wall: B/A %.2f×; A %.2f×, B %.2f× the reference\n",
    b / a, a / r, b / r, bw / aw, aw / rw, bw / rw }'
