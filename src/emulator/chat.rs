//! Emulated agent: `POST /run_sse`, a scripted ADK agent that answers with
//! real ADK-shaped SSE events (camelCase, with the fields the client must
//! ignore), edits the session's draft through tool calls, and misbehaves
//! the ways the real service does.
//!
//! The script is picked by keywords in the message:
//!
//! | message contains | the agent |
//! |---|---|
//! | `generate`, `create`, `make`, 生成 | streams a short plan, calls `generate_video` (slow, keep-alives meanwhile), adds video, BGM and title tracks, costs `chat_generate_cost` credits (2001 before the run when there are too few) |
//! | `title`, 标题 | adds or renames the title silently: tool calls, no text |
//! | `nothing` | runs a tool that changes nothing, no text |
//! | `silent` | runs a tool that changes the state but nothing visible, no text |
//! | `export`, `download`, `gui`, 导出 | talks as if there were a GUI ("click the Export button"), in Chinese when asked in Chinese |
//! | `temporary` | a normal reply, then "I encountered a temporary issue…" |
//! | `think` | thought parts (hidden), then a reply |
//! | `escape` | text with terminal control sequences |
//! | `chinese`, `中文` | Chinese text, with events split inside UTF-8 characters |
//! | `error` | a partial reply, then an `errorCode`/`errorMessage` event |
//! | `crash` | a partial reply, then `data: {"error": …}` and the end |
//! | `garbled` | a reply with an event that is not JSON in the middle |
//! | anything else | a greeting, streamed as partial pieces then the final event |
//!
//! The switches of [`ChatFaults`] change every reply: pacing, dropped
//! connections (the agent's work still lands in the state later), only
//! keep-alives, endless replies, CRLF, and 1001/1002 JSON answers before the
//! run. Edits are recorded with the wall-clock time at which they land
//! ([`PendingEdit`]) and applied when the state is next read, so `--sandbox`
//! works across processes.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{App, EmuState, authorize, code, now_millis, session_of};

/// Fault switches of the agent (flattened into [`super::Faults`]).
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
    /// Milliseconds the agent takes before it starts answering at all (no
    /// headers, no keep-alives).
    pub chat_headers_delay_ms: u64,
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
            chat_headers_delay_ms: 0,
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

/// The edits the scripted agent knows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Edit {
    /// A generated clip, with BGM and a title when the draft has none.
    Generate {
        prompt: String,
        subject: String,
        title: String,
    },
    /// Adds the title track, or renames its first title.
    SetTitle { text: String },
    /// Changes the state but nothing visible on the timeline.
    Analyse,
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
            apply(&mut session.state, &pending.edit, seq);
        }
    }
}

/// How many received messages are kept.
const MAX_RUNS: usize = 1000;

/// Where generated clips pretend to live (never fetched).
const MEDIA_BASE: &str = "https://cdn.nemo.test/media";

