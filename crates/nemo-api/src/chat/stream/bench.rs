//! A measurement run by hand, never in CI and never asserting a duration:
//! the per-event cost of [`agent_events`] against reading the same bytes
//! and parsing each event's data with `serde_json` (issue 13's yardstick),
//! and the time for one huge `data:` line (issue 9).
//!
//! ```text
//! cargo test -p nemo-api --release --lib sse_cost -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;

use super::agent_events;

/// Network-sized pieces, as reqwest hands them over.
const CHUNK: usize = 16 * 1024;

/// `n` small text events shaped like the agent's (about 200 bytes each).
fn small_events(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 220);
    for i in 0..n {
        out.extend_from_slice(
            format!(
                "data: {{\"id\":\"ev-{i:08}\",\"invocationId\":\"e-3f6d\",\"author\":\"nemo_agent\",\"timestamp\":1743712257.39,\"partial\":true,\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"word {i} of the reply \"}}]}}}}\n\n"
            )
            .as_bytes(),
        );
    }
    out
}

/// One text event whose `data:` line is `size` bytes long.
fn huge_event(size: usize) -> Vec<u8> {
    let head = b"data: {\"partial\":false,\"content\":{\"parts\":[{\"text\":\"";
    let tail = b"\"}]}}";
    let mut out = Vec::with_capacity(size + 2);
    out.extend_from_slice(head);
    out.resize(size - tail.len(), b'a');
    out.extend_from_slice(tail);
    out.extend_from_slice(b"\n\n");
    out
}

fn chunks(bytes: &[u8]) -> Vec<Bytes> {
    bytes.chunks(CHUNK).map(Bytes::copy_from_slice).collect()
}

/// The whole parser over `bytes`, in network-sized pieces: (events, time).
fn parse(bytes: &[u8]) -> (usize, Duration) {
    let pieces = chunks(bytes);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let events = runtime.block_on(async {
        let stream = futures::stream::iter(pieces.into_iter().map(Ok));
        agent_events(stream)
            .fold(
                0usize,
                |n, item| async move { n + usize::from(item.is_ok()) },
            )
            .await
    });
    (events, started.elapsed())
}

/// The yardstick: the same pieces copied into a buffer, lines found with
/// `memchr`, each `data:` payload parsed into a `serde_json::Value`.
fn read_and_parse(bytes: &[u8]) -> (usize, Duration) {
    let pieces = chunks(bytes);
    let started = Instant::now();
    let mut buffer: Vec<u8> = Vec::new();
    let mut events = 0;
    for piece in &pieces {
        // Only the new bytes are searched for line ends.
        let mut scanned = buffer.len();
        buffer.extend_from_slice(piece);
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &buffer[scanned..]) {
            let line = &buffer[start..scanned + end];
            if let Some(data) = line.strip_prefix(b"data:") {
                let value: serde_json::Value =
                    serde_json::from_slice(data).expect("the bench's own JSON");
                events += usize::from(value.is_object());
            }
            start = scanned + end + 1;
            scanned = start;
        }
        buffer.drain(..start);
    }
    (events, started.elapsed())
}

fn best_of(runs: usize, f: impl Fn() -> (usize, Duration)) -> (usize, Duration) {
    (0..runs)
        .map(|_| f())
        .min_by_key(|(_, t)| *t)
        .expect("at least one run")
}

#[test]
#[ignore = "a measurement, run by hand with --release"]
fn sse_cost() {
    let small = small_events(100_000);
    let (n, parser) = best_of(5, || parse(&small));
    let (m, yardstick) = best_of(5, || read_and_parse(&small));
    assert_eq!((n, m), (100_000, 100_000));
    println!(
        "100,000 small events ({:.1} MB): parser {:.1} ms ({:.2} µs/event), read + serde_json {:.1} ms: {:.2}×",
        small.len() as f64 / 1e6,
        parser.as_secs_f64() * 1e3,
        parser.as_secs_f64() * 1e6 / 100_000.0,
        yardstick.as_secs_f64() * 1e3,
        parser.as_secs_f64() / yardstick.as_secs_f64()
    );
    let sizes: Vec<usize> = std::env::var("SSE_COST_SIZES_MB")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 8, 16]);
    for mb in sizes {
        let huge = huge_event(mb * 1_000_000);
        let (n, parser) = best_of(1, || parse(&huge));
        let (_, yardstick) = best_of(3, || read_and_parse(&huge));
        println!(
            "one {mb} MB data: line: parser {:.1} ms ({n} event), read + serde_json {:.1} ms: {:.2}×",
            parser.as_secs_f64() * 1e3,
            yardstick.as_secs_f64() * 1e3,
            parser.as_secs_f64() / yardstick.as_secs_f64()
        );
    }
}
