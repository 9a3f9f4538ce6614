#!/usr/bin/env bash
# nemo side by side with its reference (curl, curl | jq, …), in the same
# run and interleaved, on loopback: prints ONE markdown table of medians
# and min–max, for BENCHMARKS.md.
#
#   bench/run.sh                 # 500 MB transfers, 100,000 chat events, 60 MiB message
#   bench/run.sh --quick         # 50 MB transfers, 10,000 chat events, 20 MiB message
#   bench/run.sh --build-time    # also a clean release build (minutes)
#
# Rows: start-up; credits round trip; upload and download (wall, CPU,
# peak RSS); chat --json (wall against curl | jq and the read + parse
# floor, CPU, peak RSS, peak RSS at 3x the events, the delay of a piece);
# a message on stdin (peak RSS against its size); a 100-job batch; the
# binary with and without the sandbox feature; the clean build.
#
# From a clean clone: builds the release binary, installs what it needs
# from Debian's packages when missing (hyperfine, time, curl, jq, python3),
# starts `nemo sandbox` (the built-in emulator) and bench/sse-server.py (a
# stand-in /run_sse that writes N ADK text events) on 127.0.0.1, and
# stops both on exit. Progress goes to stderr, the table to stdout.
# examples/sse_baseline.rs is the floor for chat: read + serde_json only.
#
# "Interleaved": each row runs hyperfine ROUNDS times with all its
# commands in one invocation, the order reversed every other round, and
# pools the times; medians and min–max are over the pooled runs. CPU
# (user+sys) is hyperfine's (rusage, per run for the transfers); peak RSS
# comes from GNU time (`/usr/bin/time`) around the command, one record per
# run. Every wait is bounded (timeout, curl --max-time, nemo --timeout).
# Never run by .ci/run: it measures, it asserts nothing.
set -euo pipefail

QUICK=0
BUILD_TIME=0
for arg in "$@"; do
  case "$arg" in
    --quick) QUICK=1 ;;
    --build-time) BUILD_TIME=1 ;;
    -h | --help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown option $arg" >&2; echo "hint: bench/run.sh [--quick] [--build-time]" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
log() { echo "bench: $*" >&2; }

# ---- what it needs -------------------------------------------------------
need=()
command -v hyperfine > /dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
command -v curl > /dev/null || need+=(curl)
command -v jq > /dev/null || need+=(jq)
command -v python3 > /dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing ${need[*]} from Debian's packages"
  timeout 600 $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 $sudo apt-get install -y -qq "${need[@]}" >&2
fi

log "building the release binary"
timeout 1800 cargo build --release --quiet
timeout 1800 cargo build --release --quiet --example sse_baseline
TARGET="$(cargo metadata --no-deps --format-version 1 | jq -r .target_directory)" # CARGO_TARGET_DIR too
NEMO="$TARGET/release/nemo"
BASELINE="$TARGET/release/examples/sse_baseline"

if [ "$QUICK" = 1 ]; then
  SIZE=$((50 * 1024 * 1024)); SIZE_LABEL="50 MB"; EVENTS=10000; ROUNDS=3; LAT_EVENTS=100
else
  SIZE=$((500 * 1024 * 1024)); SIZE_LABEL="500 MB"; EVENTS=100000; ROUNDS=5; LAT_EVENTS=200
fi
JOBS=100

# ---- servers, cleaned up on exit -----------------------------------------
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2> /dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2> /dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_line FILE PREFIX: the rest of FILE's first line starting with PREFIX (≤ 10 s).
wait_line() {
  for _ in $(seq 100); do
    if grep -q "^$2" "$1" 2> /dev/null; then
      sed -n "s/^$2//p" "$1" | head -n 1
      return 0
    fi
    sleep 0.1
  done
  echo "error: no '$2' line in $1 after 10 s" >&2
  cat "${1%.out}.err" >&2 2> /dev/null || true
  exit 1
}

# A registered user with credits enough for every row (batch: 100 jobs).
TOKEN="nmv_usr_bench$(printf '%024d' 0)"
cat > "$WORK/emu.json" << EOF
{"users":{"usr_bench":{"user_id":"usr_bench","anonymous":false,"available":1000000000,"frozen":0}},
 "tokens":{"$TOKEN":{"user_id":"usr_bench","expires_at":4102444800}}}