fn apply(state: &mut Value, edit: &Edit, seq: u64) {
    if !state.is_object() {
        *state = json!({});
    }
    if !state.get("draft").is_some_and(Value::is_object) {
        state["draft"] = json!({"t": [], "d": 0, "m": {}});
    }
    if !state["draft"].get("t").is_some_and(Value::is_array) {
        state["draft"]["t"] = json!([]);
    }
    match edit {
        Edit::Generate {
            prompt,
            subject,
            title,
        } => {
            let url = format!("{MEDIA_BASE}/gen_{seq}.mp4");
            let Some(tracks) = tracks_mut(state) else {
                return;
            };
            let video = match tracks.iter().position(|t| t["tt"] == 0) {
                Some(i) => i,
                None => {
                    tracks.insert(0, json!({"tt": 0, "sg": []}));
                    0
                }
            };
            let start: i64 = tracks[video]["sg"]
                .as_array()
                .map(|s| s.iter().filter_map(|s| s["d"].as_i64()).sum())
                .unwrap_or(0);
            if let Some(segments) = tracks[video]["sg"].as_array_mut() {
                segments.push(json!({
                    "id": format!("seg_v{seq}"), "st": start, "d": 10000,
                    "m": {"name": subject, "url": url, "type": "video"}
                }));
            }
            if !tracks.iter().any(|t| t["tt"] == 1) {
                tracks.push(json!({"tt": 1, "m": {"type": "music"}, "sg": [{
                    "id": format!("seg_a{seq}"), "st": 0, "d": 10000,
                    "m": {"name": "Lo-fi", "type": "music", "volume": 0.35}
                }]}));
            }
            if !tracks.iter().any(|t| t["tt"] == 7) {
                tracks.push(json!({"tt": 7, "sg": [{
                    "id": format!("seg_t{seq}"), "st": 0, "d": 3000,
                    "m": {"text": title, "type": "title"}
                }]}));
            }
            let end = start + 10000;
            if state["draft"]["d"].as_i64().unwrap_or(0) < end {
                state["draft"]["d"] = json!(end);
            }
            let media = json!({"id": format!("gen_{seq}"), "type": "video", "url": url, "duration": 10, "prompt": prompt});
            match state
                .get_mut("generated_media")
                .and_then(Value::as_array_mut)
            {
                Some(list) => list.push(media),
                None => state["generated_media"] = json!([media]),
            }
        }
        Edit::SetTitle { text } => {
            let Some(tracks) = tracks_mut(state) else {
                return;
            };
            let existing = tracks
                .iter_mut()
                .find(|t| t["tt"] == 7)
                .and_then(|t| t["sg"].as_array_mut())
                .and_then(|s| s.first_mut());
            match existing {
                Some(segment) => segment["m"]["text"] = json!(text),
                None => tracks.push(json!({"tt": 7, "sg": [{
                    "id": format!("seg_t{seq}"), "st": 0, "d": 3000,
                    "m": {"text": text, "type": "title"}
                }]})),
            }
        }
        Edit::Analyse => {
            if !state.get("video_analyses").is_some_and(Value::is_object) {
                state["video_analyses"] = json!({});
            }
            state["video_analyses"][format!("analysis_{seq}")] =
                json!({"summary": "pacing looks fine", "at": now_millis()});
        }
    }
}

fn tracks_mut(state: &mut Value) -> Option<&mut Vec<Value>> {
    state.get_mut("draft")?.get_mut("t")?.as_array_mut()
}

/// One step of a reply.
#[derive(Debug, Clone)]
enum Step {
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
struct Script {
    steps: Vec<Step>,
    invocation: String,
    pace: u64,
    keepalive: u64,
    crlf: bool,
    seq: u32,
}

impl Script {
    fn new(faults: &ChatFaults) -> Script {
        Script {
            steps: Vec::new(),
            invocation: format!("e-{}", uuid::Uuid::new_v4()),
            pace: faults.chat_pace_ms,
            keepalive: faults.chat_keepalive_ms.max(1),
            crlf: faults.chat_crlf,
            seq: 0,
        }
    }

