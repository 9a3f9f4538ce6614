//! The agent's reply as typed events: the bytes of `/run_sse` → whole lines
//! (`lines.rs`: linear in the size, one event capped at [`MAX_EVENT`]) →
//! SSE events (eventsource-stream, handed one line at a time) →
//! [`AgentEvent`]s (`adk.rs`) (`../shared/spec/api.md` "Send a message").
//!
//! One module that the terminal renderer, the JSON Lines renderer and the
//! tests all consume. The gateway's keep-alives (empty `data:` lines,
//! `: comment` lines, small heartbeat events) all become
//! [`AgentEvent::Heartbeat`].
//!
//! It does not print, time out or retry: the caller does. It never holds
//! more than one event's bytes (plus the agent events of the next one, read
//! ahead when the network already delivered it, see [`more_ready`]), and
//! it yields to the runtime regularly, so
//! the caller's timers and Ctrl-C stay live whatever the server sends.
//!
//! The contract of the stream's items: an `Err(Error::BadAnswer)` is one
//! event that could not be read (the stream goes on); any other `Err` means
//! the stream broke (the connection dropped, an event over [`MAX_EVENT`])
//! and is the last item. Bytes that are not UTF-8 are read as U+FFFD.

mod adk;
mod lines;
mod variants;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod props;

use std::cell::Cell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::error::{Error, Kind, Result};
pub use adk::EventParser;
use lines::Lines;
pub use lines::MAX_EVENT;

/// One thing the agent did, in the order it happened.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// New reply text, each piece once. `starts_message` is set on the first
    /// piece of a new model message (the renderer separates messages).
    Text { text: String, starts_message: bool },
    /// The agent called a tool (`functionCall`).
    ToolCall {
        id: Option<String>,
        name: String,
        args: Value,
    },
    /// A tool's result (`functionResponse`).
    ToolResult {
        id: Option<String>,
        name: String,
        response: Value,
    },
    /// A keep-alive: the agent is still working.
    Heartbeat,
    /// The model or the server failed (`errorCode`/`errorMessage`, or
    /// `{"error": …}`).
    Error {
        code: Option<String>,
        message: String,
    },
}

/// The typed event stream of one reply.
pub type AgentStream = Pin<Box<dyn Stream<Item = Result<AgentEvent>> + Send>>;

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// Parses a byte stream (network chunks, split anywhere) into agent events.
/// Byte-stream errors are passed through as the stream's last item.
pub fn agent_events<S>(bytes: S) -> impl Stream<Item = Result<AgentEvent>> + Send + 'static
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    AgentEvents {
        events: Lines::new(bytes.boxed() as ByteStream).eventsource(),
        parser: EventParser::default(),
        ready: VecDeque::new(),
        ended: false,
    }
}

/// The pipeline's last stage: SSE events in, agent events out.
struct AgentEvents {
    events: EventStream<Lines<ByteStream>>,
    parser: EventParser,
    /// Agent events of the last SSE event not handed out yet.
    ready: VecDeque<Result<AgentEvent>>,
    ended: bool,
}

thread_local! {
    /// Whether the item [`AgentEvents`] last handed out on this thread has
    /// another one ready right behind it (see [`more_ready`]).
    static MORE_READY: Cell<bool> = const { Cell::new(false) };
}

/// Whether the agent event just taken from an [`AgentStream`] on this
/// thread has another readable event ready right behind it, already read
/// from the network. Output can then wait for that one and be written in
/// one go; when this is `false` the stream has nothing more for now, and
/// whatever was held must go out (the consumer flushes). It is `false`
/// unless the stream knows better, so getting it wrong only costs a flush.
/// Valid between taking an item and the next `.await`: the stream sets it
/// in the poll that hands the item out, on the consumer's thread.
pub fn more_ready() -> bool {
    MORE_READY.with(Cell::get)
}

impl AgentEvents {
    /// Reads SSE events until one yields agent events, the stream ends, or
    /// the network has nothing more ready (`Pending`, which then wakes the
    /// task later).
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while self.ready.is_empty() && !self.ended {
            match self.events.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(event))) => {
                    self.parser
                        .on_event(&event.event, &event.data, &mut self.ready)
                }
                Poll::Ready(Some(Err(err))) => self.ready.push_back(Err(stream_error(err))),
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    }
}

