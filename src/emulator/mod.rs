//! The built-in emulator of the NemoVideo API (`../shared/spec/api.md`),
//! served on loopback by `nemo sandbox`, by the global `--sandbox`, and by the
//! tests in-process on port 0.
//!
//! It answers with exactly the documented shapes and codes. Its whole state
//! is one serde-serialisable [`EmuState`] (so `--sandbox` can keep it in a
//! file between runs), including the fault switches ([`Faults`]) tests turn
//! on. It records every request it gets (method, path, headers) so tests can
//! assert on what the client sent. A second listener stands in for the CDN
//! that serves rendered files.

// Handlers return `Result<_, Response>` so an early answer is one `?`-like
// match away; the size of `Response` does not matter on these paths.
#![allow(clippy::result_large_err)]

mod accounts;
pub mod chat;
pub mod render;
mod state;
pub mod upload;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Seven days, the life of an anonymous token and its client id's rate limit.
pub const TOKEN_LIFETIME_SECS: u64 = 7 * 24 * 3600;
pub const FREE_CREDITS: i64 = 100;

/// Everything the emulator knows. Serialisable so `--sandbox` can persist it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EmuState {
    /// Counter behind every id the emulator makes.
    pub seq: u64,
    pub users: BTreeMap<String, User>,
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Client id → the anonymous user it belongs to and when it last got a token.
    pub client_ids: BTreeMap<String, ClientRecord>,
    /// Tokens issued per caller IP (the documented "about 10 per IP per 7 days").
    pub ip_issues: BTreeMap<String, Vec<u64>>,
    pub sessions: BTreeMap<String, Session>,
    pub claims: BTreeMap<String, Claim>,
    /// Files received by the upload endpoint.
    pub uploads: Vec<upload::UploadRecord>,
    /// Render jobs by id.
    pub renders: BTreeMap<String, render::Render>,
    /// Messages the agent received and edits it has under way.
    pub chat: chat::ChatState,
    pub faults: Faults,
    /// Requests received, oldest first (not persisted).
    #[serde(skip)]
    pub requests: Vec<RecordedRequest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub anonymous: bool,
    pub available: i64,
    pub frozen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub user_id: String,
    /// Unix seconds.
    pub expires_at: u64,
    #[serde(default)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRecord {
    pub user_id: String,
    /// Unix seconds of the last token issued to this client id.
    pub issued_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub session_id: String,
    pub task_id: String,
    pub user_id: String,
    pub task_name: String,
    pub language: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The `state` object of the state endpoint: `draft`, `video_infos`,
    /// `generated_media`, `canvas_config`, `video_analyses`.
    pub state: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub task_id: String,
    pub session_id: String,
    pub user_id: String,
}

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
    pub chat: chat::ChatFaults,
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

/// One request as the emulator saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// `api` or `cdn`.
    pub listener: &'static str,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

pub fn rfc3339(secs: u64) -> String {
    crate::time::rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

impl EmuState {
    /// A fresh id number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A numeric session id like the service's (a 19-digit string).
    pub fn new_session_id(&mut self) -> String {
        let n = self.next_seq();
        format!("55297987060{:08}", n % 100_000_000)
    }

    /// A token string like the service's.
    pub fn new_token(&mut self) -> String {
        format!("nmv_usr_{}", uuid::Uuid::new_v4().simple())
    }

    /// Adds a registered user and a token for it, for `--with-token` tests.
    pub fn add_registered_user(&mut self, token: &str, credits: i64) -> String {
        let user_id = format!("usr_{}", self.next_seq());
        self.users.insert(
            user_id.clone(),
            User {
                user_id: user_id.clone(),
                anonymous: false,
                available: credits,
                frozen: 0,
            },
        );
        self.tokens.insert(
            token.to_string(),
            TokenRecord {
                user_id: user_id.clone(),
                expires_at: now_secs() + 365 * 86_400,
                client_id: None,
            },
        );
        user_id
    }

    /// Makes every token issued so far expire now (1001 on next use).
    pub fn expire_all_tokens(&mut self) {
        let past = now_secs().saturating_sub(1);
        for token in self.tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Forgets every session (1002 on next use).
    pub fn lose_all_sessions(&mut self) {
        self.sessions.clear();
    }

    /// Reads a state file; a missing file is a fresh state.
    pub fn load(path: &Path) -> std::io::Result<EmuState> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EmuState::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes the state file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer_pretty(&mut temp, self).map_err(std::io::Error::other)?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<EmuState>>,
    /// `http://127.0.0.1:<port>` of the CDN listener.
    pub cdn_url: Arc<str>,
    pub api_url: Arc<str>,
}

impl App {
    /// The state, even if a handler panicked while holding it.
    pub fn lock(&self) -> MutexGuard<'_, EmuState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running emulator. Dropping it stops both listeners.
pub struct Emulator {
    pub api_url: String,
    pub cdn_url: String,
    app: App,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

/// Where to listen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    pub api: u16,
    pub cdn: u16,
}

impl Emulator {
    /// Binds both listeners on 127.0.0.1 and serves until stopped.
    pub async fn start(state: EmuState, ports: Ports) -> std::io::Result<Emulator> {
        let api_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], ports.api))).await?;
        let cdn_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], ports.cdn))).await?;
        let api_url = format!("http://{}", api_listener.local_addr()?);
        let cdn_url = format!("http://{}", cdn_listener.local_addr()?);
        let app = App {
            state: Arc::new(Mutex::new(state)),
            cdn_url: cdn_url.clone().into(),
            api_url: api_url.clone().into(),
        };
        let api = api_router(app.clone());
        let cdn = cdn_router(app.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let (cdn_stop, cdn_stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let cdn_task = tokio::spawn(async move {
                let _ = axum::serve(
                    cdn_listener,
                    cdn.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = cdn_stopped.await;
                })
                .await;
            });
            let _ = axum::serve(
                api_listener,
                api.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
            let _ = cdn_stop.send(());
            let _ = cdn_task.await;
        });
        Ok(Emulator {
            api_url,
            cdn_url,
            app,
            stop: Some(stop),
            done: Some(done),
        })
    }

    /// Reads or changes the state (faults, users, sessions…).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut EmuState) -> R) -> R {
        f(&mut self.app.lock())
    }

    /// A copy of the state.
    pub fn snapshot(&self) -> EmuState {
        self.app.lock().clone()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.lock().requests.clone()
    }

    /// Stops serving (in-flight requests finish first) and returns the state.
    pub async fn shutdown(mut self) -> EmuState {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            // Streams still open are cut after a short grace period.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), done).await;
        }
        self.app.lock().clone()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An emulator on a thread of its own, for synchronous callers (tests).