EOF
export NEMO_CONFIG_DIR="$WORK/config" NEMO_TOKEN="$TOKEN"
unset NEMO_SESSION NEMO_CLIENT_ID NEMO_SKILL NEMO_SKILL_VERSION SKILL_SOURCE
"$NEMO" sandbox --state "$WORK/emu.json" --fault chat_pace_ms=0 --fault chat_tool_ms=0 \
  --fault render_ms=0 > "$WORK/sandbox.out" 2> "$WORK/sandbox.err" &
PIDS+=($!)
SANDBOX_URL="$(wait_line "$WORK/sandbox.out" NEMO_API_URL=)"
export NEMO_API_URL="$SANDBOX_URL"
SID="$("$NEMO" -q session new)"

python3 bench/sse-server.py --events "$EVENTS" > "$WORK/sse.out" 2> "$WORK/sse.err" &
PIDS+=($!)
SSE_URL="$(wait_line "$WORK/sse.out" URL=)"
python3 bench/sse-server.py --events "$LAT_EVENTS" --pace-ms 10 > "$WORK/sse-paced.out" 2> "$WORK/sse-paced.err" &
PIDS+=($!)
PACED_URL="$(wait_line "$WORK/sse-paced.out" URL=)"
# Memory in the number of events: the same stream without the final event
# (which repeats the whole reply as one event), at EVENTS and 3 × EVENTS.
python3 bench/sse-server.py --events "$EVENTS" --no-final > "$WORK/sse-n1.out" 2> "$WORK/sse-n1.err" &
PIDS+=($!)
N1_URL="$(wait_line "$WORK/sse-n1.out" URL=)"
python3 bench/sse-server.py --events $((3 * EVENTS)) --no-final > "$WORK/sse-n3.out" 2> "$WORK/sse-n3.err" &
PIDS+=($!)
N3_URL="$(wait_line "$WORK/sse-n3.out" URL=)"
# For the message on stdin: a reply of 10 events, so the message is what is measured.
python3 bench/sse-server.py --events 10 > "$WORK/sse-small.out" 2> "$WORK/sse-small.err" &
PIDS+=($!)
SMALL_URL="$(wait_line "$WORK/sse-small.out" URL=)"

# The headers nemo sends (api.md), for curl.
BEARER="Authorization: Bearer $("$NEMO" auth token)"
VERSION="$("$NEMO" --version | awk '{print $2}')"
H=(-H "$BEARER" -H "X-Skill-Source: nemo-cli" -H "X-Skill-Version: $VERSION" -H "X-Skill-Platform: unknown")
HS="-H '$BEARER' -H 'X-Skill-Source: nemo-cli' -H 'X-Skill-Version: $VERSION' -H 'X-Skill-Platform: unknown'"

# ---- measuring -----------------------------------------------------------
# interleave KEY ROUNDS RUNS WARMUP SHELL CMD...: hyperfine ROUNDS times over
# all CMDs (order reversed every other round); wall times of command i go to
# $WORK/KEY.i.wall, one a line, and its CPU (user+sys, hyperfine's mean over
# the round's runs: exact with RUNS=1) to $WORK/KEY.i.cpu. SHELL is "-N" (no shell) or "" (sh -c).
interleave() {
  local key=$1 rounds=$2 runs=$3 warmup=$4 shell=$5
  shift 5
  local cmds=("$@") n=$# r i order
  for i in $(seq 0 $((n - 1))); do : > "$WORK/$key.$i.wall"; : > "$WORK/$key.$i.cpu"; done
  for r in $(seq 1 "$rounds"); do
    order=$(seq 0 $((n - 1)))
    [ $((r % 2)) = 0 ] && order=$(seq $((n - 1)) -1 0)
    local args=()
    for i in $order; do args+=("${cmds[$i]}"); done
    # shellcheck disable=SC2086
    timeout 1800 hyperfine $shell --style none --warmup "$warmup" --runs "$runs" \
      --export-json "$WORK/$key.json" "${args[@]}" > /dev/null 2> "$WORK/$key.err" || {
      echo "error: hyperfine failed for $key:" >&2; cat "$WORK/$key.err" >&2; exit 1
    }
    local j=0
    for i in $order; do
      jq -r ".results[$j].times[]" "$WORK/$key.json" >> "$WORK/$key.$i.wall"
      jq -r ".results[$j] | .user + .system" "$WORK/$key.json" >> "$WORK/$key.$i.cpu"
      j=$((j + 1))
    done
  done
}

