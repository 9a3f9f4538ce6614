//! The client's readers against the golden answers of `tests/fixtures/api/`
//! (copied from `../shared/spec/api.md`'s examples): each documented answer
//! is read into what the commands use. The emulator's answers are checked
//! against the same files in `emulator/tests/answers.rs`, so a fact the
//! client and the emulator both got wrong is caught by this third source.
//! The stream reader is checked against the recorded ADK event streams of
//! `tests/fixtures/adk/` (releases 1.22, 1.23, 1.39 and 2.13).

use bytes::Bytes;
use futures::StreamExt;
use nemo::api::auth::AnonymousToken;
use nemo::api::chat::{AgentEvent, agent_events};
use nemo::api::credits::Balance;
use nemo::api::render::{RenderState, RenderStatus, Submitted};
use nemo::api::sessions::{ClaimToken, NewSession};
use nemo::api::state::SessionState;
use nemo::api::upload::{UploadAnswer, UploadedFile};
use nemo::api::{check_envelope, status_error, unwrap_envelope};
use nemo::timeline::StateSummary;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/api/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The `data` of a fixture, read as `T` the way the client reads it.
fn data<T: DeserializeOwned>(name: &str) -> T {
    let data = unwrap_envelope(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_value(data).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn anonymous_token() {
    let token: AnonymousToken = data("anonymous_token.json");
    assert_eq!(token.token.expose(), "nmv_usr_3f9c2a");
    assert_eq!(token.user_id.as_deref(), Some("anon_7d1e"));
    assert_eq!(token.credits, Some(100));
    let expires = token.expires_at.as_deref().and_then(nemo::time::parse);
    assert_eq!(
        expires,
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_773_792_000))
    );
}

#[test]
fn session_and_claim() {
    let session: NewSession = data("session_create.json");
    assert_eq!(session.session_id, "5529798706024415232");
    assert_eq!(session.task_id.as_deref(), Some("task_8b21"));
    assert_eq!(session.user_id.as_deref(), Some("anon_7d1e"));
    let claim: ClaimToken = data("claim_token.json");
    assert_eq!(claim.claim_token, "clm_5e0a");
    assert_eq!(claim.expires_in, Some(604_800));
}

#[test]
fn credits() {
    let balance: Balance = data("credits.json");
    assert_eq!(
        balance,
        Balance {
            available: 25_000,
            frozen: 40,
            total: 25_040
        }
    );
}

#[test]
fn state_reads_as_the_documented_timeline() {
    let state: SessionState = data("state.json");
    assert_eq!(state.task_id().as_deref(), Some("task_8b21"));
    assert_eq!(state.task_name.as_deref(), Some("project"));
    let summary = StateSummary::from_state(&state.state);
    assert_eq!(
        summary.timeline.one_line(),
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Urban Dreams\" (0-3s)"
    );
    assert!(summary.timeline.has_content());
    assert_eq!((summary.uploaded, summary.generated), (0, 0));
}

#[test]
fn upload_answer() {
    let answer: UploadAnswer = data("upload.json");
    assert_eq!(answer.session_state_applied, Some(true));
    assert_eq!(answer.files.len(), 1);
    assert_eq!(
        UploadedFile::from_value(&answer.files[0]),
        UploadedFile {
            filename: Some("video.mp4".into()),
            file_type: Some("video".into()),
            duration: Some(30.5),
            width: Some(1920.0),
            height: Some(1080.0),
        }
    );
}

#[test]
fn render_submit() {
    let submitted: Submitted = data("render_submit.json");
    assert_eq!(submitted.id.as_deref(), Some("render_1773792000000"));
    assert_eq!(submitted.status.as_deref(), Some("pending"));
}

#[test]
fn both_render_status_shapes_read_alike() {
    let url = "https://cdn.example/renders/render_1773792000000.mp4";
    let nested = RenderStatus::from_answer(&fixture("render_status_data.json"));
    let flat = RenderStatus::from_answer(&fixture("render_status_flat.json"));
    let (Ok(nested), Ok(flat)) = (nested, flat) else {
        panic!("a status shape was not read");
    };
    for status in [&nested, &flat] {
        assert_eq!(status.state, RenderState::Completed);
        assert_eq!(status.progress, Some(100));
        assert_eq!(status.output_url.as_deref(), Some(url));
        assert_eq!(status.error, None);
    }
    assert_eq!(nested.size, None);
    assert_eq!(flat.size, Some(3565));
}

