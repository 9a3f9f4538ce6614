//! The forms of the agent's stream other than today's ADK events: a
//! gateway's typed events (`{"type":"text","content":…}`, `tool_call`,
//! `tool_result`, `error`; its heartbeats are read with the others in
//! `adk.rs`), and the invalid JSON error line of ADK before 1.24
//! (`../shared/spec/cli.md` "Retries"). `adk.rs` calls these; they hold no
//! state of their own.

use serde_json::Value;

use super::AgentEvent;
use super::adk::{error_text, text_of};
use crate::error::Result;

/// A gateway's typed event (`{"type": "text" | "tool_call" |
/// "tool_result" | "error", …}`), or `None` when `value` is not one.
/// `in_text` says whether the last event was typed text (the next piece
/// goes on the same message); it is kept up to date.
pub(super) fn typed_event(value: &Value, in_text: &mut bool) -> Option<Result<AgentEvent>> {
    let kind = value.get("type").and_then(Value::as_str)?.trim();
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| value.get(*k).filter(|v| !v.is_null()))
    };
    let text_field = |keys: &[&str]| field(keys).and_then(Value::as_str).map(str::to_string);
    let event = match kind.to_ascii_lowercase().as_str() {
        "text" | "text_delta" => {
            let text = text_field(&["content", "text", "delta"]).unwrap_or_default();
            let starts_message = !std::mem::replace(in_text, true);
            if text.is_empty() {
                return Some(Ok(AgentEvent::Heartbeat));
            }
            return Some(Ok(AgentEvent::Text {
                text,
                starts_message,
            }));
        }
        "tool_call" | "function_call" => AgentEvent::ToolCall {
            id: field(&["id", "call_id"]).and_then(text_of),
            name: text_field(&["name", "tool", "tool_name"]).unwrap_or_default(),
            args: field(&["args", "arguments", "input"])
                .cloned()
                .unwrap_or(Value::Null),
        },
        "tool_result" | "function_response" => AgentEvent::ToolResult {
            id: field(&["id", "call_id"]).and_then(text_of),
            name: text_field(&["name", "tool", "tool_name"]).unwrap_or_default(),
            response: field(&["response", "result", "output", "content"])
                .cloned()
                .unwrap_or(Value::Null),
        },
        "error" => AgentEvent::Error {
            code: field(&["code"]).and_then(text_of),
            message: field(&["message", "content", "error", "detail"])
                .and_then(error_text)
                .unwrap_or_else(|| "the agent failed".into()),
        },
        _ => return None,
    };
    *in_text = false;
    Some(Ok(event))
}

/// The types of a gateway's typed events (heartbeats aside).
pub(super) fn is_typed_kind(value: &Value) -> bool {
    value.as_str().is_some_and(|kind| {
        matches!(
            kind.trim().to_ascii_lowercase().as_str(),
            "text"
                | "text_delta"
                | "tool_call"
                | "function_call"
                | "tool_result"
                | "function_response"
                | "error"
        )
    })
}

/// The message of the error line ADK before 1.24 writes with an f-string
/// (`data: {"error": "<str(e)>"}`, nothing escaped): invalid JSON when the
/// message holds a quote, yet plainly an error.
pub(super) fn unescaped_error(data: &str) -> Option<String> {
    let rest = data
        .strip_prefix('{')?
        .trim_start()
        .strip_prefix("\"error\"")?
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    let rest = rest.trim_end();
    let rest = rest.strip_suffix('}').map_or(rest, str::trim_end);
    let rest = rest.strip_suffix('"').unwrap_or(rest).trim();
    Some(if rest.is_empty() {
        "the server failed while answering".to_string()
    } else {
        rest.to_string()
    })
}