# stats FILE: "median min max" of the numbers in FILE.
stats() {
  sort -g "$1" | awk '{v[NR]=$1} END {
    if (NR == 0) { print "nan nan nan"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.9g %.9g %.9g\n", m, v[1], v[NR] }'
}

# timed KEY: a GNU time prefix appending "wall user sys maxrss_kb" to
# $WORK/KEY.time (read for the peak RSS; its CPU times have only 10 ms steps).
timed() { echo "/usr/bin/time -f '%e %U %S %M' -a -o $WORK/$1.time"; }
# column FILE N [SCALE]: column N of FILE, times SCALE, one a line.
column() { awk -v c="$2" -v s="${3:-1}" '{print $c * s}' "$1"; }

# fmt_s SECONDS / fmt_mb KB / fmt_ratio A B
fmt_s() { awk -v x="$1" 'BEGIN { if (x == "nan") print "n/a"; else if (x < 1) printf "%.3g ms", x * 1000; else printf "%.3g s", x }'; }
fmt_mb() { awk -v x="$1" 'BEGIN { printf "%.1f MB", x / 1024 }'; }
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "—"; else printf "%.2f×", a / b }'; }

# cell STATS FORMATTER: "median (min–max)".
cell() {
  local med lo hi
  read -r med lo hi <<< "$1"
  echo "$($2 "$med") ($($2 "$lo")–$($2 "$hi"))"
}

ROWS=()
# row FIGURE NEMO_STATS REFERENCE REF_STATS FORMATTER
row() {
  local ratio="—" ref_cell="—"
  if [ -n "$4" ]; then
    ref_cell="$(cell "$4" "$5")"
    ratio="$(fmt_ratio "${2%% *}" "${4%% *}")"
  fi
  ROWS+=("| $1 | $(cell "$2" "$5") | $3 | $ref_cell | $ratio |")
}
note_row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); }

# ---- start-up ------------------------------------------------------------
log "start-up: nemo --version / --help vs curl --version / --help"
interleave startup "$ROUNDS" 20 3 -N "$NEMO --version" "curl --version" "$NEMO --help" "curl --help"
row "start-up, \`nemo --version\`" "$(stats "$WORK/startup.0.wall")" "\`curl --version\`" "$(stats "$WORK/startup.1.wall")" fmt_s
row "start-up, \`nemo --help\`" "$(stats "$WORK/startup.2.wall")" "\`curl --help\`" "$(stats "$WORK/startup.3.wall")" fmt_s

# ---- credits round trip --------------------------------------------------
log "credits: nemo credits --json vs curl with the same headers"
interleave credits "$ROUNDS" 20 3 -N "$NEMO credits --json" \
  "curl -fsS --max-time 30 $HS $SANDBOX_URL/api/credits/balance/simple"
row "credits round trip, \`nemo credits --json\`" "$(stats "$WORK/credits.0.wall")" "\`curl\`, same headers" "$(stats "$WORK/credits.1.wall")" fmt_s

# ---- upload ----------------------------------------------------------------
log "upload $SIZE_LABEL: nemo upload vs curl -F (making the file)"
head -c "$SIZE" /dev/urandom > "$WORK/upload.mp4"
UPLOAD_URL="$SANDBOX_URL/api/upload-video/nemo_agent/me/$SID"
# One of each first: page cache, connections, the emulator's first upload.
"$NEMO" upload "$WORK/upload.mp4" > /dev/null 2>&1
curl -fsS --max-time 300 -o /dev/null "${H[@]}" -F "files=@$WORK/upload.mp4" "$UPLOAD_URL"
: > "$WORK/up-nemo.time"; : > "$WORK/up-curl.time"
interleave upload "$ROUNDS" 1 0 -N \
  "$(timed up-nemo) $NEMO upload $WORK/upload.mp4" \
  "$(timed up-curl) curl -fsS --max-time 300 -o /dev/null $HS -F files=@$WORK/upload.mp4 $UPLOAD_URL"