#[test]
fn a_failed_render() {
    let Ok(status) = RenderStatus::from_answer(&fixture("render_failed.json")) else {
        panic!("the failed status was not read");
    };
    assert_eq!(status.state, RenderState::Failed);
    assert_eq!(status.progress, Some(65));
    assert_eq!(status.output_url, None);
    assert_eq!(status.error.as_deref(), Some("Lambda render failed"));
}

#[test]
fn error_envelopes() {
    let Err(err) = check_envelope(&fixture("error_code.json")) else {
        panic!("code 1002 was taken as success");
    };
    assert_eq!(err.to_string(), "the session was not found on the server");
    let Err(err) = check_envelope(&fixture("error_render.json")) else {
        panic!("success:false was taken as success");
    };
    assert_eq!(err.to_string(), "the server refused: Render not found");
    let body = fixture("error_detail.json");
    let err = status_error(reqwest::StatusCode::NOT_FOUND, Some(&body));
    assert_eq!(err.to_string(), "the session was not found on the server");
}

#[tokio::test]
async fn an_sse_event() {
    let event = fixture("sse_event.json");
    let wire = format!("data: {event}\n\n");
    let chunks = futures::stream::iter([Ok(Bytes::from(wire))]);
    let events: Vec<AgentEvent> = agent_events(chunks)
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")))
        .collect()
        .await;
    assert_eq!(
        events,
        [AgentEvent::Text {
            text: "Generating your video now…".into(),
            starts_message: true
        }]
    );
}

/// The events of a recorded ADK stream (`tests/fixtures/adk/`), fed in
/// small network chunks as a real connection delivers them.
async fn adk_stream(name: &str) -> Vec<AgentEvent> {
    let path = format!("{}/tests/fixtures/adk/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let chunks: Vec<_> = bytes
        .chunks(37)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    agent_events(futures::stream::iter(chunks))
        .map(|e| e.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
        .await
}

fn reply_of(events: &[AgentEvent]) -> String {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn tools_of(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolCall { name, .. } => Some(format!("call {name}")),
            AgentEvent::ToolResult { name, .. } => Some(format!("result {name}")),
            _ => None,
        })
        .collect()
}

fn error_of(events: &[AgentEvent]) -> Option<String> {
    events.iter().find_map(|e| match e {
        AgentEvent::Error { message, .. } => Some(message.clone()),
        _ => None,
    })
}

/// ADK 1.22 writes its error line with an unescaped f-string: invalid JSON
/// when the message quotes a tool's name, and still an error.
#[tokio::test]
async fn adk_1_22_stream() {
    let events = adk_stream("adk-1.22.sse").await;
    assert_eq!(reply_of(&events), "Generating your video now…");
    assert_eq!(
        tools_of(&events),
        ["call render_preview", "result render_preview"]
    );
    assert_eq!(
        error_of(&events).as_deref(),
        Some(r#"Tool "render_preview" failed: timeout after 30s"#)
    );
    assert!(matches!(events.last(), Some(AgentEvent::Error { .. })));
}

/// ADK 1.23 reports a failure as an event from author `system` whose text
/// begins `Error:`: an error, not part of the reply.
#[tokio::test]
async fn adk_1_23_stream() {
    let events = adk_stream("adk-1.23.sse").await;
    assert_eq!(reply_of(&events), "Adding a title to your video.");
    assert_eq!(tools_of(&events), ["call add_title"]);
    assert_eq!(
        error_of(&events).as_deref(),
        Some("429 RESOURCE_EXHAUSTED. The model is overloaded, try again later.")
    );
}

#[tokio::test]
async fn adk_1_39_stream() {
    let events = adk_stream("adk-1.39.sse").await;
    // The thought is hidden; the final event does not repeat the pieces.
    assert_eq!(reply_of(&events), "Added lo-fi music at 35%.");
    assert_eq!(tools_of(&events), ["call add_bgm", "result add_bgm"]);
    assert_eq!(
        error_of(&events).as_deref(),
        Some(r#"Tool "export_video" failed: quota exceeded"#)
    );
}

#[tokio::test]
async fn adk_2_13_stream() {
    let events = adk_stream("adk-2.13.sse").await;
    assert_eq!(reply_of(&events), "Trimming the clip to 8 seconds.");
    assert_eq!(tools_of(&events), ["call trim", "result trim"]);
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Heartbeat))
            .count(),
        2
    );
    assert_eq!(
        events.last(),
        Some(&AgentEvent::Error {
            code: Some("MALFORMED_FUNCTION_CALL".into()),
            message: "The model produced a malformed function call.".into()
        })
    );
}
