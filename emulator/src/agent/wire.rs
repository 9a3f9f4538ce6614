//! The wire format of the agent's replies: ADK events (camelCase, with the
//! fields a client must ignore) as `data:` lines of an SSE stream, the
//! gateway's keep-alives, and the reply as a paced body stream. Also how
//! the agent's fault switches reshape a reply (dropped, heartbeats only,
//! endless, CRLF). What to say is decided in [`super::script`].

use std::time::Duration;

use axum::body::{Body, Bytes};
use serde_json::{Value, json};

use super::ChatFaults;
use super::edits::Edit;
use crate::model::now_millis;

/// One step of a reply.
#[derive(Debug, Clone)]
pub(super) enum Step {
    /// An ADK event as one `data:` line.
    Event(Value),
    /// Raw bytes (keep-alives, halves of an event).
    Raw(Vec<u8>),
    Sleep(u64),
    /// The agent's edit lands now.
    Apply(Edit),
    /// The connection breaks.
    Drop,
    /// The same bytes `times` times, every `every_ms` (made as they go).
    Repeat {
        bytes: Vec<u8>,
        every_ms: u64,
        times: u64,
    },
}

/// Builds a reply in ADK's shapes.
pub(super) struct Script {
    pub(super) steps: Vec<Step>,
    invocation: String,
    pub(super) pace: u64,
    keepalive: u64,
    pub(super) crlf: bool,
    /// How long a slow tool (a generation) runs.
    pub(super) tool_ms: u64,
    seq: u32,
}

impl Script {
    pub(super) fn new(faults: &ChatFaults) -> Script {
        Script {
            steps: Vec::new(),
            invocation: format!("e-{}", uuid::Uuid::new_v4()),
            pace: faults.chat_pace_ms,
            keepalive: faults.chat_keepalive_ms.max(1),
            crlf: faults.chat_crlf,
            tool_ms: faults.chat_tool_ms,
            seq: 0,
        }
    }

    pub(super) fn event(&mut self, role: &str, parts: Value, partial: Option<bool>) -> Value {
        self.seq += 1;
        let mut event = json!({
            "id": format!("{:08x}", fastrand::u32(..)),
            "invocationId": self.invocation,
            "author": "nemo_agent",
            "timestamp": now_millis() as f64 / 1000.0,
            "content": {"role": role, "parts": parts},
            "actions": {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}},
            "branch": "nemo_agent",
            "usageMetadata": {"promptTokenCount": 812, "candidatesTokenCount": self.seq},
        });
        if let Some(partial) = partial {
            event["partial"] = json!(partial);
        }
        event
    }

    pub(super) fn push(&mut self, event: Value) {
        if !self.steps.is_empty() {
            self.steps.push(Step::Sleep(self.pace));
        }
        self.steps.push(Step::Event(event));
    }

    /// A whole message in one final event.
    pub(super) fn say(&mut self, text: &str) {
        let event = self.event("model", json!([{"text": text}]), Some(false));
        self.push(event);
    }

    /// A message streamed as partial pieces, then the aggregated event.
    pub(super) fn stream(&mut self, pieces: &[&str]) {
        for piece in pieces {
            let event = self.event("model", json!([{"text": piece}]), Some(true));
            self.push(event);
        }
        self.say(&pieces.concat());
    }

    pub(super) fn tool(
        &mut self,
        name: &str,
        args: Value,
        response: Value,
        slow: Option<u64>,
        edit: Option<Edit>,
    ) {
        let id = format!("adk-{}", uuid::Uuid::new_v4());
        let mut call = self.event(
            "model",
            json!([{"functionCall": {"id": id, "name": name, "args": args}}]),
            None,
        );
        if slow.is_some() {
            call["longRunningToolIds"] = json!([id]);
        }
        self.push(call);
        if let Some(ms) = slow {
            let keepalives = [
                "data:\n\n",
                ": keep-alive\n\n",
                "data: {\"type\":\"heartbeat\"}\n\n",
            ];
            let mut waited = 0;
            let mut i = 0;
            while waited < ms {
                self.steps.push(Step::Sleep(self.keepalive));
                let keepalive = eol(keepalives[i % keepalives.len()], self.crlf);
                self.steps.push(Step::Raw(keepalive));
                waited += self.keepalive;
                i += 1;
            }
        }
        if let Some(edit) = edit {
            self.steps.push(Step::Apply(edit));
        }
        let result = self.event(
            "user",
            json!([{"functionResponse": {"id": id, "name": name, "response": response}}]),
            None,
        );
        self.push(result);
    }
}