impl Stream for AgentEvents {
    type Item = Result<AgentEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        MORE_READY.with(|more| more.set(false));
        if this.ready.is_empty() && this.fill(cx).is_pending() {
            return Poll::Pending;
        }
        let Some(item) = this.ready.pop_front() else {
            return Poll::Ready(None);
        };
        // Anything but an unreadable event ends the stream after itself;
        // the connection is not polled again.
        if matches!(&item, Err(err) if !err.is(Kind::BadAnswer)) {
            this.ended = true;
            this.ready.clear();
        }
        // Look one event ahead (what the network already delivered), so the
        // consumer knows whether to hold its output for the next one.
        let _ = this.fill(cx);
        MORE_READY.with(|more| more.set(matches!(this.ready.front(), Some(Ok(_)))));
        Poll::Ready(Some(item))
    }
}

fn stream_error(err: EventStreamError<Error>) -> Error {
    match err {
        EventStreamError::Transport(err) => err,
        // Not reached: lines are checked before eventsource-stream sees them.
        EventStreamError::Utf8(_) => Error::new(
            Kind::Network,
            "the agent's stream broke: it is not valid UTF-8",
        ),
        EventStreamError::Parser(_) => Error::new(
            Kind::Network,
            "the agent's stream broke: it cannot be read as server-sent events",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    /// All events of `chunks`, fed as separate network chunks.
    fn parse_chunks(chunks: Vec<Vec<u8>>) -> Vec<Result<AgentEvent>> {
        let stream = futures::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        block_on(agent_events(stream).collect::<Vec<_>>())
    }

    fn parse(bytes: &[u8]) -> Vec<AgentEvent> {
        parse_chunks(vec![bytes.to_vec()])
            .into_iter()
            .map(|e| e.expect("readable"))
            .collect()
    }

    fn text(t: &str, starts: bool) -> AgentEvent {
        AgentEvent::Text {
            text: t.into(),
            starts_message: starts,
        }
    }

    fn texts(events: &[AgentEvent]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                AgentEvent::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    const ADK_EVENT: &str = r#"{"id":"rAnWGSiV","invocationId":"e-3f6d","author":"nemo_agent","timestamp":1743712257.39,"content":{"role":"model","parts":[{"text":"Generating your video now…"}]},"partial":false,"actions":{"stateDelta":{},"artifactDelta":{},"requestedAuthConfigs":{}},"usageMetadata":{"promptTokenCount":12},"someFutureField":[1,2,3]}"#;

    #[test]
    fn adk_events_with_unknown_fields() {
        let events = parse(format!("data: {ADK_EVENT}\n\n").as_bytes());
        assert_eq!(events, vec![text("Generating your video now…", true)]);
        // Unknown fields inside parts and content, too.
        let odd = r#"data: {"content":{"role":"model","x":1,"parts":[{"text":"hi","videoMetadata":{},"unknown":true}]},"partial":false,"author":"a"}"#;
        assert_eq!(
            parse(format!("{odd}\n\n").as_bytes()),
            vec![text("hi", true)]
        );
    }

    #[test]
    fn partial_pieces_then_the_aggregated_event_print_each_piece_once() {
        let sse = [
            r#"data: {"author":"a","partial":true,"content":{"role":"model","parts":[{"text":"Hello"}]}}"#,
            r#"data: {"author":"a","partial":true,"content":{"role":"model","parts":[{"text":", wor"}]}}"#,
            r#"data: {"author":"a","partial":true,"content":{"role":"model","parts":[{"text":"ld!"}]}}"#,
            r#"data: {"author":"a","partial":false,"content":{"role":"model","parts":[{"text":"Hello, world!"}]}}"#,
            r#"data: {"author":"a","content":{"role":"model","parts":[{"text":"Second message."}]}}"#,
        ]
        .join("\n\n")
            + "\n\n";
        let events = parse(sse.as_bytes());
        assert_eq!(
            events,
            vec![
                text("Hello", true),
                text(", wor", false),
                text("ld!", false),
                text("Second message.", true),
            ]
        );
        assert_eq!(texts(&events), "Hello, world!Second message.");
    }

    #[test]
    fn a_final_event_saying_more_than_its_pieces_adds_only_the_rest() {
        let sse = concat!(
            "data: {\"partial\":true,\"content\":{\"parts\":[{\"text\":\"Hel\"}]}}\n\n",
            "data: {\"partial\":false,\"content\":{\"parts\":[{\"text\":\"Hello.\"},{\"functionCall\":{\"id\":\"c1\",\"name\":\"t\",\"args\":{}}}]}}\n\n",
        );
        let events = parse(sse.as_bytes());
        assert_eq!(events[0], text("Hel", true));
        assert_eq!(events[1], text("lo.", false));
        assert!(matches!(&events[2], AgentEvent::ToolCall { name, .. } if name == "t"));
    }

    #[test]
    fn thought_parts_are_hidden() {
        let sse = r#"data: {"author":"a","content":{"role":"model","parts":[{"text":"let me think about the user","thought":true},{"text":"Sure!"}]}}

data: {"author":"a","partial":true,"content":{"parts":[{"text":"hmm","thought":true}]}}

"#;
        assert_eq!(parse(sse.as_bytes()), vec![text("Sure!", true)]);
    }

    #[test]
    fn function_calls_and_responses() {
        let sse = r#"data: {"author":"nemo_agent","content":{"role":"model","parts":[{"functionCall":{"id":"call-1","name":"generate_video","args":{"prompt":"a panda"}}}]},"longRunningToolIds":["call-1"]}

data: {"author":"nemo_agent","content":{"role":"user","parts":[{"functionResponse":{"id":"call-1","name":"generate_video","response":{"status":"ok"}}}]}}

data: {"author":"nemo_agent","content":{"role":"user","parts":[{"functionResponse":{"id":"call-1","name":"generate_video","response":{"status":"ok"}}}]}}

"#;
        assert_eq!(
            parse(sse.as_bytes()),
            vec![
                AgentEvent::ToolCall {
                    id: Some("call-1".into()),
                    name: "generate_video".into(),
                    args: json!({"prompt": "a panda"}),
                },
                AgentEvent::ToolResult {
                    id: Some("call-1".into()),
                    name: "generate_video".into(),
                    response: json!({"status": "ok"}),
                },
            ]
        );
    }

    #[test]
    fn error_code_events() {
        let sse = r#"data: {"author":"a","errorCode":"RESOURCE_EXHAUSTED","errorMessage":"The model is overloaded"}

data: {"author":"a","errorCode":500}

"#;
        assert_eq!(
            parse(sse.as_bytes()),
            vec![
                AgentEvent::Error {
                    code: Some("RESOURCE_EXHAUSTED".into()),
                    message: "The model is overloaded".into(),
                },
                AgentEvent::Error {
                    code: Some("500".into()),
                    message: "the model failed (500)".into(),
                },
            ]
        );
    }

    #[test]
    fn server_error_data() {
        assert_eq!(
            parse(b"data: {\"error\": \"Internal error: boom\"}\n\n"),
            vec![AgentEvent::Error {
                code: None,
                message: "Internal error: boom".into()
            }]
        );
        assert_eq!(
            parse(b"data: {\"error\": {\"message\": \"quota\", \"code\": 429}}\n\n"),
            vec![AgentEvent::Error {
                code: None,
                message: "quota".into()
            }]
        );
    }

    /// Issue 19 #19: a gateway's typed events showed no text and "No
    /// visible change".
    #[test]
    fn typed_gateway_events() {
        let sse = concat!(
            "data: {\"type\":\"text\",\"content\":\"Hello\"}\n\n",
            "data: {\"type\":\"text\",\"content\":\", panda\"}\n\n",
            "data: {\"type\":\"tool_call\",\"name\":\"generate_video\",\"args\":{\"prompt\":\"p\"}}\n\n",
            "data: {\"type\":\"heartbeat\"}\n\n",
            "data: {\"type\":\"tool_result\",\"name\":\"generate_video\",\"result\":{\"ok\":true}}\n\n",
            "data: {\"type\":\"text\",\"content\":\"Done.\"}\n\n",
            "data: {\"type\":\"error\",\"message\":\"quota\"}\n\n",
        );
        assert_eq!(
            parse(sse.as_bytes()),
            vec![
                text("Hello", true),
                text(", panda", false),
                AgentEvent::ToolCall {
                    id: None,
                    name: "generate_video".into(),
                    args: json!({"prompt": "p"}),
                },
                AgentEvent::Heartbeat,
                AgentEvent::ToolResult {
                    id: None,
                    name: "generate_video".into(),
                    response: json!({"ok": true}),
                },
                text("Done.", true),
                AgentEvent::Error {
                    code: None,
                    message: "quota".into()
                },
            ]
        );
    }

    /// Issue 19 #18: ADK's error forms before 1.24.
    #[test]
    fn old_adk_error_forms_are_errors() {
        let error = |m: &str| AgentEvent::Error {
            code: None,
            message: m.into(),
        };
        assert_eq!(
            parse(b"data: {\"error\": \"Tool \"render_preview\" failed\"}\n\n"),
            vec![error("Tool \"render_preview\" failed")]
        );
        let system = r#"data: {"author":"system","content":{"role":"model","parts":[{"text":"Error: the model is overloaded"}]}}"#;
        assert_eq!(
            parse(format!("{system}\n\n").as_bytes()),
            vec![error("the model is overloaded")]
        );
        // Only from `system`: the agent may well say "Error:" in a reply.
        let agent = system.replace("\"system\"", "\"nemo_agent\"");
        assert_eq!(
            parse(format!("{agent}\n\n").as_bytes()),
            vec![text("Error: the model is overloaded", true)]
        );
    }

    #[test]
    fn keep_alives_of_every_kind() {
        let sse = concat!(
            "data:\n\n",
            "data: \n\n",
            ": keep-alive\n\n",
            ":\n\n",
            "data: {\"type\":\"heartbeat\"}\n\n",
            "data: {\"heartbeat\":1712345}\n\n",
            "event: ping\ndata: {}\n\n",
            "data: {}\n\n",
            "data: ping\n\n",
        );
        let events = parse(sse.as_bytes());
        assert_eq!(events, vec![AgentEvent::Heartbeat; 9]);
        // An ADK event with nothing to show is not a heartbeat.
        let quiet = r#"data: {"author":"a","actions":{"stateDelta":{"x":1}}}"#;
        assert_eq!(parse(format!("{quiet}\n\n").as_bytes()), vec![]);
        // A comment inside an event is ignored; the event is read.
        assert_eq!(
            parse(b"data: {\"content\":{\"parts\":[{\"text\":\"a\"}]},\n: note\ndata: \"partial\":false}\n\n"),
            vec![text("a", true)]
        );
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let lf = format!("data: {ADK_EVENT}\n\n: ka\n\ndata:\n\n");
        let crlf = lf.replace('\n', "\r\n");
        let cr = lf.replace('\n', "\r");
        let expected = vec![
            text("Generating your video now…", true),
            AgentEvent::Heartbeat,
            AgentEvent::Heartbeat,
        ];
        assert_eq!(parse(lf.as_bytes()), expected);
        assert_eq!(parse(crlf.as_bytes()), expected);
        assert_eq!(parse(cr.as_bytes()), expected);
    }

    #[test]
    fn multi_byte_utf8_split_across_chunks() {
        let sse = "data: {\"content\":{\"parts\":[{\"text\":\"你好，熊猫 🐼\"}]}}\n\n".as_bytes();
        let panda = sse.windows(4).position(|w| w == "🐼".as_bytes()).unwrap();
        let ni = sse.windows(3).position(|w| w == "你".as_bytes()).unwrap();
        // Inside the 4-byte emoji and inside a 3-byte character.
        let chunks = vec![
            sse[..ni + 1].to_vec(),
            sse[ni + 1..panda + 2].to_vec(),
            sse[panda + 2..].to_vec(),
        ];
        let events: Vec<_> = parse_chunks(chunks)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(events, vec![text("你好，熊猫 🐼", true)]);
    }

    #[test]
    fn unreadable_events_are_reported_and_the_stream_goes_on() {
        let events = parse_chunks(vec![
            b"data: {not json\n\ndata: [1,2]\n\ndata: {\"content\":{\"parts\":[{\"text\":\"ok\"}]}}\n\n".to_vec(),
        ]);
        assert!(
            matches!(&events[0], Err(e) if e.is(Kind::BadAnswer) && e.message().contains("{not json"))
        );
        assert!(matches!(&events[1], Err(e) if e.is(Kind::BadAnswer)));
        assert_eq!(events[2].as_ref().unwrap(), &text("ok", true));
        // A part of the wrong type is reported, not guessed at.
        let events = parse_chunks(vec![b"data: {\"content\":{\"parts\":\"x\"}}\n\n".to_vec()]);
        assert!(matches!(&events[0], Err(e) if e.is(Kind::BadAnswer)));
    }

    #[test]
    fn a_broken_connection_is_the_last_item() {
        let chunks: Vec<Result<Bytes>> = vec![
            Ok(Bytes::from_static(
                b"data: {\"content\":{\"parts\":[{\"text\":\"a\"}]}}\n\n",
            )),
            Err(Error::new(Kind::Network, "dropped")),
            Ok(Bytes::from_static(
                b"data: {\"content\":{\"parts\":[{\"text\":\"b\"}]}}\n\n",
            )),
        ];
        let events = block_on(agent_events(futures::stream::iter(chunks)).collect::<Vec<_>>());
        assert_eq!(events.len(), 2);
        assert!(matches!(&events[1], Err(e) if e.is(Kind::Network)));
        // Invalid UTF-8 does not: it is read as U+FFFD.
        let events = parse_chunks(vec![
            b"data: {\"content\":{\"parts\":[{\"text\":\"caf\xe9 ok\"}]}}\n\n".to_vec(),
        ]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].as_ref().unwrap(), &text("caf\u{fffd} ok", true));
    }

    #[test]
    fn more_ready_says_whether_the_next_event_is_already_at_hand() {
        let piece = |t: &str| {
            format!(
                "data: {{\"partial\":true,\"content\":{{\"parts\":[{{\"text\":\"{t}\"}}]}}}}\n\n"
            )
        };
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes>>();
        let mut events = Box::pin(agent_events(rx));
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let mut next = || match events.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(Ok(event))) => Some((event, more_ready())),
            Poll::Pending => None,
            other => panic!("{other:?}"),
        };
        // Two events in one network read, and a heartbeat-free gap after.
        tx.unbounded_send(Ok(Bytes::from(piece("a") + &piece("b"))))
            .unwrap();
        assert_eq!(next(), Some((text("a", true), true)));
        assert_eq!(next(), Some((text("b", false), false)));
        assert_eq!(next(), None);
        tx.unbounded_send(Ok(Bytes::from(piece("c")))).unwrap();
        assert_eq!(next(), Some((text("c", false), false)));
        // An unreadable event next is not "more" to wait for.
        tx.unbounded_send(Ok(Bytes::from(piece("d") + "data: {x\n\n")))
            .unwrap();
        assert_eq!(next(), Some((text("d", false), false)));
    }

    /// A stream with every feature the parser must handle.
    fn rich_stream() -> Vec<u8> {
        let mut s = String::new();
        s.push_str(": hello from the gateway\r\n\r\n");
        s.push_str(&format!("data: {ADK_EVENT}\r\n\r\n"));
        s.push_str("data: {\"partial\":true,\"content\":{\"parts\":[{\"text\":\"熊猫\"}]}}\n\n");
        s.push_str("data: {\"partial\":true,\"content\":{\"parts\":[{\"text\":\" 🐼 walks\",\"x\":1}]}}\n\n");
        s.push_str(
            "data: {\"partial\":false,\"content\":{\"parts\":[{\"text\":\"熊猫 🐼 walks\"}]}}\n\n",
        );
        s.push_str("data: {\"content\":{\"parts\":[{\"text\":\"secret\",\"thought\":true},{\"functionCall\":{\"id\":\"1\",\"name\":\"gen\",\"args\":{\"p\":\"é\"}}}]}}\r\n\r\n");
        s.push_str("data:\n\n:\n\ndata: {\"type\":\"heartbeat\"}\n\n");
        s.push_str("data: {\"content\":{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"id\":\"1\",\"name\":\"gen\",\"response\":{\"ok\":true}}}]}}\n\n");
        s.push_str("data: {\"errorCode\":\"E\",\"errorMessage\":\"bad ü\"}\r\r");
        s.push_str("data: {\"error\":\"gone\"}\n\n");
        s.into_bytes()
    }

    fn events_of(chunks: Vec<Vec<u8>>) -> Vec<String> {
        parse_chunks(chunks)
            .into_iter()
            .map(|e| format!("{e:?}"))
            .collect()
    }

    #[test]
    fn the_rich_stream_reads_as_expected() {
        let events: Vec<AgentEvent> = parse(&rich_stream());
        assert_eq!(events.len(), 11, "{events:?}");
        assert_eq!(events[0], AgentEvent::Heartbeat);
        assert_eq!(texts(&events), "Generating your video now…熊猫 🐼 walks");
        assert!(events.contains(&AgentEvent::Error {
            code: Some("E".into()),
            message: "bad ü".into()
        }));
    }

    #[test]
    fn the_same_bytes_split_at_every_boundary_give_the_same_events() {
        let bytes = rich_stream();
        let whole = events_of(vec![bytes.clone()]);
        for i in 0..=bytes.len() {
            let split = events_of(vec![bytes[..i].to_vec(), bytes[i..].to_vec()]);
            assert_eq!(split, whole, "split at byte {i}");
        }
        let one_by_one = events_of(bytes.iter().map(|b| vec![*b]).collect());
        assert_eq!(one_by_one, whole);
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_events(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
            let bytes = rich_stream();
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(bytes[last..p].to_vec());
                last = p;
            }
            chunks.push(bytes[last..].to_vec());
            prop_assert_eq!(events_of(chunks), events_of(vec![bytes]));
        }
    }
}
