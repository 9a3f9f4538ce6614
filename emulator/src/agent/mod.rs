//! Emulated agent: `POST /run_sse`, a scripted ADK agent that answers with
//! real ADK-shaped SSE events (camelCase, with the fields the client must
//! ignore), edits the session's draft through tool calls, and misbehaves
//! the ways the real service does.
//!
//! The script follows the message's intent, in English or Chinese, read
//! from the shape of the request and never from a word anywhere in it
//! ([`intent`]); it answers in the session's language ([`lang`]):
//!
//! | the message asks to | the agent | costs |
//! |---|---|---|
//! | generate ("generate a 10-second video of a panda…", 生成一个10秒的熊猫视频) | streams a plan, calls `generate_video` (slow, keep-alives meanwhile), adds video, BGM and title tracks, reports | `chat_generate_cost` |
//! | change the music ("make the music quieter", louder, "set the music to 20%", mute, 音量) | sets the BGM volume, says so | `chat_edit_cost` |
//! | add music ("add background music") | adds (or restyles) the BGM track, says so | `chat_edit_cost` |
//! | add or change the title ("add a title: Paradise Found", "change the title to …") | edits the title track **silently**: tool calls, no text | `chat_edit_cost` |
//! | remove the title | deletes the title track, says so | `chat_edit_cost` |
//! | change the duration ("make it 5 seconds") | stretches or shrinks the timeline, says so | `chat_edit_cost` |
//! | trim ("trim the first 2 seconds") | cuts the timeline, says so | `chat_edit_cost` |
//! | check or analyse the video | changes the state, nothing visible, **silently** | free |
//! | do nothing | runs a tool that changes nothing, silently | free |
//! | export or download | talks as if there were a GUI ("click the Export button") | free |
//! | ideas | thought parts (hidden), then ideas | free |
//! | what it can do, hello, speak Chinese | a plain answer (Chinese greetings cut inside UTF-8 characters) | free |
//! | an edit it cannot place ("fix the typo in the title", trim without a number), or anything else | a clarifying question | free |
//!
//! An edit of a session without video says there is nothing to edit yet and
//! suggests a generation (free). Too few credits for the run's cost: 2001
//! before the run.
//!
//! Simulated failures are switched by fault switches or by a marker in the
//! message that cannot occur in ordinary text: `[[sandbox:crash]]` (a
//! partial reply, then `data: {"error": …}`), `[[sandbox:quota]]` (alias
//! `error`: an `errorCode` event), `[[sandbox:drop]]` (the connection drops
//! after the first event, the work goes on), `[[sandbox:silent]]` (the text
//! goes), `[[sandbox:garbled]]` (an event that is not JSON),
//! `[[sandbox:escape]]` (terminal control sequences),
//! `[[sandbox:temporary]]` ("I encountered a temporary issue…" at the end),
//! `[[sandbox:heartbeats]]` (only keep-alives, a lost run).
//!
//! The switches of [`ChatFaults`] change every reply: pacing, dropped
//! connections (the agent's work still lands in the state later), only
//! keep-alives, endless replies, CRLF, and 1001/1002 JSON answers before the
//! run. Edits are recorded with the wall-clock time at which they land
//! ([`PendingEdit`]) and applied when the state is next read, so `--sandbox`
//! works across processes.
//!
//! This module owns the endpoint, the agent's state and its fault switches;
//! `script` decides what to do with a message, `edits` changes the draft,
//! `wire` writes the SSE stream.

mod edits;
mod english;
pub mod intent;
pub mod lang;
mod script;
mod wire;

use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use edits::Edit;
pub use script::Plan;
use script::script_for;
use wire::{Step, reply_body, shape};

use crate::answer::{authorize, code, session_of};
use crate::model::{EmuState, now_millis, now_secs};
use crate::server::App;