/// The reply's steps with the faults applied.
pub(super) fn shape(mut script: Script, faults: &ChatFaults) -> Vec<Step> {
    if faults.chat_heartbeats_only {
        let every = faults.chat_keepalive_ms.max(1);
        return vec![Step::Repeat {
            bytes: eol(": keep-alive\n\ndata:\n\n", faults.chat_crlf),
            every_ms: every,
            times: 600_000 / every,
        }];
    }
    if faults.chat_endless {
        let event = script.event("model", json!([{"text": "."}]), Some(true));
        return vec![Step::Repeat {
            bytes: sse_bytes(&event, faults.chat_crlf),
            every_ms: faults.chat_pace_ms.max(1),
            times: u64::MAX,
        }];
    }
    if faults.chat_drop_stream {
        // The first event goes out, then the connection breaks; the agent
        // goes on and its edits land a little later.
        let first = script
            .steps
            .iter()
            .position(|s| matches!(s, Step::Event(_)));
        let edits: Vec<Step> = script
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Apply(_)))
            .cloned()
            .collect();
        let mut steps: Vec<Step> = match first {
            Some(i) => script.steps.drain(..=i).collect(),
            None => Vec::new(),
        };
        steps.push(Step::Sleep(faults.chat_pace_ms));
        steps.push(Step::Drop);
        steps.push(Step::Sleep(faults.chat_late_ms));
        steps.extend(edits);
        return steps;
    }
    script.steps
}

pub(super) fn sse_bytes(event: &Value, crlf: bool) -> Vec<u8> {
    let text = format!("data: {event}\n\n");
    eol(&text, crlf)
}

pub(super) fn eol(text: &str, crlf: bool) -> Vec<u8> {
    if crlf {
        text.replace('\n', "\r\n").into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

/// The reply as a body stream: chunks with pauses; an error breaks the
/// connection (no final chunk), as a dropped connection does.
pub(super) fn reply_body(steps: Vec<Step>, crlf: bool) -> Body {
    let stream = futures::stream::unfold(
        (steps.into_iter(), Vec::<Vec<u8>>::new()),
        move |(mut steps, mut queued)| async move {
            loop {
                if !queued.is_empty() {
                    let chunk = queued.remove(0);
                    return Some((Ok(Bytes::from(chunk)), (steps, queued)));
                }
                match steps.next()? {
                    Step::Repeat {
                        bytes,
                        every_ms,
                        times,
                    } => {
                        if times > 0 {
                            queued.push(bytes.clone());
                            // Put the rest back in front of what follows.
                            let rest = Step::Repeat {
                                bytes,
                                every_ms,
                                times: times - 1,
                            };
                            steps = std::iter::once(Step::Sleep(every_ms))
                                .chain(std::iter::once(rest))
                                .chain(steps)
                                .collect::<Vec<_>>()
                                .into_iter();
                        }
                    }
                    Step::Sleep(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                    Step::Event(event) => queued.push(sse_bytes(&event, crlf)),
                    Step::Raw(bytes) => queued.push(bytes),
                    Step::Apply(_) => {}
                    Step::Drop => {
                        let err = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "the emulator dropped the connection",
                        );
                        return Some((Err(err), (steps, queued)));
                    }
                }
            }
        },
    );
    Body::from_stream(stream)
}
