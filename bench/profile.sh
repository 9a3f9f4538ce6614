#!/usr/bin/env bash
# Where the time and the memory go in the three gaps of issue 13, for
# BENCHMARKS.md "Profiles": upload CPU against curl's, the per-event cost of
# `nemo chat --json`, and the peak memory of a big message on stdin.
#
#   bench/profile.sh            # 500 MB upload, 100,000 events, 200 MB message
#   bench/profile.sh --quick    # 50 MB, 10,000 events, 20 MB
#
# Builds an unstripped release binary with line tables into
# target/profiling (same optimisation as release; first time: minutes),
# starts `nemo sandbox` and bench/sse-server.py on 127.0.0.1, then:
#   1. upload: `perf record --call-graph dwarf` of `nemo upload` and of
#      `curl -F`, self time by symbol; `strace -c -f` of both (syscalls);
#   2. chat: `perf record` of `nemo chat --json` reading N text events;
#   3. stdin message: `/usr/bin/time` peak RSS and heaptrack's peak
#      allocations of `nemo chat -` with a message of M MB.
# Reports go to stdout; raw data stays in $OUT (default /tmp/nemo-profile).
# Needs perf (Debian linux-perf), strace, heaptrack; installs the missing
# ones like bench/run.sh. Not run by .ci/run.
set -euo pipefail

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
OUT="${OUT:-/tmp/nemo-profile}"
mkdir -p "$OUT"
log() { echo "profile: $*" >&2; }

need=()
command -v perf > /dev/null || need+=(linux-perf)
command -v strace > /dev/null || need+=(strace)
command -v heaptrack > /dev/null || need+=(heaptrack)
command -v hyperfine > /dev/null || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
command -v curl > /dev/null || need+=(curl)
command -v python3 > /dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing ${need[*]} from Debian's packages"
  timeout 600 $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive timeout 900 $sudo apt-get install -y -qq "${need[@]}" >&2
fi
perf stat -e instructions true > /dev/null 2>&1 || log "warning: perf cannot count instructions here (perf_event_paranoid?)"

log "building target/profiling (release, not stripped, line tables)"
CARGO_PROFILE_RELEASE_STRIP=false CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  timeout 3600 cargo build --release --quiet --target-dir target/profiling
NEMO="$ROOT/target/profiling/release/nemo"

if [ "$QUICK" = 1 ]; then
  SIZE=$((50 * 1024 * 1024)); EVENTS=10000; MSG_MB=20
else
  SIZE=$((500 * 1024 * 1024)); EVENTS=100000; MSG_MB=200
fi

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_line() { # FILE PREFIX -> the rest of the first line with PREFIX (≤ 10 s)
  for _ in $(seq 100); do
    if grep -q "^$2" "$1" 2> /dev/null; then sed -n "s/^$2//p" "$1" | head -n 1; return 0; fi
    sleep 0.1
  done
  echo "error: no '$2' line in $1 after 10 s" >&2
  exit 1
}

TOKEN="nmv_usr_bench$(printf '%024d' 0)"
cat > "$WORK/emu.json" << EOF
{"users":{"usr_bench":{"user_id":"usr_bench","anonymous":false,"available":1000000000,"frozen":0}},
 "tokens":{"$TOKEN":{"user_id":"usr_bench","expires_at":4102444800}}}
EOF
export NEMO_CONFIG_DIR="$WORK/config" NEMO_TOKEN="$TOKEN"
unset NEMO_SESSION NEMO_CLIENT_ID NEMO_SKILL NEMO_SKILL_VERSION SKILL_SOURCE
"$NEMO" sandbox --state "$WORK/emu.json" > "$WORK/sandbox.out" 2> "$WORK/sandbox.err" &
PIDS+=($!)
SANDBOX_URL="$(wait_line "$WORK/sandbox.out" NEMO_API_URL=)"
export NEMO_API_URL="$SANDBOX_URL"
SID="$("$NEMO" -q session new)"
python3 bench/sse-server.py --events "$EVENTS" > "$WORK/sse.out" 2> "$WORK/sse.err" &
PIDS+=($!)
SSE_URL="$(wait_line "$WORK/sse.out" URL=)"
python3 bench/sse-server.py --events 10 > "$WORK/sse-small.out" 2> "$WORK/sse-small.err" &
PIDS+=($!)
SMALL_URL="$(wait_line "$WORK/sse-small.out" URL=)"
VERSION="$("$NEMO" --version | awk '{print $2}')"
H=(-H "Authorization: Bearer $TOKEN" -H "X-Skill-Source: nemo-cli" -H "X-Skill-Version: $VERSION" -H "X-Skill-Platform: unknown")

