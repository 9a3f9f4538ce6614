#!/bin/sh
# Long fuzzing runs of the property tests (issue 9, "fuzzing on stable
# Rust"): the same proptest targets of the API crate (crates/nemo-api) `cargo test` runs, with many more cases,
# in a release build. Not part of .ci/run.
#
#   fuzz/long.sh                 # 100,000 cases per property
#   PROPTEST_CASES=1000000 fuzz/long.sh
#
# Failures are saved by proptest under proptest-regressions/ and replayed by
# every later `cargo test`: commit them with the fix.
set -eu
cd "$(dirname "$0")/.."
: "${PROPTEST_CASES:=100000}"
export PROPTEST_CASES
start=$(date +%s)
echo "fuzz/long.sh: PROPTEST_CASES=$PROPTEST_CASES, started $(date -u +%Y-%m-%dT%H:%M:%SZ)"
# The SSE/event parser: arbitrary bytes, split points, round trips, and the
# cap (each case of that one reads 16 MiB, so it gets 1% of the cases).
cargo test -p nemo-api --release --lib chat::stream::props -- \
    --skip a_huge_line_or_an_endless_event_is_refused_after_the_cap
PROPTEST_CASES=$((PROPTEST_CASES / 100 + 1)) \
    cargo test -p nemo-api --release --lib chat::stream::props::a_huge_line_or_an_endless_event_is_refused_after_the_cap
# The request layer: the envelope decoder (arbitrary JSON and bytes under
# any status), the render-status reader (both shapes, arbitrary fields),
# Content-Range parsing (arbitrary strings, round trips).
cargo test -p nemo-api --release --lib -- envelope::props render::props download::headers
# The final event told apart from the pieces by their length and hash.
cargo test -p nemo-api --release --lib chat::stream::adk
# The ignored long checks beside them (100 MB of keep-alives).
cargo test -p nemo-api --release --lib chat::stream::lines -- --ignored
echo "fuzz/long.sh: done in $(( $(date +%s) - start )) s"