    fn event(&mut self, role: &str, parts: Value, partial: Option<bool>) -> Value {
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

    fn push(&mut self, event: Value) {
        if !self.steps.is_empty() {
            self.steps.push(Step::Sleep(self.pace));
        }
        self.steps.push(Step::Event(event));
    }

    /// A whole message in one final event.
    fn say(&mut self, text: &str) {
        let event = self.event("model", json!([{"text": text}]), Some(false));
        self.push(event);
    }

    /// A message streamed as partial pieces, then the aggregated event.
    fn stream(&mut self, pieces: &[&str]) {
        for piece in pieces {
            let event = self.event("model", json!([{"text": piece}]), Some(true));
            self.push(event);
        }
        self.say(&pieces.concat());
    }

    fn tool(
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

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The subject of a generation request: what follows "of", else the
/// message after its first word.
fn subject_of(message: &str) -> String {
    let lower = message.to_lowercase();
    let subject = match lower.find(" of ") {
        Some(i) => &message[i + 4..],
        None => message
            .split_once(char::is_whitespace)
            .map(|(_, rest)| rest)
            .unwrap_or(message),
    };
    let subject: String = subject.trim().chars().take(48).collect();
    if subject.is_empty() {
        "a short clip".into()
    } else {
        subject
    }
}

fn title_case(subject: &str) -> String {
    subject
        .split_whitespace()
        .filter(|w| !matches!(w.to_lowercase().as_str(), "a" | "an" | "the"))
        .take(3)
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The title asked for: quoted text, else what follows "title"/标题.
fn title_of(message: &str) -> String {
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('\'', '\'')] {
        if let Some(start) = message.find(open) {
            let rest = &message[start + open.len_utf8()..];
            if let Some(end) = rest.find(close)
                && end > 0
            {
                return rest[..end].trim().to_string();
            }
        }
    }
    let lower = message.to_lowercase();
    let after = lower
        .find("title")
        .map(|i| &message[i + "title".len()..])
        .or_else(|| message.find("标题").map(|i| &message[i + "标题".len()..]));
    let text = after
        .unwrap_or("")
        .trim_start_matches([':', '：'])
        .trim()
        .trim_start_matches("saying")
        .trim();
    if text.is_empty() {
        "Untitled".into()
    } else {
        text.chars().take(40).collect()
    }
}

enum Plan {
    Generate,
    Other,
}

fn script_for(message: &str, faults: &ChatFaults) -> (Script, Plan) {
    let lower = message.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let mut s = Script::new(faults);
    let mut plan = Plan::Other;
    if has(&["error"]) {
        s.stream(&["Let me ", "look at "]);
        let mut event = s.event("model", json!([]), None);
        event["errorCode"] = json!("RESOURCE_EXHAUSTED");
        event["errorMessage"] = json!("The model is overloaded. Please try again later.");
        if let Some(fields) = event.as_object_mut() {
            fields.remove("content");
        }
        s.push(event);
    } else if has(&["garbled"]) {
        s.say("Before ");
        s.steps.push(Step::Sleep(s.pace));
        s.steps
            .push(Step::Raw(eol("data: {\"content\": oops\n\n", s.crlf)));
        s.say("after.");
    } else if has(&["crash"]) {
        s.say("Working on it…");
        s.push(json!({"error": "Internal server error: the agent crashed"}));
    } else if has(&["generate", "create", "make", "生成"]) {
        plan = Plan::Generate;
        let subject = subject_of(message);
        let title = title_case(&subject);
        s.stream(&["I'll generate ", "a 10-second video of ", &subject, " now…"]);
        s.tool(
            "generate_video",
            json!({"prompt": message, "duration": 10}),
            json!({"status": "success", "duration": 10}),
            Some(faults.chat_tool_ms),
            Some(Edit::Generate {
                prompt: message.into(),
                subject: subject.clone(),
                title: title.clone(),
            }),
        );
        s.tool(
            "add_background_music",
            json!({"style": "lo-fi", "volume": 0.35}),
            json!({"status": "success"}),
            None,
            None,
        );
        s.tool(
            "add_title",
            json!({"text": title}),
            json!({"status": "success"}),
            None,
            None,
        );
        s.stream(&[
            "Your video is ready: ",
            &format!("a 10-second clip of {subject}, "),
            &format!("with lo-fi music and the title \"{title}\"."),
        ]);
    } else if has(&["title", "标题"]) {
        let text = title_of(message);
        s.tool(
            "add_title",
            json!({"text": text, "duration": 3}),
            json!({"status": "success"}),
            None,
            Some(Edit::SetTitle { text }),
        );
    } else if has(&["nothing"]) {
        s.tool(
            "check_timeline",
            json!({}),
            json!({"status": "success", "changed": false}),
            None,
            None,
        );
    } else if has(&["silent"]) {
        s.tool(
            "analyze_video",
            json!({}),
            json!({"status": "success"}),
            None,
            Some(Edit::Analyse),
        );
    } else if has(&["export", "download", "gui", "导出"]) {
        if has_cjk(message) {
            s.stream(&[
                "视频已经在时间线上了。",
                "请点击右上角的「导出」按钮下载视频。",
            ]);
        } else {
            s.stream(&[
                "Your video is on the timeline. ",
                "Preview it in the timeline panel, ",
                "then click the Export button in the top right corner to download the MP4.",
            ]);
        }
    } else if has(&["temporary"]) {
        s.stream(&["Done! ", "I trimmed the intro to 3 seconds."]);
        s.say("I encountered a temporary issue. Please try again later.");
    } else if has(&["think"]) {
        let event = s.event(
            "model",
            json!([{"text": "The user wants ideas. SECRET-THOUGHT", "thought": true}, {"text": "Here are three ideas: a sunrise, a panda, a city at night."}]),
            Some(false),
        );
        s.push(event);
    } else if has(&["escape"]) {
        s.say("Here is \u{1b}[31mred\u{1b}[0m text\u{7} and a \u{1b}]0;pwned\u{7}title.");
    } else if has(&["chinese", "中文"]) || has_cjk(message) {
        for piece in ["你好！", "我是视频助手 🐼，", "告诉我你想做什么视频。"]
        {
            let event = s.event("model", json!([{"text": piece}]), Some(true));
            let bytes = sse_bytes(&event, s.crlf);
            // Cut inside the first multi-byte character, with a pause so the
            // halves reach the client as separate reads.
            let cut = bytes.iter().position(|b| *b >= 0x80).map_or(1, |i| i + 1);
            if !s.steps.is_empty() {
                s.steps.push(Step::Sleep(s.pace));
            }
            s.steps.push(Step::Raw(bytes[..cut].to_vec()));
            s.steps.push(Step::Sleep(s.pace.max(5)));
            s.steps.push(Step::Raw(bytes[cut..].to_vec()));
        }
        s.say("你好！我是视频助手 🐼，告诉我你想做什么视频。");
    } else {
        s.stream(&[
            "Hi! I'm ",
            "NemoVideo's agent. ",
            "Tell me what video to make — ",
            "for example \"a panda in a bamboo forest\".",
        ]);
    }
    (s, plan)
}

/// The reply's steps with the faults applied.
fn shape(mut script: Script, faults: &ChatFaults) -> Vec<Step> {
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

fn sse_bytes(event: &Value, crlf: bool) -> Vec<u8> {
    let text = format!("data: {event}\n\n");
    eol(&text, crlf)
}

fn eol(text: &str, crlf: bool) -> Vec<u8> {
    if crlf {
        text.replace('\n', "\r\n").into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

/// The reply as a body stream: chunks with pauses; an error breaks the
/// connection (no final chunk), as a dropped connection does.
fn reply_body(steps: Vec<Step>, crlf: bool) -> Body {
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
    if st.faults.chat.chat_token_expired_next > 0 {
        st.faults.chat.chat_token_expired_next -= 1;
        let past = super::now_secs().saturating_sub(1);
        for token in st.tokens.values_mut().filter(|t| t.user_id == user_id) {
            token.expires_at = past;
        }
        return Err(code(1001, "Token expired"));
    }
    if st.faults.chat.chat_session_lost_next > 0 {
        st.faults.chat.chat_session_lost_next -= 1;
        st.sessions.remove(&session_id);
    }
    session_of(&mut st, &user_id, &session_id)?;
    let faults = st.faults.chat.clone();
    let (script, plan) = script_for(&message, &faults);
    if matches!(plan, Plan::Generate) {
        let no_credits = st.faults.no_credits;
        let Some(user) = st.users.get_mut(&user_id) else {
            return Err(code(1001, "Invalid token"));
        };
        if no_credits || user.available < faults.chat_generate_cost {
            return Err(code(2001, "Insufficient credits"));
        }
        user.available -= faults.chat_generate_cost;
    }
    let steps = schedule(&mut st, &session_id, shape(script, &faults));
    Ok((steps, faults))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::Timeline;

    #[test]
    fn a_generation_adds_video_bgm_and_title() {
        let mut state = super::super::accounts::empty_state("p");
        apply(
            &mut state,
            &Edit::Generate {
                prompt: "generate a panda".into(),
                subject: "a panda".into(),
                title: "Panda".into(),
            },
            1,
        );
        assert_eq!(
            Timeline::from_draft(&state["draft"]).one_line(),
            "Timeline (3 tracks): 1. Video: a panda (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Panda\" (0-3s)"
        );
        assert_eq!(state["generated_media"].as_array().map(Vec::len), Some(1));
        apply(&mut state, &Edit::SetTitle { text: "New".into() }, 2);
        assert!(
            Timeline::from_draft(&state["draft"])
                .one_line()
                .contains("\"New\"")
        );
    }

    #[test]
    fn titles_and_subjects_from_messages() {
        assert_eq!(title_of("add a title \"Paradise Found\""), "Paradise Found");
        assert_eq!(title_of("add a title: Paradise Found"), "Paradise Found");
        assert_eq!(title_of("添加标题「天堂」"), "天堂");
        assert_eq!(
            subject_of("generate a video of a panda eating"),
            "a panda eating"
        );
        assert_eq!(title_case("a panda eating bamboo"), "Panda Eating Bamboo");
    }
}
