//! Output that does not go to the process's stdout: `nemo mcp`, whose
//! stdout carries only protocol messages, gives each tool a printer whose
//! results land in a [`Capture`], and whose status lines also reach a
//! listener (the tool's progress notifications).

use std::sync::{Arc, Mutex};

/// Told each status line of a printer with a [`Capture`].
pub type StatusListener = Arc<dyn Fn(&str) + Send + Sync>;

/// A stdout that is not the process's: `nemo mcp`, whose stdout carries
/// only protocol messages, runs each tool with a printer whose results
/// land here, and whose status lines (the phases and progress a command
/// reports) go to a listener as well as to stderr.
#[derive(Clone, Default)]
pub struct Capture {
    out: Arc<Mutex<Vec<u8>>>,
    pub(super) listener: Option<StatusListener>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

impl Capture {
    /// A capture whose status lines are also told to `listener`.
    pub fn new(listener: Option<StatusListener>) -> Capture {
        Capture {
            out: Arc::default(),
            listener,
        }
    }

    /// Everything written to stdout so far, taken out.
    pub fn take(&self) -> Vec<u8> {
        match self.out.lock() {
            Ok(mut out) => std::mem::take(&mut *out),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    pub(super) fn write(&self, bytes: &[u8]) {
        match self.out.lock() {
            Ok(mut out) => out.extend_from_slice(bytes),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
        }
    }
}