column "$WORK/up-nemo.time" 4 > "$WORK/up-nemo.rss"; column "$WORK/up-curl.time" 4 > "$WORK/up-curl.rss"
row "upload $SIZE_LABEL, wall, \`nemo upload\`" "$(stats "$WORK/upload.0.wall")" "\`curl -F files=@…\`" "$(stats "$WORK/upload.1.wall")" fmt_s
row "upload $SIZE_LABEL, CPU user+sys" "$(stats "$WORK/upload.0.cpu")" "\`curl -F\`" "$(stats "$WORK/upload.1.cpu")" fmt_s
row "upload $SIZE_LABEL, peak RSS" "$(stats "$WORK/up-nemo.rss")" "\`curl -F\`" "$(stats "$WORK/up-curl.rss")" fmt_mb
rm -f "$WORK/upload.mp4"

# ---- download --------------------------------------------------------------
log "download $SIZE_LABEL: nemo export resume vs curl -o"
"$NEMO" -q chat --timeout 60 "generate a 5-second video of waves" > /dev/null
curl -fsS --max-time 10 -X POST -H 'content-type: application/json' \
  -d "{\"render_pad_bytes\": $SIZE}" "$SANDBOX_URL/_sandbox/faults" > /dev/null
RENDER="$("$NEMO" -q export --no-wait)"
"$NEMO" -q export resume "$RENDER" -o "$WORK/dl-nemo.mp4" --poll-interval 0.2 --timeout 120 > /dev/null
RENDER_URL="$(curl -fsS --max-time 10 "${H[@]}" "$SANDBOX_URL/api/render/proxy/lambda/$RENDER" | jq -r '.data.outputUrl // .output.url')"
curl -fsS --max-time 300 -o "$WORK/dl-curl.mp4" "$RENDER_URL"
: > "$WORK/dl-nemo.time"; : > "$WORK/dl-curl.time"
interleave download "$ROUNDS" 1 0 -N \
  "$(timed dl-nemo) $NEMO export resume $RENDER -o $WORK/dl-nemo.mp4 --force --poll-interval 0.2 --timeout 120" \
  "$(timed dl-curl) curl -fsS --max-time 300 -o $WORK/dl-curl.mp4 $RENDER_URL" \
  "sh -c 'curl -fsS --max-time 300 -o $WORK/dl-sync.mp4 $RENDER_URL && sync $WORK/dl-sync.mp4'"
[ "$(stat -c %s "$WORK/dl-nemo.mp4")" = "$(stat -c %s "$WORK/dl-curl.mp4")" ] || {
  echo "error: nemo and curl downloaded different sizes" >&2; exit 1
}
DL_BYTES=$(stat -c %s "$WORK/dl-nemo.mp4")
rm -f "$WORK/dl-nemo.mp4" "$WORK/dl-curl.mp4" "$WORK/dl-sync.mp4"
column "$WORK/dl-nemo.time" 4 > "$WORK/dl-nemo.rss"; column "$WORK/dl-curl.time" 4 > "$WORK/dl-curl.rss"
row "download $SIZE_LABEL ($DL_BYTES bytes), wall, \`nemo export resume\`" "$(stats "$WORK/download.0.wall")" "\`curl -o\` of the render URL" "$(stats "$WORK/download.1.wall")" fmt_s
row "download $SIZE_LABEL, wall" "$(stats "$WORK/download.0.wall")" "\`curl -o\`, then \`sync FILE\` (nemo fsyncs before the rename)" "$(stats "$WORK/download.2.wall")" fmt_s
row "download $SIZE_LABEL, CPU user+sys" "$(stats "$WORK/download.0.cpu")" "\`curl -o\`" "$(stats "$WORK/download.1.cpu")" fmt_s
row "download $SIZE_LABEL, peak RSS" "$(stats "$WORK/dl-nemo.rss")" "\`curl -o\`" "$(stats "$WORK/dl-curl.rss")" fmt_mb
curl -fsS --max-time 10 -X POST -H 'content-type: application/json' \
  -d '{"render_pad_bytes": 0}' "$SANDBOX_URL/_sandbox/faults" > /dev/null

