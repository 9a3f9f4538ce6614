//! The answers every handler shares: the `{"code","message","data"}`
//! envelope (`api.md` "Envelope"), bearer-token checks (1001), the lookup of
//! the caller's session (1002, or ADK's 404), and a plain body answer.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::{EmuState, Session, now_secs};

/// `{"code":0,"message":"success","data":…}`.
pub fn ok(data: Value) -> Response {
    axum::Json(json!({"code": 0, "message": "success", "data": data})).into_response()
}

/// `{"code":N,"message":…}` with HTTP 200, as the service answers API errors.
pub fn code(code: i64, message: &str) -> Response {
    axum::Json(json!({"code": code, "message": message, "data": null})).into_response()
}

/// The user behind the bearer token, or the answer to send instead.
pub fn authorize(st: &EmuState, headers: &HeaderMap) -> Result<String, Response> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return Err((
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"code": 1001, "message": "Missing bearer token"})),
        )
            .into_response());
    };
    let Some(record) = st.tokens.get(token.trim()) else {
        return Err(code(1001, "Invalid token"));
    };
    if record.expires_at <= now_secs() {
        return Err(code(1001, "Token expired"));
    }
    Ok(record.user_id.clone())
}

/// The session `sid` of `user`, or the not-found answer (1002 or 404).
pub fn session_of<'a>(
    st: &'a mut EmuState,
    user: &str,
    sid: &str,
) -> Result<&'a mut Session, Response> {
    let as_404 = st.faults.session_not_found_as_404;
    match st.sessions.get_mut(sid) {
        Some(session) if session.user_id == user => Ok(session),
        _ if as_404 => Err((
            StatusCode::NOT_FOUND,
            axum::Json(json!({"detail": format!("Session not found: {sid}")})),
        )
            .into_response()),
        _ => Err(code(1002, "Session not found")),
    }
}

/// A plain body answer.
pub fn bytes_response(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, content_type.to_string())],
        body.into(),
    )
        .into_response()
}