/// Fault switches of the agent (flattened into [`crate::Faults`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatFaults {
    /// Milliseconds between the agent's events.
    pub chat_pace_ms: u64,
    /// How long a slow tool (a generation) runs, sending keep-alives.
    pub chat_tool_ms: u64,
    /// Milliseconds between keep-alives.
    pub chat_keepalive_ms: u64,
    /// Every reply's connection drops after its first event; the agent goes
    /// on, and its edits land in the state `chat_late_ms` later.
    pub chat_drop_stream: bool,
    /// See `chat_drop_stream`.
    pub chat_late_ms: u64,
    /// Replies send nothing but keep-alives, for ten minutes (a lost run).
    pub chat_heartbeats_only: bool,
    /// Replies never end: a dot of text every `chat_pace_ms`.
    pub chat_endless: bool,
    /// Lines end with CRLF.
    pub chat_crlf: bool,
    /// The next N messages find the token expired: every token of the user
    /// expires and the answer is 1001 (JSON, before the run).
    pub chat_token_expired_next: u32,
    /// The next N messages find the session gone: it is forgotten and the
    /// answer is 1002 (or 404 with `session_not_found_as_404`).
    pub chat_session_lost_next: u32,
    /// Credits one generation costs.
    pub chat_generate_cost: i64,
    /// Credits one edit costs (music, title, duration, trim).
    pub chat_edit_cost: i64,
    /// Scenario: the replies to these messages (1 = the first message the
    /// agent answers, counted from the scenario's start) drop their stream
    /// after the first event, as `chat_drop_stream` does.
    pub chat_drop_on: Vec<u64>,
    /// Milliseconds the agent takes before it starts answering at all (no
    /// headers, no keep-alives).
    pub chat_headers_delay_ms: u64,
    /// The next N messages answer HTTP 429 before any run starts (nothing
    /// charged), as a gateway in front of `/run_sse` does.
    pub chat_rate_limit_next: u32,
    /// After each message the agent takes (and charges), the next N state
    /// reads answer HTTP 429: the work is paid for, its result unread.
    pub chat_state_rate_limit_after: u32,
}

impl Default for ChatFaults {
    fn default() -> Self {
        ChatFaults {
            chat_pace_ms: 40,
            chat_tool_ms: 1200,
            chat_keepalive_ms: 200,
            chat_drop_stream: false,
            chat_late_ms: 300,
            chat_heartbeats_only: false,
            chat_endless: false,
            chat_crlf: false,
            chat_token_expired_next: 0,
            chat_session_lost_next: 0,
            chat_generate_cost: 100,
            chat_edit_cost: 50,
            chat_drop_on: Vec::new(),
            chat_headers_delay_ms: 0,
            chat_rate_limit_next: 0,
            chat_state_rate_limit_after: 0,
        }
    }
}

/// What the agent has received and what it is still doing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatState {
    /// Every message `/run_sse` received, oldest first (also those answered
    /// with an error before the run).
    pub runs: Vec<RunRecord>,
    /// Edits under way, applied to their session when due.
    pub pending: Vec<PendingEdit>,
    /// Messages answered (past the checks before the run) since the
    /// scenario started: what `chat_drop_on` counts.
    pub answered: u64,
    /// State reads still to answer HTTP 429 (`chat_state_rate_limit_after`).
    pub state_rate_limited: u32,
}

/// One `/run_sse` request as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The raw body, parsed.
    pub body: Value,
    pub at_ms: u64,
}

/// An edit the agent makes to a session's state at `apply_at_ms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingEdit {
    pub session_id: String,
    pub apply_at_ms: u64,
    pub edit: Edit,
}

pub fn routes() -> Router<App> {
    Router::new().route("/run_sse", post(run_sse))
}

/// Applies every pending edit that is due. Called before the state is read.
pub fn settle(st: &mut EmuState) {
    let now = now_millis();
    let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut st.chat.pending)
        .into_iter()
        .partition(|p| p.apply_at_ms <= now);
    st.chat.pending = later;
    for pending in due {
        let seq = st.next_seq();
        if let Some(session) = st.sessions.get_mut(&pending.session_id) {
            edits::apply(&mut session.state, &pending.edit, seq);
        }
    }
}

/// How many received messages are kept.
const MAX_RUNS: usize = 1000;

