//! The control endpoints under `/_sandbox/` that tests and script authors
//! use to look inside the emulator and steer it: the requests received, the
//! fault switches (read and patch), expiring every token, setting the
//! balance. They are not part of the emulated API, are never recorded and
//! never hit by faults.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::faults::merge_faults;
use crate::server::App;

/// The control routes.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/_sandbox/requests", get(control_requests))
        .route(
            "/_sandbox/faults",
            get(control_faults).post(control_set_faults),
        )
        .route("/_sandbox/expire-tokens", post(control_expire_tokens))
        .route("/_sandbox/credits", post(control_credits))
}

async fn control_requests(State(app): State<App>) -> Response {
    axum::Json(json!(app.lock().requests)).into_response()
}

async fn control_faults(State(app): State<App>) -> Response {
    axum::Json(json!(app.lock().faults)).into_response()
}

/// Merges a JSON object of fault fields into the current faults.
async fn control_set_faults(
    State(app): State<App>,
    axum::Json(patch): axum::Json<Value>,
) -> Response {
    let mut st = app.lock();
    match merge_faults(&st.faults, &patch) {
        Ok(faults) => {
            st.faults = faults;
            axum::Json(json!(st.faults)).into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, axum::Json(json!({"detail": e}))).into_response(),
    }
}

async fn control_expire_tokens(State(app): State<App>) -> Response {
    app.lock().expire_all_tokens();
    axum::Json(json!({"ok": true})).into_response()
}

/// `POST /_sandbox/credits` `{"available": N}`: sets the balance. With the
/// bearer token of a user the emulator knows, of that user only; without
/// one, of every user, and new anonymous users start with N too. Answers
/// `{"available": N, "users": [ids]}`.
async fn control_credits(
    State(app): State<App>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(available) = body["available"].as_i64().filter(|n| *n >= 0) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"detail": "expected {\"available\": N} with N a whole number, 0 or more"}),
            ),
        )
            .into_response();
    };
    let mut st = app.lock();
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let users: Vec<String> = match bearer {
        Some(token) => match st.tokens.get(token) {
            Some(record) => vec![record.user_id.clone()],
            None => {
                return (
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"detail": "the emulator does not know this token"})),
                )
                    .into_response();
            }
        },
        None => {
            st.new_user_credits = Some(available);
            st.users.keys().cloned().collect()
        }
    };
    for id in &users {
        if let Some(user) = st.users.get_mut(id) {
            user.available = available;
        }
    }
    axum::Json(json!({"available": available, "users": users})).into_response()
}
