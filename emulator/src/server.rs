//! Serving the emulator: the two listeners on 127.0.0.1 (the API and a
//! stand-in for the CDN that serves rendered files), their routes, the
//! recording of every request, and the one server wrapper with its two ways
//! to run: [`Emulator`] inside a tokio runtime, [`BackgroundEmulator`] on a
//! thread of its own for synchronous callers (tests). Both give access to
//! the state through the same [`Handle`].

use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::model::{EmuState, RecordedRequest};
use crate::persist::{self, Persist};
use crate::{accounts, agent, cdn, control, faults, pages, render, state, upload};

/// What the handlers share.
#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<EmuState>>,
    /// `http://127.0.0.1:<port>` of the CDN listener.
    pub cdn_url: Arc<str>,
    pub api_url: Arc<str>,
    /// The file the state lives in between requests, when it does
    /// ([`crate::persist`]).
    pub persist: Option<Arc<Persist>>,
    /// Where the pages of the links are written as files, when they are
    /// ([`crate::pages`]).
    pub pages_dir: Option<Arc<Path>>,
}

impl App {
    /// The state, even if a handler panicked while holding it.
    pub fn lock(&self) -> MutexGuard<'_, EmuState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running emulator's addresses and state, whichever way it runs.
pub struct Handle {
    pub api_url: String,
    pub cdn_url: String,
    app: App,
}

impl Handle {
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
}

/// A running emulator. Dropping it stops both listeners.
pub struct Emulator {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl Deref for Emulator {
    type Target = Handle;
    fn deref(&self) -> &Handle {
        &self.handle
    }
}

/// Where to listen.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    pub api: u16,
    pub cdn: u16,
}

/// How to run besides the ports: the state in a file shared by processes,
/// the links' pages written as files (nemo's `--sandbox`).
#[derive(Default)]
pub struct Options {
    pub ports: Ports,
    pub persist: Option<Arc<Persist>>,
    pub pages_dir: Option<PathBuf>,
}

/// Serves `router` on `listener` until `stop` fires.
async fn serve(listener: TcpListener, router: Router, stop: oneshot::Receiver<()>) {
    let _ = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = stop.await;
    })
    .await;
}

impl Emulator {
    /// Binds both listeners on 127.0.0.1 and serves until stopped.
    pub async fn start(state: EmuState, ports: Ports) -> std::io::Result<Emulator> {
        Emulator::start_with(
            state,
            Options {
                ports,
                ..Options::default()
            },
        )
        .await
    }

    /// [`Emulator::start`] with the other [`Options`].
    pub async fn start_with(state: EmuState, options: Options) -> std::io::Result<Emulator> {
        let ports = options.ports;
        let api_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], ports.api))).await?;
        let cdn_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], ports.cdn))).await?;
        let api_url = format!("http://{}", api_listener.local_addr()?);
        let cdn_url = format!("http://{}", cdn_listener.local_addr()?);
        let app = App {
            state: Arc::new(Mutex::new(state)),
            cdn_url: cdn_url.clone().into(),
            api_url: api_url.clone().into(),
            persist: options.persist,
            pages_dir: options.pages_dir.map(Arc::from),
        };
        let api = api_router(app.clone());
        let cdn = cdn_router(app.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let (cdn_stop, cdn_stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let cdn_task = tokio::spawn(serve(cdn_listener, cdn, cdn_stopped));
            serve(api_listener, api, stopped).await;
            let _ = cdn_stop.send(());
            let _ = cdn_task.await;
        });
        Ok(Emulator {
            handle: Handle {
                api_url,
                cdn_url,
                app,
            },
            stop: Some(stop),
            done: Some(done),
        })
    }

    /// Stops serving (in-flight requests finish first) and returns the state.
    pub async fn shutdown(mut self) -> EmuState {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            // Streams still open are cut after a short grace period.
            let _ = tokio::time::timeout(Duration::from_secs(2), done).await;
        }
        self.handle.snapshot()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An [`Emulator`] on a thread of its own, with a runtime of its own, for
/// synchronous callers (tests). Dropping it stops the emulator and the
/// thread.
pub struct BackgroundEmulator {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Deref for BackgroundEmulator {
    type Target = Handle;
    fn deref(&self) -> &Handle {
        &self.handle
    }
}

impl BackgroundEmulator {
    pub fn start(state: EmuState) -> std::io::Result<BackgroundEmulator> {
        BackgroundEmulator::start_with(state, Options::default())
    }

    /// [`BackgroundEmulator::start`] with the other [`Options`].
    pub fn start_with(state: EmuState, options: Options) -> std::io::Result<BackgroundEmulator> {
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
                match Emulator::start_with(state, options).await {
                    Ok(emulator) => {
                        let handle = Handle {
                            api_url: emulator.api_url.clone(),
                            cdn_url: emulator.cdn_url.clone(),
                            app: emulator.app.clone(),
                        };
                        let _ = ready_tx.send(Ok(handle));
                        let _ = stopped.await;
                        emulator.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let handle = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the emulator thread died"))??;
        Ok(BackgroundEmulator {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
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
        .merge(control::routes())
        .merge(pages::routes())
        .merge(agent::routes())
        .merge(upload::routes())
        .merge(render::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), record_api))
        // Outermost: the state is read before anything else looks at it.
        .layer(middleware::from_fn_with_state(app.clone(), persist::around))
        .with_state(app)
}

fn cdn_router(app: App) -> Router {
    Router::new()
        .merge(cdn::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), record_cdn))
        .layer(middleware::from_fn_with_state(app.clone(), persist::around))
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
/// any handler runs. Control endpoints are exempt from both.
async fn record_api(State(app): State<App>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    record(&app, &request, "api");
    match faults::take_counting(&app) {
        Some(fault) => faults::answer(fault, request).await,
        None => next.run(request).await,
    }
}
