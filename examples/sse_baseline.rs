//! Benchmark baseline, not part of nemo: reads an SSE stream on stdin
//! (`data: {json}` lines, as `/run_sse` sends them), parses every event
//! with `serde_json` into a `Value` and counts the text parts and their
//! bytes. `bench/run.sh` pipes `curl -N` into it to give the floor that
//! `nemo chat --json` is compared with: reading plus `serde_json` parsing
//! the same bytes, nothing else.
//!
//! It owns no behaviour of nemo and must not be used by it.

use std::io::{BufRead, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut line = Vec::with_capacity(4096);
    let (mut events, mut texts, mut text_bytes) = (0u64, 0u64, 0u64);
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let Some(data) = line.strip_prefix(b"data: ") else {
            continue;
        };
        let event: serde_json::Value = serde_json::from_slice(data)?;
        events += 1;
        let parts = event
            .pointer("/content/parts")
            .and_then(|p| p.as_array())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for text in parts.iter().filter_map(|p| p.get("text")?.as_str()) {
            texts += 1;
            text_bytes += text.len() as u64;
        }
    }
    writeln!(
        std::io::stdout(),
        "{events} events, {texts} text parts, {text_bytes} bytes of text"
    )?;
    Ok(())
}
