//! Ctrl-C, SIGTERM and SIGHUP for the commands that wait (`chat`, `export`,
//! `generate`, `batch`, `nemo sandbox`): one helper, so every wait is
//! cancelled the same way and every one of these signals gets the same
//! cleanup as Ctrl-C (`../shared/spec/cli.md`, exit codes 130/143/129).
//!
//! It only notices the signal and remembers which one came, so that the
//! process exits with its code ([`exit_code`]); what an interruption means
//! (which hint to give) is the caller's business. It must not print.
//!
//! A handler that cannot be installed (no file descriptor left for tokio's
//! signal pipe) is done without: the signal then ends the process as the
//! system would, which is better than a panic.

use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::error::{Error, Result};

/// The exit code of the signal that interrupted the work (0: none yet).
static CAUGHT: AtomicU8 = AtomicU8::new(0);

/// Exit codes of the signals, as shells report them (128 + the number).
const SIGINT_EXIT: u8 = 130;
#[cfg(unix)]
const SIGTERM_EXIT: u8 = 143;
#[cfg(unix)]
const SIGHUP_EXIT: u8 = 129;

/// The exit code for an interrupted command: 143 after SIGTERM, 129 after
/// SIGHUP, else 130 (Ctrl-C).
pub fn exit_code() -> u8 {
    match CAUGHT.load(Ordering::Relaxed) {
        0 => SIGINT_EXIT,
        code => code,
    }
}

/// The code the process exits with for `err`: an interruption's is the
/// signal's (143, 129, 130), every other error's its kind's. The JSON error
/// document says the same.
pub fn exit_code_of(err: &crate::error::Error) -> u8 {
    if err.is(crate::error::Kind::Interrupted) {
        exit_code()
    } else {
        err.exit_code()
    }
}

/// Ctrl-C, SIGTERM and SIGHUP, caught from the moment this is made (on Unix
/// the handlers are installed at once, not on first poll).
pub struct Interrupt {
    #[cfg(unix)]
    signals: Vec<(tokio::signal::unix::Signal, u8)>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    pub fn new() -> Interrupt {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let wanted = [
                (SignalKind::interrupt(), SIGINT_EXIT),
                (SignalKind::terminate(), SIGTERM_EXIT),
                (SignalKind::hangup(), SIGHUP_EXIT),
            ];
            let signals = wanted
                .into_iter()
                .filter_map(|(kind, code)| signal(kind).ok().map(|s| (s, code)))
                .collect();
            Interrupt { signals }
        }
        #[cfg(not(unix))]
        Interrupt {}
    }

    /// Resolves on Ctrl-C, SIGTERM or SIGHUP (never, if no handler could
    /// be installed), and remembers which.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            if self.signals.is_empty() {
                return std::future::pending::<()>().await;
            }
            let waits = self.signals.iter_mut().map(|(signal, code)| {
                let code = *code;
                Box::pin(async move {
                    match signal.recv().await {
                        Some(()) => code,
                        None => std::future::pending::<u8>().await,
                    }
                })
            });
            let (code, _, _) = futures::future::select_all(waits).await;
            CAUGHT.store(code, Ordering::Relaxed);
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `work` until it ends or a signal comes; a signal gives
    /// [`Error::interrupted`] with `hint`, if any.
    pub async fn run<T>(
        &mut self,
        work: impl Future<Output = Result<T>>,
        hint: Option<&str>,
    ) -> Result<T> {
        tokio::select! {
            result = work => result,
            () = self.recv() => Err(match hint {
                Some(hint) => Error::interrupted().with_hint(hint.to_string()),
                None => Error::interrupted(),
            }),
        }
    }
}
