//! Ctrl-C for the commands that wait on the network (`chat`, `export`): one
//! helper, so every wait is cancelled the same way.
//!
//! It only notices the signal; what an interruption means (exit 130, which
//! hint to give) is the caller's business. It must not print anything.

use std::future::Future;

use crate::error::{Error, Result};

/// Ctrl-C, caught from the moment this is made (on Unix the handler is
/// installed at once, not on first poll).
pub struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

impl Interrupt {
    pub fn new() -> Interrupt {
        Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves on Ctrl-C (never, if no handler could be installed).
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Runs `work` until it ends or Ctrl-C comes; Ctrl-C gives
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
