//! The fault switches ([`Faults`]): what they are, their defaults, how a
//! patch of them is merged (`--fault`, `POST /_sandbox/faults`, a faults
//! file: [`crate::scenario`]), and the
//! counting faults (429, 502) that answer before any handler runs. The
//! switches of one part (agent, upload, render) live beside that part and
//! are flattened in here; each handler reads its own.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::server::App;
use crate::{agent, render, upload};

/// Fault switches. Counters (`*_next`) apply to the next N requests and
/// count down; booleans stay on until switched off.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// The next N requests answer HTTP 429.
    pub rate_limit_next: u32,
    /// `Retry-After` seconds sent with those 429s (none when unset).
    pub retry_after: Option<u64>,
    /// The next N requests answer HTTP 502 with an HTML page from a "proxy".
    pub server_error_next: u32,
    /// One anonymous token per client id per 7 days (HTTP 429 after that)
    /// while the last one is still valid.
    pub token_rate_limit: bool,
    /// Anonymous tokens per IP per 7 days.
    pub ip_token_limit: u32,
    /// Answer an unknown session with HTTP 404 `{"detail"}` (ADK style)
    /// instead of code 1002.
    pub session_not_found_as_404: bool,
    /// Work that costs credits answers 2001.
    pub no_credits: bool,
    /// Token issue answers 400 to every client id (as if it were missing).
    pub reject_client_id: bool,
    #[serde(flatten)]
    pub chat: agent::ChatFaults,
    #[serde(flatten)]
    pub upload: upload::UploadFaults,
    #[serde(flatten)]
    pub render: render::RenderFaults,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate_limit_next: 0,
            retry_after: None,
            server_error_next: 0,
            token_rate_limit: true,
            ip_token_limit: 10,
            session_not_found_as_404: false,
            no_credits: false,
            reject_client_id: false,
            chat: Default::default(),
            upload: Default::default(),
            render: Default::default(),
        }
    }
}

/// How long the agent and renders take: the timing switches together, so
/// a caller can make the emulator quick for a while and put the old pace
/// back before its state is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub chat_pace_ms: u64,
    pub chat_tool_ms: u64,
    pub chat_keepalive_ms: u64,
    pub chat_late_ms: u64,
    pub render_ms: u64,
}

impl Pace {
    /// Tens of milliseconds where the default takes seconds: events 2 ms
    /// apart, a generation of 60 ms, renders of 100 ms (still long enough
    /// to be seen pending by a status read that follows a submit at once).
    pub const QUICK: Pace = Pace {
        chat_pace_ms: 2,
        chat_tool_ms: 60,
        chat_keepalive_ms: 20,
        chat_late_ms: 100,
        render_ms: 100,
    };
}

impl Faults {
    /// The pace in force.
    pub fn pace(&self) -> Pace {
        Pace {
            chat_pace_ms: self.chat.chat_pace_ms,
            chat_tool_ms: self.chat.chat_tool_ms,
            chat_keepalive_ms: self.chat.chat_keepalive_ms,
            chat_late_ms: self.chat.chat_late_ms,
            render_ms: self.render.render_ms,
        }
    }

    /// Puts `pace` in force and returns the one it replaces.
    pub fn set_pace(&mut self, pace: Pace) -> Pace {
        let old = self.pace();
        self.chat.chat_pace_ms = pace.chat_pace_ms;
        self.chat.chat_tool_ms = pace.chat_tool_ms;
        self.chat.chat_keepalive_ms = pace.chat_keepalive_ms;
        self.chat.chat_late_ms = pace.chat_late_ms;
        self.render.render_ms = pace.render_ms;
        old
    }
}

/// `faults` with the fields of `patch` replaced.
pub fn merge_faults(faults: &Faults, patch: &Value) -> Result<Faults, String> {
    let mut current = serde_json::to_value(faults).map_err(|e| e.to_string())?;
    let (Some(target), Some(patch)) = (current.as_object_mut(), patch.as_object()) else {
        return Err("faults must be a JSON object".into());
    };
    for (key, value) in patch {
        let key = key.replace('-', "_");
        if key == "render_seconds" {
            // The render time in seconds, for people.
            let secs = value
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or("render_seconds must be a number of seconds")?;
            target.insert("render_ms".into(), json!((secs * 1000.0).round() as u64));
            continue;
        }
        let Some(default) = target.get(&key).cloned() else {
            return Err(format!("unknown fault {key:?}"));
        };
        target.insert(key.clone(), value.clone());
        // Each value checked as it comes, so the sentence can name it.
        if serde_json::from_value::<Faults>(Value::Object(target.clone())).is_err() {
            return Err(format!(
                "fault {key} must be {} (not {value})",
                expected(&default)
            ));
        }
    }
    serde_json::from_value(current).map_err(|e| e.to_string())
}

/// What a switch takes, said from its default value's JSON type.
fn expected(default: &Value) -> &'static str {
    match default {
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_u64() => "a whole number, 0 or more",
        Value::Number(n) if n.is_i64() => "a whole number",
        Value::Number(_) => "a number",
        Value::Array(_) => "a JSON list such as [1, 3]",
        Value::String(_) => "text",
        // The optional switches are all counts or seconds.
        Value::Null => "a whole number, 0 or more (or null)",
        Value::Object(_) => "a JSON object",
    }
}

/// A counting fault due for this request, if any (and counts it down):
/// HTTP 429 with its `Retry-After` seconds, or HTTP 502.
pub(crate) fn take_counting(app: &App) -> Option<(StatusCode, Option<u64>)> {
    let mut st = app.lock();
    if st.faults.rate_limit_next > 0 {
        st.faults.rate_limit_next -= 1;
        Some((StatusCode::TOO_MANY_REQUESTS, st.faults.retry_after))
    } else if st.faults.server_error_next > 0 {
        st.faults.server_error_next -= 1;
        Some((StatusCode::BAD_GATEWAY, None))
    } else {
        None
    }
}

/// The answer of a counting fault, after reading (and dropping) the whole
/// body, as a real gateway does, so a client streaming a large upload sees
/// the answer and not a connection reset.
pub(crate) async fn answer(fault: (StatusCode, Option<u64>), request: Request) -> Response {
    let mut body = request.into_body().into_data_stream();
    while let Some(Ok(_)) = futures::StreamExt::next(&mut body).await {}
    match fault {
        (StatusCode::TOO_MANY_REQUESTS, retry_after) => {
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(json!({"code": 429, "message": "Too many requests"})),
            )
                .into_response();
            if let Some(secs) = retry_after
                && let Ok(value) = HeaderValue::from_str(&secs.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        (status, _) => (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
        )
            .into_response(),
    }
}