/// Dropping it stops the emulator and the thread.
pub struct BackgroundEmulator {
    pub api_url: String,
    pub cdn_url: String,
    app: App,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundEmulator {
    pub fn start(state: EmuState) -> std::io::Result<BackgroundEmulator> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                match Emulator::start(state, Ports::default()).await {
                    Ok(emulator) => {
                        let info = (
                            emulator.api_url.clone(),
                            emulator.cdn_url.clone(),
                            emulator.app.clone(),
                        );
                        let _ = ready_tx.send(Ok(info));
                        let _ = stopped.await;
                        emulator.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let (api_url, cdn_url, app) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the emulator thread died"))??;
        Ok(BackgroundEmulator {
            api_url,
            cdn_url,
            app,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn with_state<R>(&self, f: impl FnOnce(&mut EmuState) -> R) -> R {
        f(&mut self.app.lock())
    }

    pub fn snapshot(&self) -> EmuState {
        self.app.lock().clone()
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.lock().requests.clone()
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn api_router(app: App) -> Router {
    Router::new()
        .route("/api/auth/anonymous-token", post(accounts::anonymous_token))
        .route("/api/auth/claim-token", post(accounts::claim_token))
        .route("/api/credits/balance/simple", get(accounts::credits))
        .route(
            "/api/tasks/me/with-session/{agent}",
            post(accounts::create_session),
        )
        .route("/api/state/{agent}/me/{sid}/latest", get(state::latest))
        .route("/_sandbox/requests", get(control_requests))
        .route(
            "/_sandbox/faults",
            get(control_faults).post(control_set_faults),
        )
        .route("/_sandbox/expire-tokens", post(control_expire_tokens))
        .merge(chat::routes())
        .merge(upload::routes())
        .merge(render::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            record_and_fault,
        ))
        .with_state(app)
}

fn cdn_router(app: App) -> Router {
    Router::new()
        .merge(render::cdn_routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), record_cdn))
        .with_state(app)
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"detail": "Not Found"})),
    )
        .into_response()
}

fn record(app: &App, request: &Request, listener: &'static str) {
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    app.lock().requests.push(RecordedRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: request.uri().query().map(str::to_string),
        headers,
        listener,
    });
}

async fn record_cdn(State(app): State<App>, request: Request, next: Next) -> Response {
    record(&app, &request, "cdn");
    next.run(request).await
}

/// Records the request, then applies the counting faults (429, 5xx) before
/// any handler runs. Control endpoints are exempt.
async fn record_and_fault(State(app): State<App>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    record(&app, &request, "api");
    let fault = {
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
    };
    let Some(fault) = fault else {
        return next.run(request).await;
    };
    // Read (and drop) the whole body before answering, as a real gateway
    // does, so a client streaming a large upload sees the answer and not a
    // connection reset.
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

/// The fault switches and their defaults, one `name=default` per line, for
/// `nemo sandbox --help`.
pub fn fault_help() -> String {
    let defaults = serde_json::to_value(Faults::default()).unwrap_or_default();
    let mut lines = vec![
        "Faults (--fault NAME for true, or NAME=VALUE; also POST /_sandbox/faults with a JSON object):".to_string(),
    ];
    if let Some(fields) = defaults.as_object() {
        for (name, value) in fields {
            lines.push(format!("  {name}={value}"));
        }
    }
    lines.join("\n")
}

/// `faults` with the fields of `patch` replaced.
pub fn merge_faults(faults: &Faults, patch: &Value) -> Result<Faults, String> {
    let mut current = serde_json::to_value(faults).map_err(|e| e.to_string())?;
    let (Some(target), Some(patch)) = (current.as_object_mut(), patch.as_object()) else {
        return Err("faults must be a JSON object".into());
    };
    for (key, value) in patch {
        let key = key.replace('-', "_");
        if !target.contains_key(&key) {
            return Err(format!("unknown fault {key:?}"));
        }
        target.insert(key, value.clone());
    }
    serde_json::from_value(current).map_err(|e| e.to_string())
}

// ---- answers shared by the handlers ----

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
