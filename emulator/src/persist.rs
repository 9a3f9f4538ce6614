//! Keeping the emulator's state in a file that several processes share
//! (nemo's `--sandbox`: each command runs its own in-process emulator on
//! one state file). The state is locked **per request**, never for a whole
//! process: each request takes the file lock, reads the state afresh, is
//! answered, and the state is written back (when it changed) before the
//! lock is let go. So an open interactive chat blocks nobody, parallel
//! exports run side by side, and a process killed between requests has
//! lost nothing.
//!
//! A wait for the lock is bounded; over a second, the hook given with
//! [`Persist::on_wait`] is told once (the emulator itself prints nothing).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::model::EmuState;
use crate::server::App;

/// Told when a request has waited over a second for the lock (the lock
/// file's path).
pub type WaitHook = Arc<dyn Fn(&Path) + Send + Sync>;

/// Told when the state cannot be locked, read or written (the answer is
/// then a 503, which says less than the cause).
pub type ErrorHook = Arc<dyn Fn(&std::io::Error) + Send + Sync>;

/// After this long a waiting request is told.
const TELL_AFTER: Duration = Duration::from_secs(1);
/// A request gives up after waiting this long (the lock is held for one
/// request at a time, so only a stopped process holds it this long).
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);
/// How often the lock is tried while waiting.
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Where the state lives and how its lock is waited for.
pub struct Persist {
    state_file: PathBuf,
    lock_file: PathBuf,
    on_wait: Option<WaitHook>,
    on_error: Option<ErrorHook>,
    /// One request of this process at a time (the file lock is per process
    /// only through separate opens; this makes the order plain).
    gate: tokio::sync::Mutex<()>,
}

impl Persist {
    /// The state in `state_file`, locked through `lock_file`.
    pub fn new(state_file: impl Into<PathBuf>, lock_file: impl Into<PathBuf>) -> Persist {
        Persist {
            state_file: state_file.into(),
            lock_file: lock_file.into(),
            on_wait: None,
            on_error: None,
            gate: tokio::sync::Mutex::new(()),
        }
    }

    /// Calls `hook` when a request waits over a second for the lock.
    pub fn on_wait(mut self, hook: WaitHook) -> Persist {
        self.on_wait = Some(hook);
        self
    }

    /// Calls `hook` with the cause when the state cannot be locked, read or
    /// written.
    pub fn on_error(mut self, hook: ErrorHook) -> Persist {
        self.on_error = Some(hook);
        self
    }

    /// The 503 answer for `err`, told to the error hook first.
    fn fail(&self, what: &str, err: std::io::Error) -> Response {
        let answer = unavailable(what, &err);
        if let Some(hook) = &self.on_error {
            hook(&err);
        }
        answer
    }

    /// Takes the file lock, waiting (bounded) while another process has it.
    async fn acquire(&self) -> std::io::Result<File> {
        if let Some(dir) = self.lock_file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock_file)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(e),
            }
            let waited = start.elapsed();
            if waited >= GIVE_UP_AFTER {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "another process has held {} for over {} s",
                        self.lock_file.display(),
                        GIVE_UP_AFTER.as_secs()
                    ),
                ));
            }
            if waited >= TELL_AFTER && !told {
                told = true;
                if let Some(hook) = &self.on_wait {
                    hook(&self.lock_file);
                }
            }
            tokio::time::sleep(RETRY_EVERY).await;
        }
    }

    /// Changes the state in the file at once, under the lock (as a request
    /// would): for a change made before serving, such as a faults file.
    pub async fn update<T>(&self, change: impl FnOnce(&mut EmuState) -> T) -> std::io::Result<T> {
        let _gate = self.gate.lock().await;
        let _lock = self.acquire().await?;
        let before = self.read()?;
        let mut state = match &before {
            Some(bytes) => serde_json::from_slice::<EmuState>(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            None => EmuState::default(),
        };
        let result = change(&mut state);
        let after = serde_json::to_vec_pretty(&state).map_err(std::io::Error::other)?;
        if before.as_deref() != Some(after.as_slice()) {
            crate::model::write_atomically(&self.state_file, &after)?;
        }
        Ok(result)
    }

    /// The state file's bytes, `None` when there is none yet.
    fn read(&self) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(&self.state_file) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The answer when the state cannot be read, written or locked: not the
/// API's, so a plain `{"detail"}` with 503.
fn unavailable(what: &str, err: &dyn std::fmt::Display) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"detail": format!("the sandbox state {what}: {err}")})),
    )
        .into_response()
}

/// The middleware around every request when the state is in a file: lock,
/// read, answer, write back, unlock. Without a file, it only passes on.
pub async fn around(State(app): State<App>, request: Request, next: Next) -> Response {
    let Some(persist) = app.persist.clone() else {
        return next.run(request).await;
    };
    let _gate = persist.gate.lock().await;
    let _lock = match persist.acquire().await {
        Ok(lock) => lock,
        Err(e) => return persist.fail("is locked", e),
    };
    let before = match persist.read() {
        Ok(bytes) => bytes,
        Err(e) => return persist.fail("cannot be read", e),
    };
    let loaded = match &before {
        Some(bytes) => match serde_json::from_slice::<EmuState>(bytes) {
            Ok(state) => state,
            Err(e) => {
                let e = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
                return persist.fail("is damaged", e);
            }
        },
        None => EmuState::default(),
    };
    {
        let mut st = app.lock();
        // What was received is this process's own record, not the file's.
        let requests = std::mem::take(&mut st.requests);
        *st = loaded;
        st.requests = requests;
    }
    let response = next.run(request).await;
    let after = match serde_json::to_vec_pretty(&*app.lock()) {
        Ok(bytes) => bytes,
        Err(e) => return persist.fail("cannot be written", std::io::Error::other(e)),
    };
    if before.as_deref() != Some(after.as_slice())
        && let Err(e) = crate::model::write_atomically(&persist.state_file, &after)
    {
        return persist.fail("cannot be written", e);
    }
    response
}
