//! One chat turn (`../shared/spec/cli.md` "nemo chat"): read the state, send
//! the message once (1001 and 1002, which reject it before any work starts,
//! are retried once), render the events as they come into a [`sink::Sink`]
//! under `--timeout`/`--idle-timeout`, then: a reply without text is
//! answered from the state diff; a dropped connection is answered by
//! watching the state, never by sending again.
//!
//! A turn returns a [`Turn`]: the reply's text, what changed, whether the
//! stream dropped. `chat` shows it through its sink as it streams;
//! `generate` and `batch` keep it (their sink prints nothing). The pieces:
//! `send` (the turn), `watch` (the end: changes, the watch after a drop),
//! `render` and `text_filter` (events into text), `sink` (where it goes),
//! `gui_hints` (GUI talk answered with the command to run).

mod gui_hints;
pub(crate) mod render;
mod send;
pub(crate) mod sink;
mod text_filter;
mod watch;

use std::time::Duration;

pub(crate) use send::{read_state, turn, turn_tracked};
pub(crate) use watch::DROPPED_WARNING;

/// How long a whole reply may take unless `--timeout` says otherwise.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 900;
/// How long heartbeats alone keep a reply waiting (`--idle-timeout`).
pub(crate) const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 600;
/// `⏳ Still working…` comes this often when there is no spinner.
pub(crate) const STILL_WORKING_EVERY: Duration = Duration::from_secs(120);
/// Seconds between the state reads after a dropped connection: at once,
/// then widening, about five minutes in all.
pub(crate) const WATCH_SCHEDULE: [u64; 9] = [0, 5, 10, 20, 30, 45, 60, 60, 60];

/// The time limits and schedules of a reply.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) total: Duration,
    pub(crate) idle: Duration,
    pub(crate) still_every: Duration,
    pub(crate) watch: Vec<Duration>,
}

impl Limits {
    /// Limits of `total` and `idle`, the schedules scaled by `scale`.
    pub(crate) fn with(total: Duration, idle: Duration, scale: f64) -> Limits {
        let scaled = |d: Duration| d.mul_f64(scale);
        Limits {
            total,
            idle,
            still_every: scaled(STILL_WORKING_EVERY),
            watch: WATCH_SCHEDULE
                .iter()
                .map(|s| scaled(Duration::from_secs(*s)))
                .collect(),
        }
    }
}

/// What a turn gave: the reply as shown, and what changed in the session.
#[derive(Debug, Clone, Default)]
pub(crate) struct Turn {
    /// The reply's text, filtered as shown.
    pub text: String,
    /// The connection dropped and the result was found by watching.
    pub dropped: bool,
    /// The session's state before the message: what the job compares the
    /// draft with.
    pub before: serde_json::Value,
}