/// Registers the script's edits with the wall-clock time they land, and
/// returns what goes on the wire.
fn schedule(st: &mut EmuState, session_id: &str, steps: Vec<Step>) -> Vec<Step> {
    let start = now_millis();
    let mut offset = 0;
    let mut wire = Vec::new();
    for step in steps {
        match step {
            Step::Sleep(ms) => {
                offset += ms;
                wire.push(Step::Sleep(ms));
            }
            Step::Apply(edit) => st.chat.pending.push(PendingEdit {
                session_id: session_id.to_string(),
                apply_at_ms: start + offset,
                edit,
            }),
            other => wire.push(other),
        }
    }
    // Nothing is sent after a drop.
    if let Some(i) = wire.iter().position(|s| matches!(s, Step::Drop)) {
        wire.truncate(i + 1);
    }
    wire
}

fn unprocessable(detail: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(json!({"detail": [{"type": "value_error", "loc": ["body"], "msg": detail}]})),
    )
        .into_response()
}

/// `POST /run_sse`.
async fn run_sse(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let (steps, faults) = match start_run(&app, &headers, &body) {
        Ok(run) => run,
        Err(answer) => return answer,
    };
    if faults.chat_headers_delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.chat_headers_delay_ms)).await;
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        reply_body(steps, faults.chat_crlf),
    )
        .into_response()
}

/// Checks the request and picks the reply, or the answer to send instead
/// (the JSON errors that come before any run).
fn start_run(
    app: &App,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Vec<Step>, ChatFaults), Response> {
    let mut st = app.lock();
    settle(&mut st);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    if let Some(body) = &parsed {
        // Kept for tests and `--sandbox` inspection; the oldest go first.
        if st.chat.runs.len() >= MAX_RUNS {
            st.chat.runs.remove(0);
        }
        st.chat.runs.push(RunRecord {
            body: body.clone(),
            at_ms: now_millis(),
        });
    }
    let user_id = authorize(&st, headers)?;
    let Some(body) = parsed else {
        return Err(unprocessable("the body must be JSON"));
    };
    if body["app_name"] != "nemo_agent" {
        return Err((
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": "App not found"})),
        )
            .into_response());
    }
    let (Some(session_id), Some(message)) = (
        body["session_id"].as_str(),
        body["new_message"]["parts"][0]["text"].as_str(),
    ) else {
        return Err(unprocessable(
            "session_id and new_message.parts[0].text are required",
        ));
    };
    if body["new_message"]["role"] != "user" {
        return Err(unprocessable("new_message.role must be \"user\""));
    }
    let (session_id, message) = (session_id.to_string(), message.to_string());
    if st.faults.chat.chat_rate_limit_next > 0 {
        st.faults.chat.chat_rate_limit_next -= 1;
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"code": 429, "message": "Too many requests"})),
        )
            .into_response());
    }
    if st.faults.chat.chat_token_expired_next > 0 {
        st.faults.chat.chat_token_expired_next -= 1;
        let past = now_secs().saturating_sub(1);
        for token in st.tokens.values_mut().filter(|t| t.user_id == user_id) {
            token.expires_at = past;
        }
        return Err(code(1001, "Token expired"));
    }
    if st.faults.chat.chat_session_lost_next > 0 {
        st.faults.chat.chat_session_lost_next -= 1;
        st.sessions.remove(&session_id);
    }
    let session = session_of(&mut st, &user_id, &session_id)?;
    let (language, state) = (session.language.clone(), session.state.clone());
    let mut faults = st.faults.chat.clone();
    let decision = script_for(&message, &language, &state, &faults);
    let cost = match decision.plan {
        Plan::Generate => faults.chat_generate_cost,
        Plan::Edit => faults.chat_edit_cost,
        Plan::Free => 0,
    };
    if cost > 0 {
        let no_credits = st.faults.no_credits;
        let Some(user) = st.users.get_mut(&user_id) else {
            return Err(code(1001, "Invalid token"));
        };
        if no_credits || user.available < cost {
            return Err(code(2001, "Insufficient credits"));
        }
        user.available -= cost;
    }
    st.chat.answered += 1;
    st.chat.state_rate_limited = faults.chat_state_rate_limit_after;
    if faults.chat_drop_on.contains(&st.chat.answered) || decision.drop {
        faults.chat_drop_stream = true;
    }
    if decision.heartbeats {
        faults.chat_heartbeats_only = true;
    }
    let script = decision.script;
    let steps = schedule(&mut st, &session_id, shape(script, &faults));
    Ok((steps, faults))
}
