# Shared by the bench scripts: builds the release binary and starts
# `nemo sandbox` on loopback with a throwaway config folder. Sets NEMO,
# WORK, SANDBOX_PID and exports NEMO_API_URL and NEMO_CONFIG_DIR; the
# sandbox and WORK are removed on exit.

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --quiet
NEMO="$PWD/target/release/nemo"

WORK="$(mktemp -d)"
SANDBOX_PID=""
cleanup() {
  if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_sandbox() {
  export NEMO_CONFIG_DIR="$WORK/config"
  unset NEMO_TOKEN NEMO_SESSION NEMO_CLIENT_ID
  "$NEMO" sandbox > "$WORK/sandbox.out" 2> "$WORK/sandbox.err" &
  SANDBOX_PID=$!
  for _ in $(seq 100); do
    grep -q '^NEMO_API_URL=' "$WORK/sandbox.out" 2>/dev/null && break
    sleep 0.1
  done
  NEMO_API_URL="$(sed -n 's/^NEMO_API_URL=//p' "$WORK/sandbox.out")"
  export NEMO_API_URL
}
