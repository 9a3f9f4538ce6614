//! Property tests of the whole stream parser (issue 9, "fuzzing on stable
//! Rust"): any bytes end in bounded time without a panic; the chunking never
//! changes the events; events encoded as SSE any way the spec allows (line
//! ends, BOM, keep-alives, blank lines) come back as they went in; an
//! oversized line or an endless event is refused after reading at most the
//! cap. `cargo test` runs moderate case counts; `fuzz/long.sh` runs many.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use proptest::prelude::*;
use serde_json::json;

use super::{AgentEvent, MAX_EVENT, agent_events};
use crate::error::{Kind, Result};

/// `PROPTEST_CASES` when set (`fuzz/long.sh`), else the moderate default
/// that keeps `cargo test` fast.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// `bytes` cut at `cuts` (positions, any order, out of range clamped).
fn cut(bytes: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points {
        chunks.push(bytes[last..p].to_vec());
        last = p;
    }
    chunks.push(bytes[last..].to_vec());
    chunks
}

fn run(chunks: Vec<Vec<u8>>) -> Vec<Result<AgentEvent>> {
    let stream = futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
    block_on(agent_events(stream).collect::<Vec<_>>())
}

/// The items as comparable text (errors by kind and message).
fn shown(items: &[Result<AgentEvent>]) -> Vec<String> {
    items
        .iter()
        .map(|item| match item {
            Ok(event) => format!("{event:?}"),
            Err(err) => format!("error {:?}: {}", err.kind(), err.message()),
        })
        .collect()
}

