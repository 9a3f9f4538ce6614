//! One SSE event's data → [`AgentEvent`]s: the ADK event shapes (camelCase,
//! unknown fields ignored), the `partial` de-duplication (each piece of text
//! comes out once, the aggregated final event never repeats it), hidden
//! `thought` parts, server errors and the gateway's small heartbeat events.
//!
//! ADK's error forms of every version are errors (`../shared/spec/cli.md`
//! "Retries"): `errorCode`/`errorMessage`, `{"error": …}`, the invalid JSON
//! that ADK before 1.24 writes with an f-string when the message holds a
//! quote (`{"error": "… "render_preview" failed"}`), and ADK 1.23's event
//! from author `system` whose text begins `Error:`. A gateway's typed
//! events (`{"type":"text","content":…}`, `tool_call`, `tool_result`,
//! `error`, `heartbeat`) are read as well (those forms: `variants.rs`).
//!
//! Each event is parsed once, straight into borrowed shapes (text without
//! escapes is not copied until it becomes an [`AgentEvent`]). Only when that
//! typed parse fails is the event read again as a `serde_json::Value`, by
//! the rules the typed path mirrors, so a wrong type in a field the event
//! does not need never hides an error or a heartbeat.
//!
//! It does not cut lines or read SSE fields (see `lines.rs` and
//! eventsource-stream), print, time out or retry.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hasher};

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::AgentEvent;
use super::variants::{is_typed_kind, typed_event, unescaped_error};
use crate::error::{Error, Result};

/// An ADK `Event` or a gateway event, as far as the client reads it. Every
/// field is optional and unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct WireEvent<'a> {
    /// Absent (`None`), `null` (`Some(None)`) or an object.
    #[serde(borrow, deserialize_with = "some")]
    content: Option<Option<Content<'a>>>,
    partial: Option<bool>,
    error_code: Option<Value>,
    error_message: Option<Value>,
    id: Option<IgnoredAny>,
    invocation_id: Option<IgnoredAny>,
    author: Option<Value>,
    actions: Option<IgnoredAny>,
    /// `{"error": …}` from the server.
    error: Option<Value>,
    code: Option<Value>,
    /// A gateway heartbeat says so in one of these, or has `heartbeat`.
    #[serde(rename = "type")]
    type_: Option<Value>,
    event: Option<Value>,
    kind: Option<Value>,
    #[serde(deserialize_with = "present")]
    heartbeat: bool,
}