# ---- chat --json -----------------------------------------------------------
SSE_BYTES="$(sed -n 's/.* events, \([0-9]*\) bytes/\1/p' "$WORK/sse.err")"
log "chat --json, $EVENTS events ($SSE_BYTES bytes) from bench/sse-server.py"
BODY='{"app_name":"nemo_agent","user_id":"me","session_id":"1","new_message":{"role":"user","parts":[{"text":"go"}]}}'
CURL_SSE="curl -fsSN --max-time 120 -X POST $HS -H 'Accept: text/event-stream' -H 'Content-Type: application/json' -d '$BODY' $SSE_URL/run_sse"
JQ="jq -c 'select(.partial) | {type: \"text\", text: .content.parts[0].text}'"
: > "$WORK/chat-nemo.time"
# shellcheck disable=SC2016
NEMO_API_URL="$SSE_URL" interleave chat "$ROUNDS" 2 0 "" \
  "$(timed chat-nemo) $NEMO --session 1 chat --json --timeout 120 go" \
  "$CURL_SSE | sed -n 's/^data: //p' | $JQ" \
  "$CURL_SSE -o /dev/null" \
  "$CURL_SSE | $BASELINE"
column "$WORK/chat-nemo.time" 4 > "$WORK/chat-nemo.rss"
nemo_chat="$(stats "$WORK/chat.0.wall")"
raw_chat="$(stats "$WORK/chat.2.wall")"
row "chat \`--json\`, $EVENTS text events ($(awk -v b="$SSE_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') MB)" "$nemo_chat" "\`curl -N \\| sed \\| jq -c\`" "$(stats "$WORK/chat.1.wall")" fmt_s
row "chat \`--json\`, $EVENTS text events" "$nemo_chat" "raw \`curl -N\` read" "$raw_chat" fmt_s
row "chat \`--json\`, $EVENTS text events" "$nemo_chat" "\`curl -N \\| sse_baseline\` (read + \`serde_json\` parse only, examples/)" "$(stats "$WORK/chat.3.wall")" fmt_s
per_event="$(awk -v a="${nemo_chat%% *}" -v b="${raw_chat%% *}" -v n="$EVENTS" 'BEGIN { printf "%.2f µs", (a - b) / n * 1e6 }')"
note_row "chat \`--json\`, nemo's own cost per event ((nemo − raw curl) ÷ events)" "$per_event" "" "—" "—"
row "chat \`--json\`, $EVENTS events, CPU user+sys (jq pipeline: all three processes)" "$(stats "$WORK/chat.0.cpu")" "\`curl -N \\| sed \\| jq -c\`" "$(stats "$WORK/chat.1.cpu")" fmt_s
note_row "chat \`--json\`, $EVENTS events, peak RSS" "$(cell "$(stats "$WORK/chat-nemo.rss")" fmt_mb)" "" "—" "—"

log "chat: peak RSS at $EVENTS and $((3 * EVENTS)) events without the final event"
: > "$WORK/flat1.time"; : > "$WORK/flat3.time"
for _ in $(seq "$ROUNDS"); do
  for pair in "flat1 $N1_URL" "flat3 $N3_URL"; do
    read -r key url <<< "$pair"
    NEMO_API_URL="$url" timeout 300 /usr/bin/time -f '%e %U %S %M' -a -o "$WORK/$key.time" \
      "$NEMO" --session 1 chat --json --timeout 120 go > /dev/null
  done
done
column "$WORK/flat1.time" 4 > "$WORK/flat1.rss"; column "$WORK/flat3.time" 4 > "$WORK/flat3.rss"
flat1="$(stats "$WORK/flat1.rss")"; flat3="$(stats "$WORK/flat3.rss")"
text_per_event="$(NEMO_API_URL="$N1_URL" timeout 120 "$NEMO" --session 1 chat --json --timeout 120 go |
  tail -n 1 | jq -r --argjson n "$EVENTS" '.text | utf8bytelength / $n | . * 10 | round / 10')"
