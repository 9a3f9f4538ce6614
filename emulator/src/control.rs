//! The control endpoints under `/_sandbox/` that tests and script authors
//! use to look inside the emulator and steer it: the requests received, the
//! fault switches (read and patch), expiring every token. They are not part
//! of the emulated API, are never recorded and never hit by faults.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
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