/// The ADK part of an event (the typed fallback's shape too).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct AdkEvent<'a> {
    #[serde(borrow)]
    content: Option<Content<'a>>,
    partial: Option<bool>,
    error_code: Option<Value>,
    error_message: Option<Value>,
    id: Option<IgnoredAny>,
    invocation_id: Option<IgnoredAny>,
    author: Option<Value>,
    actions: Option<IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Content<'a> {
    #[serde(borrow)]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Part<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    thought: Option<bool>,
    function_call: Option<FunctionCall>,
    function_response: Option<FunctionResponse>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FunctionCall {
    id: Option<String>,
    name: Option<String>,
    args: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FunctionResponse {
    id: Option<String>,
    name: Option<String>,
    response: Option<Value>,
}

/// A field that may be `null`: present is `Some`, whatever it holds.
fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A field whose presence is all that counts (even `null`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

const HEARTBEAT_NAMES: [&str; 5] = ["heartbeat", "ping", "keepalive", "keep-alive", "keep_alive"];

pub(super) fn is_heartbeat_name(value: &str) -> bool {
    let value = value.trim();
    HEARTBEAT_NAMES
        .iter()
        .any(|name| value.eq_ignore_ascii_case(name))
}

fn names_heartbeat(value: Option<&Value>) -> bool {
    value.and_then(Value::as_str).is_some_and(is_heartbeat_name)
}

/// What the `partial` pieces of a message said, without a copy of it: its
/// length and a running hash (SipHash, fed the bytes in order, so the
/// pieces hash as their concatenation). A long reply then costs no second
/// copy of its text (BENCHMARKS.md, chat memory); a hash that matched by
/// accident (2⁻⁶⁴) would only hide the repeated text's tail.
#[derive(Debug, Default)]
struct Pieces {
    len: usize,
    hash: DefaultHasher,
}

impl Pieces {
    fn push(&mut self, text: &str) {
        self.len += text.len();
        self.hash.write(text.as_bytes());
    }

    /// What the text of `parts`, end to end, adds after the pieces, if it
    /// starts with them. The parts are not joined first: a final event
    /// repeats the whole reply.
    fn strip_from(&self, parts: &[&str]) -> Option<String> {
        let mut hash = DefaultHasher::default();
        let mut need = self.len;
        let mut rest = String::new();
        for part in parts {
            let head = part.get(..need.min(part.len()))?;
            hash.write(head.as_bytes());
            need -= head.len();
            rest.push_str(&part[head.len()..]);
        }
        (need == 0 && hash.finish() == self.hash.finish()).then_some(rest)
    }
}

/// Turns SSE events into agent events, remembering what the `partial`
/// pieces already said.
#[derive(Debug, Default)]
pub struct EventParser {
    /// The `partial: true` pieces since the last final event.
    pieces: Pieces,
    in_partial: bool,
    /// Tool calls and results already reported, by id.
    seen: HashSet<(bool, String)>,
    /// The last event was a typed gateway text event (the next one goes on
    /// the same message).
    in_typed_text: bool,
}

impl EventParser {
    /// The agent events of one SSE event (its type and data), appended to
    /// `out` (none, one or several).
    pub fn on_event(&mut self, kind: &str, data: &str, out: &mut VecDeque<Result<AgentEvent>>) {
        if is_heartbeat_name(kind) {
            return out.push_back(Ok(AgentEvent::Heartbeat));
        }
        let data = data.trim();
        if data.is_empty() || (data.len() <= 16 && is_heartbeat_name(data)) {
            return out.push_back(Ok(AgentEvent::Heartbeat));
        }
        if !data.starts_with('{') {
            return out.push_back(Err(unreadable(data, "it is not a JSON object")));
        }
        match serde_json::from_str::<WireEvent>(data) {
            Ok(wire) if wire.type_.as_ref().is_some_and(is_typed_kind) => self.on_value(data, out),
            Ok(wire) => {
                self.in_typed_text = false;
                self.on_wire(wire, out)
            }
            Err(_) => self.on_value(data, out),
        }
    }

    /// The typed path: the same rules as [`Self::on_value`].
    fn on_wire(&mut self, wire: WireEvent, out: &mut VecDeque<Result<AgentEvent>>) {
        if let Some(error) = &wire.error
            && wire.content.is_none()
        {
            return out.push_back(Ok(server_error(wire.code.as_ref(), error)));
        }
        if [&wire.type_, &wire.event, &wire.kind]
            .iter()
            .any(|v| names_heartbeat(v.as_ref()))
            || wire.heartbeat
        {
            return out.push_back(Ok(AgentEvent::Heartbeat));
        }
        self.on_adk(
            AdkEvent {
                content: wire.content.flatten(),
                partial: wire.partial,
                error_code: wire.error_code,
                error_message: wire.error_message,
                id: wire.id,
                invocation_id: wire.invocation_id,
                author: wire.author,
                actions: wire.actions,
            },
            out,
        );
    }

    /// The fallback: the event as a `Value`, each rule in turn.
    fn on_value(&mut self, data: &str, out: &mut VecDeque<Result<AgentEvent>>) {
        let value: Value = match serde_json::from_str(data) {
            Ok(value @ Value::Object(_)) => value,
            Err(_) if let Some(message) = unescaped_error(data) => {
                self.in_typed_text = false;
                return out.push_back(Ok(AgentEvent::Error {
                    code: None,
                    message,
                }));
            }
            _ => return out.push_back(Err(unreadable(data, "it is not a JSON object"))),
        };
        if let Some(event) = typed_event(&value, &mut self.in_typed_text) {
            return out.push_back(event);
        }
        self.in_typed_text = false;
        if let Some(error) = value.get("error").filter(|e| !e.is_null())
            && value.get("content").is_none()
        {
            return out.push_back(Ok(server_error(value.get("code"), error)));
        }
        if ["type", "event", "kind"]
            .iter()
            .any(|k| names_heartbeat(value.get(*k)))
            || value.get("heartbeat").is_some()
        {
            return out.push_back(Ok(AgentEvent::Heartbeat));
        }
        match AdkEvent::deserialize(&value) {
            Ok(adk) => self.on_adk(adk, out),
            Err(e) => out.push_back(Err(unreadable(data, &e.to_string()))),
        }
    }

    fn on_adk(&mut self, adk: AdkEvent, out: &mut VecDeque<Result<AgentEvent>>) {
        let before = out.len();
        let parts = adk.content.and_then(|c| c.parts).unwrap_or_default();
        let texts: Vec<&str> = parts
            .iter()
            .filter(|p| p.thought != Some(true))
            .filter_map(|p| p.text.as_deref())
            .collect();
        // ADK 1.23 reports a failure as an event from author `system`
        // whose text begins `Error:`: an error, never the reply.
        let from_system = adk
            .author
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|a| a.trim().eq_ignore_ascii_case("system"));
        if from_system {
            let text = texts.concat();
            if let Some(rest) = text.trim_start().strip_prefix("Error:") {
                let rest = rest.trim();
                return out.push_back(Ok(AgentEvent::Error {
                    code: None,
                    message: if rest.is_empty() {
                        "the agent failed".into()
                    } else {
                        rest.to_string()
                    },
                }));
            }
        }
        if adk.partial == Some(true) {
            let text = texts.concat();
            if !text.is_empty() {
                let starts_message = !self.in_partial;
                self.in_partial = true;
                self.pieces.push(&text);
                out.push_back(Ok(AgentEvent::Text {
                    text,
                    starts_message,
                }));
            }
        } else if self.in_partial {
            // The aggregated final event repeats the pieces: show only what
            // they did not already say.
            if let Some(rest) = self.pieces.strip_from(&texts)
                && !rest.is_empty()
            {
                out.push_back(Ok(AgentEvent::Text {
                    text: rest,
                    starts_message: false,
                }));
            }
            self.in_partial = false;
            self.pieces = Pieces::default();
        } else {
            let text = texts.concat();
            if !text.is_empty() {
                out.push_back(Ok(AgentEvent::Text {
                    text,
                    starts_message: true,
                }));
            }
        }
        for part in parts {
            if let Some(call) = part.function_call
                && self.first_time(false, call.id.as_deref())
            {
                out.push_back(Ok(AgentEvent::ToolCall {
                    id: call.id,
                    name: call.name.unwrap_or_default(),
                    args: call.args.unwrap_or(Value::Null),
                }));
            }
            if let Some(result) = part.function_response
                && self.first_time(true, result.id.as_deref())
            {
                out.push_back(Ok(AgentEvent::ToolResult {
                    id: result.id,
                    name: result.name.unwrap_or_default(),
                    response: result.response.unwrap_or(Value::Null),
                }));
            }
        }
        if adk.error_code.is_some() || adk.error_message.is_some() {
            let code = adk.error_code.as_ref().and_then(text_of);
            let message =
                adk.error_message
                    .as_ref()
                    .and_then(text_of)
                    .unwrap_or_else(|| match &code {
                        Some(code) => format!("the model failed ({code})"),
                        None => "the model failed".into(),
                    });
            out.push_back(Ok(AgentEvent::Error { code, message }));
        }
        let adk_shaped = adk.id.is_some()
            || adk.invocation_id.is_some()
            || adk.author.is_some()
            || adk.actions.is_some();
        if out.len() == before && !adk_shaped && adk.partial.is_none() {
            // A small event with nothing in it: the gateway's heartbeat.
            out.push_back(Ok(AgentEvent::Heartbeat));
        }
    }

    /// Whether a tool call (or result) with this id is new; calls without
    /// an id are always new.
    fn first_time(&mut self, result: bool, id: Option<&str>) -> bool {
        match id {
            Some(id) if !id.is_empty() => self.seen.insert((result, id.to_string())),
            _ => true,
        }
    }
}

fn server_error(code: Option<&Value>, error: &Value) -> AgentEvent {
    AgentEvent::Error {
        code: code.and_then(text_of),
        message: error_text(error).unwrap_or_else(|| "the server failed while answering".into()),
    }
}

pub(super) fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The message of `{"error": "…"}` or `{"error": {"message": "…"}}`.
pub(super) fn error_text(error: &Value) -> Option<String> {
    text_of(error).or_else(|| {
        ["message", "detail", "error"]
            .iter()
            .find_map(|k| error.get(*k).and_then(text_of))
    })
}

fn unreadable(data: &str, why: &str) -> Error {
    let mut sample: String = data.chars().take(60).collect();
    if sample.len() < data.len() {
        sample.push('…');
    }
    Error::bad_answer(format!(
        "an event from the agent cannot be read ({why}): {}",
        crate::sanitize::strip_controls(&sample)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_final_event_is_told_apart_from_the_pieces() {
        let mut pieces = Pieces::default();
        for piece in ["熊猫 ", "walks", " in bamboo"] {
            pieces.push(piece);
        }
        let strip = |pieces: &Pieces, parts: &[&str]| pieces.strip_from(parts);
        assert_eq!(
            strip(&pieces, &["熊猫 walks in bamboo."]).as_deref(),
            Some(".")
        );
        assert_eq!(
            strip(&pieces, &["熊猫 walks", " in bamboo"]).as_deref(),
            Some("")
        );
        assert_eq!(
            strip(&pieces, &["熊", "猫 walks in ", "bamboo", "!", "?"]).as_deref(),
            Some("!?")
        );
        assert_eq!(strip(&pieces, &["熊猫 walks in bambo"]), None);
        assert_eq!(strip(&pieces, &["熊猫 walks in bamboO!"]), None);
        // A length inside a character is no match, not a panic.
        let mut cut = Pieces::default();
        cut.push("ab");
        assert_eq!(strip(&cut, &["熊猫"]), None);
        assert_eq!(strip(&cut, &["a", "熊猫"]), None);
        assert_eq!(
            strip(&Pieces::default(), &["all ", "new"]).as_deref(),
            Some("all new")
        );
    }

    proptest! {
        /// Pieces split anywhere (on character boundaries) match their
        /// concatenation, however the final event splits it into parts,
        /// and nothing else of the same length.
        #[test]
        fn pieces_match_their_concatenation(
            text in "\\PC{0,60}",
            cuts in proptest::collection::vec(0usize..64, 0..6),
            rest in "\\PC{0,8}",
            other in "\\PC{0,60}",
        ) {
            let mut bounds: Vec<usize> = cuts
                .into_iter()
                .map(|c| c.min(text.len()))
                .filter(|&c| text.is_char_boundary(c))
                .collect();
            bounds.sort_unstable();
            let mut pieces = Pieces::default();
            let mut at = 0;
            for cut in bounds.into_iter().chain([text.len()]) {
                pieces.push(&text[at..cut]);
                at = cut;
            }
            let whole = format!("{text}{rest}");
            let half = whole.chars().count() / 2;
            let split = whole.char_indices().nth(half).map_or(whole.len(), |(i, _)| i);
            prop_assert_eq!(pieces.strip_from(&[&whole]), Some(rest.clone()));
            prop_assert_eq!(pieces.strip_from(&[&whole[..split], &whole[split..]]), Some(rest));
            if other.len() >= text.len() && !other.starts_with(text.as_str()) {
                prop_assert_eq!(pieces.strip_from(&[&other]), None);
            }
        }
    }
}
