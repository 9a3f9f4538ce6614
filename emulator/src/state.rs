//! Emulated session state: `GET /api/state/nemo_agent/me/<sid>/latest`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::answer::{authorize, ok, session_of};
use crate::server::App;

pub async fn latest(
    State(app): State<App>,
    Path((_agent, sid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut st = app.lock();
    // The agent's work under way lands when it is due.
    crate::agent::settle(&mut st);
    if st.chat.state_rate_limited > 0 {
        st.chat.state_rate_limited -= 1;
        return (
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"code": 429, "message": "Too many requests"})),
        )
            .into_response();
    }
    let user_id = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    match session_of(&mut st, &user_id, &sid) {
        Ok(session) => ok(json!({
            "session_id": session.session_id,
            "task_id": session.task_id,
            "task_name": session.task_name,
            "state": session.state,
        })),
        Err(answer) => answer,
    }
}