# report DATA TITLE: CPU sampled, self time by symbol (>= 1 %), then the
# inclusive share of the frames that say where the time goes (syscalls, the
# blocking pool, the crates on the path), >= 2 %. Runtime plumbing frames
# (catch_unwind, poll_future, closures, inlined wrappers) are left out.
KEEP='__x64_sys_|tcp_sendmsg|filemap_read|schedule$|futex_w|epoll|spawn_blocking|blocking::pool::Inner::run|send_replace|park::wake|Unparker::unpark|memmove|memcpy|malloc|cfree|realloc|hyper::proto::h1::(role|io::Buffered<T,B>::poll_flush|dispatch::Dispatcher<D,Bs,I,T>::poll_(read|write))|reqwest::async_impl::body|tokio::fs::file::File|eventsource_stream|serde_json::(de|ser)|nemo::|^ *[0-9.]+% +[0-9.]+% +\[\.\] (std::io|<std::io)|Stdout|LineWriter|write_all|_IO_|BufWriter|KeepAlive|sanitize|strip_controls|curl_|Curl_'
report() {
  set +o pipefail
  echo "### $2"
  echo
  echo '```'
  perf report -i "$1" --stdio --header-only 2> /dev/null | grep -E '^# (sample duration|event : name)' | cut -c1-40
  perf report -i "$1" --stdio -g none --sort comm 2> /dev/null | grep -E '^# (Samples|Event count)'
  echo "# self time (children not included), by dso/symbol, >= 1 %"
  perf report -i "$1" --no-children -g none --sort dso,symbol --stdio --percent-limit 1 2> /dev/null |
    grep -E '^ +[0-9]' | sed 's/ *$//' | cut -c1-150 | head -n 30
  echo "# inclusive (children included), selected frames, >= 2 %"
  perf report -i "$1" --children -g none --sort symbol --stdio --percent-limit 2 2> /dev/null |
    grep -E '^ +[0-9]' | grep -E "$KEEP" | grep -v 'inlined' | sed 's/ *$//' | cut -c1-150 | head -n 40
  echo '```'
  echo
  set -o pipefail
}

# ---- 1. upload ---------------------------------------------------------------
log "upload: $SIZE bytes"
head -c "$SIZE" /dev/urandom > "$WORK/up.mp4"
URL="$SANDBOX_URL/api/upload-video/nemo_agent/me/$SID"
"$NEMO" upload "$WORK/up.mp4" > /dev/null 2>&1 # page cache, first-upload costs
timeout 300 perf record -q -F 1999 --call-graph dwarf,16384 -o "$OUT/upload-nemo.data" \
  "$NEMO" upload "$WORK/up.mp4" > /dev/null 2> "$OUT/upload-nemo.err"
timeout 300 perf record -q -F 1999 --call-graph dwarf,16384 -o "$OUT/upload-curl.data" \
  curl -fsS --max-time 300 -o /dev/null "${H[@]}" -F "files=@$WORK/up.mp4" "$URL" 2> "$OUT/upload-curl.err"
timeout 300 strace -c -f -o "$OUT/upload-nemo.strace" "$NEMO" upload "$WORK/up.mp4" > /dev/null 2>&1
timeout 300 strace -c -f -o "$OUT/upload-curl.strace" \
  curl -fsS --max-time 300 -o /dev/null "${H[@]}" -F "files=@$WORK/up.mp4" "$URL"
rm -f "$WORK/up.mp4"
report "$OUT/upload-nemo.data" "upload $SIZE bytes: nemo upload"
report "$OUT/upload-curl.data" "upload $SIZE bytes: curl -F"
for who in nemo curl; do
  echo "### upload: syscalls of $who (strace -c -f, top 8)"
  echo
  echo '```'
  head -n 10 "$OUT/upload-$who.strace" | tail -n 8 || true
  tail -n 1 "$OUT/upload-$who.strace"
  echo '```'
  echo
done

# ---- 2. chat --json ------------------------------------------------------------------
log "chat --json: $EVENTS events"
NEMO_API_URL="$SSE_URL" timeout 300 perf record -q -F 1999 --call-graph dwarf,16384 -o "$OUT/chat.data" \
  "$NEMO" --session 1 chat --json --timeout 120 go > /dev/null 2> "$OUT/chat.err"
report "$OUT/chat.data" "chat --json, $EVENTS text events"
NEMO_API_URL="$SSE_URL" timeout 300 perf stat -e task-clock,instructions,cycles -o "$OUT/chat.stat" \
  "$NEMO" --session 1 chat --json --timeout 120 go > /dev/null 2>&1 || true
echo "### chat --json: perf stat"
echo
echo '```'
grep -E 'task-clock|instructions|cycles|elapsed' "$OUT/chat.stat" || true
echo '```'
echo

# ---- 3. a big message on stdin ----------------------------------------------------------
log "stdin message: $MSG_MB MB"
head -c $((MSG_MB * 1024 * 1024)) /dev/zero | tr '\0' 'a' > "$WORK/message.txt"
NEMO_API_URL="$SMALL_URL" timeout 300 /usr/bin/time -f '%e s wall, %M KB peak RSS' -o "$OUT/stdin.time" \
  "$NEMO" --session 1 chat --json --timeout 120 - < "$WORK/message.txt" > /dev/null 2> "$OUT/stdin.err" || true
(cd "$OUT" && NEMO_API_URL="$SMALL_URL" timeout 600 heaptrack -o "$OUT/stdin.heaptrack" \
  "$NEMO" --session 1 chat --json --timeout 120 - < "$WORK/message.txt" > /dev/null 2>&1) || true
echo "### a $MSG_MB MB message on stdin: \`nemo chat --json -\`"
echo
echo '```'
cat "$OUT/stdin.time"
set +o pipefail
heaptrack_print -f "$OUT"/stdin.heaptrack*.zst --print-peaks 1 --print-allocators 0 --print-temporary 0 \
  --print-leaks 0 --peak-limit 6 --sub-peak-limit 0 2> /dev/null > "$OUT/stdin.heaptrack.txt"
sed -n '/PEAK MEMORY CONSUMERS/,$p' "$OUT/stdin.heaptrack.txt" | grep -E '^[0-9.]+[KMG]?B? peak|^PEAK|^  *at |^  *in ' | head -n 40
grep -E '^(peak heap memory consumption|peak RSS|total memory allocated|calls to allocation)' "$OUT/stdin.heaptrack.txt"
set -o pipefail
echo '```'