note_row "chat \`--json\`, peak RSS, $EVENTS → $((3 * EVENTS)) events (no final event)" \
  "$(cell "$flat1" fmt_mb) → $(cell "$flat3" fmt_mb)" \
  "growth per event (the reply text, kept for \`done\`, is $text_per_event B/event)" \
  "$(awk -v a="${flat1%% *}" -v b="${flat3%% *}" -v n=$((2 * EVENTS)) 'BEGIN { printf "%.1f B", (b - a) * 1024 / n }')" "—"

log "chat: delay from the server writing a piece to it being printed ($LAT_EVENTS events, 10 ms apart)"
CURL_PACED="${CURL_SSE/$SSE_URL/$PACED_URL}"
NEMO_API_URL="$PACED_URL" timeout 600 python3 bench/sse-latency.py --runs "$ROUNDS" --timeout 60 \
  -- "$NEMO" --session 1 chat --json --timeout 60 go \
  -- sh -c "$CURL_PACED" > "$WORK/latency.txt"
lat_cell() { # "median min max p99 n" (ms) -> cell
  awk '{ if ($5 == 0) print "n/a"; else printf "%s ms (%s–%s ms; p99 %s ms; %d pieces)", $1, $2, $3, $4, $5 }'
}
lat_nemo="$(sed -n 1p "$WORK/latency.txt")"
lat_curl="$(sed -n 2p "$WORK/latency.txt")"
note_row "chat, delay from the server writing a piece to \`nemo chat --json\` printing it" \
  "$(lat_cell <<< "$lat_nemo")" "raw \`curl -N\` printing it" "$(lat_cell <<< "$lat_curl")" \
  "$(fmt_ratio "${lat_nemo%% *}" "${lat_curl%% *}")"