/// Bytes that look like SSE often enough to reach every branch.
fn sse_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data:".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event: ping".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b": keep-alive".to_vec()),
        Just(b":".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xff".to_vec()),
        Just(br#"{"content":{"parts":[{"text":"hi"}]}}"#.to_vec()),
        Just(br#"{"partial":true,"content":{"parts":[{"text":"h"}]}}"#.to_vec()),
        Just(br#"{"error":"boom"}"#.to_vec()),
        Just(br#"{"content":{"parts":"x"}}"#.to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn check_shape(items: &[Result<AgentEvent>]) -> std::result::Result<(), TestCaseError> {
    // At most one item that is not an unreadable event, and it is last.
    if let Some(i) = items
        .iter()
        .position(|item| matches!(item, Err(e) if !e.is(Kind::BadAnswer)))
    {
        prop_assert_eq!(i, items.len() - 1);
    }
    Ok(())
}

/// What the agent "did", before it is encoded as SSE.
#[derive(Debug, Clone)]
enum Act {
    /// A whole message in one event.
    Say(String),
    /// A message streamed in `partial` pieces, then the aggregated event.
    Stream(Vec<String>),
    Call(String, serde_json::Value),
    Fail(String, String),
    /// A keep-alive of one of the gateway's shapes.
    KeepAlive(u8),
}

fn act() -> impl Strategy<Value = Act> {
    let text = "\\PC{1,12}|[\"\\\\/\\t\\n é🐼]{1,6}";
    prop_oneof![
        text.prop_map(Act::Say),
        prop::collection::vec(text, 1..4).prop_map(Act::Stream),
        ("[a-z_]{1,10}", any::<i32>()).prop_map(|(name, n)| Act::Call(name, json!({"n": n}))),
        ("[A-Z_]{1,10}", "[a-z]([a-z ]{0,10}[a-z])?").prop_map(|(c, m)| Act::Fail(c, m)),
        (0u8..4).prop_map(Act::KeepAlive),
    ]
}

/// An act's SSE events (each a list of lines without line ends) and the
/// agent events it must give.
fn encode(act: &Act, call_id: usize) -> (Vec<Vec<String>>, Vec<AgentEvent>) {
    let data = |v: serde_json::Value| vec![format!("data: {v}")];
    let text = |t: &str, starts| AgentEvent::Text {
        text: t.to_string(),
        starts_message: starts,
    };
    match act {
        Act::Say(t) => (
            vec![data(
                json!({"author":"nemo_agent","content":{"role":"model","parts":[{"text":t}]}}),
            )],
            vec![text(t, true)],
        ),
        Act::Stream(pieces) => {
            let mut events: Vec<_> = pieces
                .iter()
                .map(|p| data(json!({"partial":true,"content":{"parts":[{"text":p}]}})))
                .collect();
            events.push(data(
                json!({"partial":false,"content":{"parts":[{"text":pieces.concat()}]}}),
            ));
            let out = pieces
                .iter()
                .enumerate()
                .map(|(i, p)| text(p, i == 0))
                .collect();
            (events, out)
        }
        Act::Call(name, args) => {
            let id = format!("call-{call_id}");
            (
                vec![data(
                    json!({"content":{"parts":[{"functionCall":{"id":id,"name":name,"args":args}}]}}),
                )],
                vec![AgentEvent::ToolCall {
                    id: Some(id),
                    name: name.clone(),
                    args: args.clone(),
                }],
            )
        }
        Act::Fail(code, message) => (
            vec![data(
                json!({"author":"a","errorCode":code,"errorMessage":message}),
            )],
            vec![AgentEvent::Error {
                code: Some(code.clone()),
                message: message.clone(),
            }],
        ),
        Act::KeepAlive(kind) => {
            let lines = match kind {
                0 => vec![": keep-alive".to_string()],
                1 => vec!["data:".to_string()],
                2 => vec!["event: ping".to_string(), "data: {}".to_string()],
                _ => vec![r#"data: {"type":"heartbeat"}"#.to_string()],
            };
            (vec![lines], vec![AgentEvent::Heartbeat])
        }
    }
}

const ENDS: [&str; 3] = ["\n", "\r\n", "\r"];

/// The acts as SSE bytes: a line end of each kind at random, blank lines
/// and a BOM here and there.
fn to_sse(
    acts: &[Act],
    ends: &[usize],
    extra_blank: &[bool],
    bom: bool,
) -> (Vec<u8>, Vec<AgentEvent>) {
    let mut out = Vec::new();
    let mut want = Vec::new();
    if bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut n = 0;
    let mut after_cr = false;
    let mut line = |out: &mut Vec<u8>, text: &str| {
        let mut end = ENDS[ends[n % ends.len()] % 3];
        n += 1;
        // A CR then an empty line ending in LF would read as one CRLF.
        if after_cr && text.is_empty() && end == "\n" {
            end = "\r\n";
        }
        after_cr = end == "\r";
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(end.as_bytes());
    };
    for (i, act) in acts.iter().enumerate() {
        let (events, agent) = encode(act, i);
        for event in events {
            for l in &event {
                line(&mut out, l);
            }
            line(&mut out, "");
        }
        if extra_blank[i % extra_blank.len()] {
            line(&mut out, "");
        }
        want.extend(agent);
    }
    (out, want)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(256), ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_end_without_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        check_shape(&run(cut(&bytes, &cuts)))?;
    }

    #[test]
    fn sse_like_bytes_give_the_same_events_however_they_are_cut(bytes in sse_like(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16)) {
        let whole = run(vec![bytes.clone()]);
        check_shape(&whole)?;
        prop_assert_eq!(shown(&run(cut(&bytes, &cuts))), shown(&whole));
        // One byte at a time, too.
        prop_assert_eq!(shown(&run(bytes.iter().map(|b| vec![*b]).collect())), shown(&whole));
    }

    #[test]
    fn events_round_trip_through_sse(
        acts in prop::collection::vec(act(), 0..20),
        ends in prop::collection::vec(0usize..3, 1..16),
        extra_blank in prop::collection::vec(any::<bool>(), 1..8),
        bom in any::<bool>(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let (bytes, want) = to_sse(&acts, &ends, &extra_blank, bom);
        let got: Vec<AgentEvent> = run(cut(&bytes, &cuts))
            .into_iter()
            .collect::<Result<_>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(got, want);
    }
}

/// An endless source of `pattern`, in chunks of `chunk` bytes, that counts
/// what the parser pulled from it.
fn endless(
    head: &'static [u8],
    pattern: &[u8],
    chunk: usize,
) -> (
    impl futures::Stream<Item = Result<Bytes>> + Send + 'static,
    Arc<AtomicUsize>,
) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    // Whole patterns per chunk: a character is never cut in two.
    let body: Bytes = pattern.repeat(chunk.div_ceil(pattern.len())).into();
    let stream = futures::stream::iter(
        std::iter::once(Bytes::from_static(head)).chain(std::iter::repeat(body)),
    )
    .map(move |b| {
        counter.fetch_add(b.len(), Ordering::SeqCst);
        Ok(b)
    });
    (stream, pulled)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(2), ..ProptestConfig::default() })]

    #[test]
    fn a_huge_line_or_an_endless_event_is_refused_after_the_cap(chunk in 1024usize..(1 << 20), shape in 0u8..3) {
        // Long lines: a debug build reads 16 MiB of short lines slowly.
        let (stream, pulled) = match shape {
            0 => endless(b"data: {\"x\":\"", b"a", chunk),
            1 => endless(b"", format!("data: {{\"t\":\"{}\"}}\n", "x".repeat(4000)).as_bytes(), chunk),
            _ => endless(b"data: ", format!("{}\r", "熊猫 walks".repeat(400)).as_bytes(), chunk),
        };
        let items = block_on(agent_events(stream).collect::<Vec<_>>());
        let last = items.last().expect("an item");
        prop_assert!(matches!(last, Err(e) if e.is(Kind::TooLarge) && e.message().contains("16 MiB")), "{:?}", shown(&items));
        // Never more than the cap plus the chunk being cut was read.
        prop_assert!(pulled.load(Ordering::SeqCst) <= MAX_EVENT + 2 * (chunk + 8192));
    }
}
