//! The decoding boundary as a whole (`../shared/spec/cli.md` "Streams"):
//! whatever string the server puts in an answer, what the decoders hand to
//! the commands as ids or printable text holds no control or bidi
//! character — it is either refused (an id, exit 9) or sanitised. The
//! reply text of the agent's stream is sanitised at print by the streaming
//! stripper, which gets its own property here.

use nemo_api::auth::AnonymousToken;
use nemo_api::ids::{data_of, is_valid_id};
use nemo_api::render::{RenderStatus, Submitted};
use nemo_api::sanitize::{Stripper, is_unsafe};
use nemo_api::sessions::NewSession;
use nemo_api::state::SessionState;
use proptest::prelude::*;
use serde_json::json;

/// Strings rich in what a hostile server would send: escape sequences in
/// 7- and 8-bit forms, controls, bidi controls, and any other text.
fn server_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\u{1b}[2J".to_string()),
        Just("\u{1b}]52;c;ZXZpbA==\u{7}".to_string()),
        Just("\u{9b}31m".to_string()),
        Just("\u{9d}0;t\u{9c}".to_string()),
        Just("\u{90}q\u{1b}\\".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{2066}".to_string()),
        "[\\x00-\\x1f\\x7f-\\u{9f}]{1,3}",
        "[a-zA-Z0-9_-]{1,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn clean(text: &str) -> bool {
    !text.chars().any(is_unsafe)
}

proptest! {
    #[test]
    fn new_session_answers(sid in server_string(), tid in server_string(), user in server_string()) {
        let body = json!({"code":0,"data":{"session_id":sid,"task_id":tid,"user_id":user}}).to_string();
        if let Ok(s) = data_of::<NewSession>(body.as_bytes(), "x") {
            prop_assert!(is_valid_id(&s.session_id));
            prop_assert!(s.task_id.as_deref().is_none_or(is_valid_id));
            prop_assert!(s.user_id.as_deref().is_none_or(clean));
        } else {
            prop_assert!(!is_valid_id(&sid) || !(tid.is_empty() || is_valid_id(&tid)));
        }
    }

    #[test]
    fn state_answers(tid in server_string(), name in server_string()) {
        let body = json!({"code":0,"data":{"session_id":"1","task_id":tid,"task_name":name,"state":{}}}).to_string();
        let s = data_of::<SessionState>(body.as_bytes(), "x").expect("a state answer is read");
        prop_assert!(s.task_id().as_deref().is_none_or(is_valid_id));
        prop_assert!(s.task_name.as_deref().is_none_or(clean));
    }

    #[test]
    fn token_and_render_answers(user in server_string(), at in server_string(), id in server_string(), status in server_string()) {
        let token: AnonymousToken = serde_json::from_value(
            json!({"token":"nmv_usr_x","user_id":user,"expires_at":at,"credits":100.0}),
        ).expect("a token answer is read");
        prop_assert!(token.user_id.as_deref().is_none_or(clean));
        prop_assert!(token.expires_at.as_deref().is_none_or(clean));
        prop_assert_eq!(token.credits, Some(100));
        let body = json!({"success":true,"data":{"id":id,"status":status}}).to_string();
        let submitted: Submitted = data_of(body.as_bytes(), "x").expect("a submit answer is read");
        prop_assert!(submitted.id.as_deref().is_none_or(is_valid_id));
        prop_assert!(submitted.status.as_deref().is_none_or(clean));
        let st = RenderStatus::from_answer(&json!({"status":"failed","error":status}))
            .expect("a status answer is read");
        prop_assert!(st.error.as_deref().is_none_or(clean));
    }

    /// Reply text streamed in pieces cut anywhere comes out clean.
    #[test]
    fn streamed_reply_text(text in server_string(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(text.len() + 1)).filter(|p| text.is_char_boundary(*p)).collect();
        points.sort_unstable();
        let mut stripper = Stripper::default();
        let mut out = String::new();
        let mut last = 0;
        for p in points.into_iter().chain([text.len()]) {
            stripper.push_into(&text[last..p], &mut out);
            last = p;
        }
        prop_assert!(clean(&out));
    }
}
