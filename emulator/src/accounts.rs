//! Emulated accounts: anonymous tokens (with their rate limits), credits,
//! session creation and claim links.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::answer::{authorize, code, ok};
use crate::model::{
    Claim, ClientRecord, Session, TOKEN_LIFETIME_SECS, TokenRecord, User, now_secs, rfc3339,
};
use crate::server::App;

/// `POST /api/auth/anonymous-token` with `X-Client-Id`.
pub async fn anonymous_token(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let client_id = headers
        .get("x-client-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let mut st = app.lock();
    let Some(client_id) = client_id.filter(|_| !st.faults.reject_client_id) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"detail": "X-Client-Id header is required"})),
        )
            .into_response();
    };
    let now = now_secs();
    if st.faults.token_rate_limit
        && let Some(known) = st.client_ids.get(client_id)
        && now < known.issued_at + TOKEN_LIFETIME_SECS
    {
        // One token per client id per 7 days — unless every token it had
        // has since expired (then the service lets it renew).
        let live = st
            .tokens
            .values()
            .any(|t| t.client_id.as_deref() == Some(client_id) && t.expires_at > now);
        if live {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"code": 429, "message": "One free token per client every 7 days"})),
            )
                .into_response();
        }
    }
    let ip = peer.ip().to_string();
    let limit = st.faults.ip_token_limit as usize;
    let issued = st.ip_issues.entry(ip.clone()).or_default();
    issued.retain(|at| now < at + TOKEN_LIFETIME_SECS);
    if issued.len() >= limit {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"code": 429, "message": "Too many free tokens from this address"})),
        )
            .into_response();
    }
    issued.push(now);
    // The anonymous user belongs to the client id: renewing keeps credits.
    let user_id = match st.client_ids.get(client_id) {
        Some(known) => known.user_id.clone(),
        None => format!("anon_{}", uuid::Uuid::new_v4().simple()),
    };
    st.client_ids.insert(
        client_id.to_string(),
        ClientRecord {
            user_id: user_id.clone(),
            issued_at: now,
        },
    );
    let starting = st.starting_credits();
    let user = st.users.entry(user_id.clone()).or_insert_with(|| User {
        user_id: user_id.clone(),
        anonymous: true,
        available: starting,
        frozen: 0,
    });
    let credits = user.available;
    crate::pages::write_register(&app, &st, &user_id);
    let token = st.new_token();
    let expires_at = now + TOKEN_LIFETIME_SECS;
    st.tokens.insert(
        token.clone(),
        TokenRecord {
            user_id: user_id.clone(),
            expires_at,
            client_id: Some(client_id.to_string()),
        },
    );
    ok(json!({
        "token": token,
        "user_id": user_id,
        "expires_at": rfc3339(expires_at),
        "credits": credits,
    }))
}

/// `GET /api/credits/balance/simple`.
pub async fn credits(State(app): State<App>, headers: HeaderMap) -> Response {
    let st = app.lock();
    let user_id = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let (available, frozen) = st
        .users
        .get(&user_id)
        .map(|u| (u.available, u.frozen))
        .unwrap_or((0, 0));
    let available = if st.faults.no_credits { 0 } else { available };
    ok(json!({"available": available, "frozen": frozen, "total": available + frozen}))
}

#[derive(Debug, Deserialize)]
pub struct NewSessionBody {
    #[serde(default)]
    task_name: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

/// The state of a new, empty session.
pub fn empty_state(task_name: &str) -> Value {
    json!({
        "draft": {"t": [], "d": 0, "m": {"title": task_name, "width": 1920, "height": 1080}},
        "video_infos": [],
        "generated_media": [],
        "canvas_config": {"width": 1920, "height": 1080, "ratio": "16:9"},
        "video_analyses": {},
    })
}

/// `POST /api/tasks/me/with-session/nemo_agent`.
pub async fn create_session(
    State(app): State<App>,
    Path(agent): Path<String>,
    headers: HeaderMap,
    body: Option<Json<NewSessionBody>>,
) -> Response {
    let mut st = app.lock();
    let user_id = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    if agent != "nemo_agent" {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"detail": format!("Unknown agent: {agent}")})),
        )
            .into_response();
    }
    if st.faults.no_credits {
        return code(2001, "Insufficient credits");
    }
    let body = body.map(|Json(b)| b).unwrap_or(NewSessionBody {
        task_name: None,
        language: None,
    });
    let task_name = body
        .task_name
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".into());
    let session_id = st.new_session_id();
    let task_id = format!("task_{}", uuid::Uuid::new_v4().simple());
    st.sessions.insert(
        session_id.clone(),
        Session {
            session_id: session_id.clone(),
            task_id: task_id.clone(),
            user_id: user_id.clone(),
            task_name: task_name.clone(),
            language: body.language.unwrap_or_default(),
            created_at: now_secs(),
            state: empty_state(&task_name),
        },
    );
    ok(json!({"task_id": task_id, "session_id": session_id, "user_id": user_id}))
}

#[derive(Debug, Deserialize)]
pub struct ClaimBody {
    task_id: String,
    session_id: String,
}

/// `POST /api/auth/claim-token`.
pub async fn claim_token(
    State(app): State<App>,
    headers: HeaderMap,
    body: Option<Json<ClaimBody>>,
) -> Response {
    let mut st = app.lock();
    let user_id = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    let Some(Json(body)) = body else {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"detail": "task_id and session_id are required"})),
        )
            .into_response();
    };
    let known = st
        .sessions
        .get(&body.session_id)
        .is_some_and(|s| s.user_id == user_id && s.task_id == body.task_id);
    if !known {
        return code(1002, "Session not found");
    }
    let claim = format!("clm_{}", uuid::Uuid::new_v4().simple());
    st.claims.insert(
        claim.clone(),
        Claim {
            task_id: body.task_id,
            session_id: body.session_id,
            user_id,
        },
    );
    crate::pages::write_claim(&app, &st, &claim);
    ok(json!({"claim_token": claim, "expires_in": 604800}))
}