# ---- a message on stdin ------------------------------------------------------
MSG_MB=$([ "$QUICK" = 1 ] && echo 20 || echo 60)
log "chat: a $MSG_MB MiB message on stdin vs curl --data-binary"
head -c $((MSG_MB * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 100 > "$WORK/msg.txt"
MSG_BYTES=$(stat -c %s "$WORK/msg.txt")
: > "$WORK/msg-nemo.time"; : > "$WORK/msg-curl.time"
NEMO_API_URL="$SMALL_URL" interleave stdin "$ROUNDS" 1 0 "" \
  "$(timed msg-nemo) $NEMO --session 1 chat --json --timeout 120 - < $WORK/msg.txt > /dev/null" \
  "$(timed msg-curl) curl -fsSN --max-time 120 -X POST -H 'Content-Type: application/json' --data-binary @$WORK/msg.txt $SMALL_URL/run_sse -o /dev/null"
column "$WORK/msg-nemo.time" 4 > "$WORK/msg-nemo.rss"; column "$WORK/msg-curl.time" 4 > "$WORK/msg-curl.rss"
msg_rss="$(stats "$WORK/msg-nemo.rss")"
# nemo's own base: the same reply to a one-word message.
: > "$WORK/msg-base.time"
for _ in $(seq "$ROUNDS"); do
  NEMO_API_URL="$SMALL_URL" timeout 120 /usr/bin/time -f '%e %U %S %M' -a -o "$WORK/msg-base.time" \
    "$NEMO" --session 1 chat --json --timeout 120 go > /dev/null
done
msg_base="$(column "$WORK/msg-base.time" 4 | sort -g | awk '{v[NR]=$1} END { print v[int((NR + 1) / 2)] }')"
msg_times="$(awk -v r="${msg_rss%% *}" -v z="$msg_base" -v b="$MSG_BYTES" 'BEGIN { printf "%.2f× the message over a base of %.1f MB", (r - z) * 1024 / b, z / 1024 }')"
row "a $MSG_MB MiB message on stdin ($MSG_BYTES bytes), peak RSS, \`nemo chat --json -\` ($msg_times)" \
  "$msg_rss" "\`curl --data-binary @file\` (no JSON encoding)" "$(stats "$WORK/msg-curl.rss")" fmt_mb
row "a $MSG_MB MiB message on stdin, wall" "$(stats "$WORK/stdin.0.wall")" "\`curl --data-binary @file\`" "$(stats "$WORK/stdin.1.wall")" fmt_s
rm -f "$WORK/msg.txt"

# ---- batch -----------------------------------------------------------------
if "$NEMO" batch --help > /dev/null 2>&1; then
  log "batch: $JOBS jobs in the sandbox"
  for i in $(seq "$JOBS"); do echo "generate a 5-second clip of waves, take $i"; done > "$WORK/jobs.txt"
  mkdir -p "$WORK/batch"
  if timeout 1200 /usr/bin/time -f '%e %U %S %M' -o "$WORK/batch.time" \
    "$NEMO" -q batch "$WORK/jobs.txt" -o "$WORK/batch" -j 8 --poll-interval 0.2 --timeout 300 \
    > "$WORK/batch.out" 2> "$WORK/batch.err"; then
    read -r b_wall _ _ b_rss < "$WORK/batch.time"
    note_row "\`nemo batch\`, $JOBS jobs, \`-j 8\`, in the sandbox: peak RSS (wall)" \
      "$(fmt_mb "$b_rss") ($(fmt_s "$b_wall"), $(wc -l < "$WORK/batch.out") files)" "" "—" "—"
  else
    note_row "\`nemo batch\`, $JOBS jobs" "failed: $(tail -n 1 "$WORK/batch.err")" "" "—" "—"
  fi
  rm -rf "$WORK/batch"
else
  note_row "\`nemo batch\`, $JOBS jobs, peak RSS" "n/a (nemo batch not built yet)" "" "—" "—"
fi

# ---- binary size, build time -------------------------------------------------
kb() { echo $(($(stat -c %s "$1") / 1024)); }
size_full="$(fmt_mb "$(kb "$NEMO")")"
if cargo metadata --no-deps --format-version 1 2> /dev/null |
  jq -e '.packages[] | select(.name == "nemo") | .features | has("sandbox")' > /dev/null; then
  log "building without the sandbox feature ($TARGET/nosandbox; cached after the first time)"
  if timeout 1800 cargo build --release --quiet --no-default-features --target-dir "$TARGET/nosandbox" 2> "$WORK/nosandbox.err"; then
    size_lean="$(fmt_mb "$(kb "$TARGET/nosandbox/release/nemo")")"
  else
    size_lean="n/a (the build without it failed: $(grep -m 1 '^error' "$WORK/nosandbox.err" || echo '?'))"
  fi
else
  size_lean="n/a (no \`sandbox\` feature yet)"
fi
note_row "release binary size (stripped)" "$size_full" "\`--no-default-features\` (no sandbox)" "$size_lean" "—"

if [ "$BUILD_TIME" = 1 ]; then
  log "clean release build into a fresh target dir (minutes)"
  start=$(date +%s.%N)
  if CARGO_INCREMENTAL=0 timeout 3600 cargo build --release --quiet --target-dir "$WORK/clean-target"; then
    end=$(date +%s.%N)
    note_row "clean release build (\`cargo build --release\`, deps included, $(nproc) cores)" \
      "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f s", b - a }')" "" "—" "—"
  else
    note_row "clean release build" "failed" "" "—" "—"
  fi
  rm -rf "$WORK/clean-target"
fi

# ---- the table ---------------------------------------------------------------------
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/run.sh$([ "$QUICK" = 1 ] && echo ' --quick')$([ "$BUILD_TIME" = 1 ] && echo ' --build-time')\`:"
echo "$(uname -sr) $(uname -m), $(nproc) cores ($cpu), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM,"
echo "$(rustc --version | cut -d' ' -f1-2), $(hyperfine --version), $(curl --version | head -n 1 | cut -d' ' -f1-2), $(jq --version);"
echo "release profile, everything on 127.0.0.1; $ROUNDS interleaved rounds per row."
echo
echo "| figure | nemo: median (min–max) | reference | reference: median (min–max) | nemo ÷ reference |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
