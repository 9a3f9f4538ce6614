//! Waiting for a render: polling its status on a schedule (`--poll-interval`,
//! `--timeout`), showing progress, recording each status change, and ending
//! on completed, failed, cancelled or the timeout.
//!
//! It must not download the file or decide where it goes.

use std::time::{Duration, Instant};

use super::records::note;
use super::resume_hint;
use crate::api::render::{RenderState, RenderStatus};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// The first status poll comes this long after the submit…
const FIRST_POLL: Duration = Duration::from_secs(2);
/// …then each wait is this much longer than the one before…
const POLL_GROWTH: f64 = 1.5;
/// …up to this (`--poll-interval` fixes the wait instead).
const MAX_POLL: Duration = Duration::from_secs(15);
/// How long `export` and `export resume` wait for a render (30 minutes).
const DEFAULT_TIMEOUT_SECS: f64 = 1800.0;
/// Network errors and unreadable answers in a row tolerated while
/// waiting, before exit 9.
const NETWORK_TOLERANCE: Duration = Duration::from_secs(120);

/// Told each status read: the render's state and its progress (0–100).
pub(crate) type Observer = std::sync::Arc<dyn Fn(&RenderState, u8) + Send + Sync>;

/// The timing of a wait, from the flags.
#[derive(Clone)]
pub(crate) struct Wait {
    /// `--poll-interval`: a fixed wait between polls.
    fixed: Option<Duration>,
    timeout: Duration,
    /// Whether `timeout` bounds the download too: a `--timeout` given, or
    /// a job's time left (the 30-minute default bounds only the wait).
    bounds_download: bool,
    /// Poll before the first wait (`resume`: the render may be done).
    at_once: bool,
    tolerance: Duration,
    observer: Option<Observer>,
}

impl Wait {
    /// The wait of `--poll-interval` and `--timeout` (seconds), when given.
    pub(crate) fn new(poll_interval: Option<f64>, timeout: Option<f64>, ctx: &Context) -> Wait {
        let tolerance = ctx
            .settings
            .poll_network_tolerance
            .unwrap_or(NETWORK_TOLERANCE);
        Wait {
            fixed: poll_interval.map(Duration::from_secs_f64),
            timeout: Duration::from_secs_f64(timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
            bounds_download: timeout.is_some(),
            at_once: false,
            tolerance,
            observer: None,
        }
    }

    /// The same wait, at most `timeout` long (a job's time left).
    pub(crate) fn at_most(mut self, timeout: Duration) -> Wait {
        self.timeout = self.timeout.min(timeout);
        self.bounds_download = true;
        self
    }

    /// How long the download may take when it started `started` (the
    /// wait's start): what the timeout leaves, when it bounds the download.
    pub(crate) fn download_within(&self, started: Instant) -> Option<Duration> {
        self.bounds_download
            .then(|| self.timeout.saturating_sub(started.elapsed()))
    }

    /// The same wait, telling `observer` each status read.
    pub(crate) fn observed(mut self, observer: Observer) -> Wait {
        self.observer = Some(observer);
        self
    }

    /// The first poll comes at once, not after the first wait.
    pub(crate) fn polling_at_once(mut self) -> Wait {
        self.at_once = true;
        self
    }

    /// The waits between polls: `--poll-interval` when given, else 2 s
    /// widening ×1.5 up to 15 s.
    fn schedule(&self) -> impl Iterator<Item = Duration> + use<> {
        let fixed = self.fixed;
        std::iter::successors(Some(fixed.unwrap_or(FIRST_POLL)), move |last| {
            Some(fixed.unwrap_or_else(|| last.mul_f64(POLL_GROWTH).min(MAX_POLL)))
        })
    }
}

/// Polls until the render is completed (its status), failed or cancelled
/// (exit 8), or the timeout passes (exit 8, resumable). Transient errors
/// end the wait only when they last the whole tolerance (2 minutes in a
/// row: exit 9, resumable); the status is recorded at each change. On a
/// terminal the bar's elapsed time moves every second between polls.
pub(crate) async fn wait(ctx: &Context, id: &str, wait: &Wait) -> Result<RenderStatus> {
    let printer = &ctx.printer;
    let bar = printer.percent_bar(id.to_string());
    let mut ticker = printer.ticker();
    bar.enable_steady_tick(Duration::from_secs(1));
    let started = Instant::now();
    let mut last: Option<RenderState> = None;
    let mut progress: u8 = 0;
    let mut failing_since: Option<Instant> = None;
    let mut schedule = wait.schedule();
    if !wait.at_once {
        pause(wait, started, schedule.next().unwrap_or(FIRST_POLL)).await;
    }
    loop {
        let polled = ctx.api.render_status(id).await;
        match polled {
            Ok(status) => {
                failing_since = None;
                progress = status.progress.unwrap_or(progress);
                bar.set_position(u64::from(progress));
                bar.set_message(format!("{id} {}", status.state.name()));
                if let Some(observer) = &wait.observer {
                    observer(&status.state, progress);
                }
                ticker.update(status.state.name(), || {
                    format!("Render {id}: {} ({progress}%)", status.state.name())
                });
                if last.as_ref() != Some(&status.state) {
                    let (name, error) = (status.state.name().to_string(), status.error.clone());
                    note(ctx, id, |r| {
                        r.status = name;
                        r.progress = Some(progress);
                        r.error = error;
                    });
                    last = Some(status.state.clone());
                }
                match status.state {
                    RenderState::Completed => {
                        bar.finish_and_clear();
                        if printer.shows_progress() {
                            printer.status(format!("Render {id}: completed"));
                        }
                        return Ok(status);
                    }
                    RenderState::Failed => {
                        bar.finish_and_clear();
                        return Err(Error::new(
                            Kind::JobFailed,
                            match &status.error {
                                Some(reason) => format!("render {id} failed: {reason}"),
                                None => format!("render {id} failed (the server gave no reason)"),
                            },
                        )
                        .with_hint(
                            "check the timeline with `nemo state`, then run `nemo export` again",
                        ));
                    }
                    RenderState::Cancelled => {
                        bar.finish_and_clear();
                        return Err(Error::new(
                            Kind::JobFailed,
                            format!("render {id} was cancelled"),
                        )
                        .with_hint("start a new one with `nemo export`"));
                    }
                    _ => {}
                }
            }
            Err(err)
                if err.is_transient()
                    || matches!(err.kind(), Kind::BadAnswer | Kind::RateLimited) =>
            {
                let first = failing_since.is_none();
                let since = *failing_since.get_or_insert_with(Instant::now);
                // Answers that cannot be read count like network errors:
                // a server sending garbage is not "still waiting" until the
                // 30-minute timeout.
                if since.elapsed() >= wait.tolerance
                    && (err.is_transient() || err.is(Kind::BadAnswer))
                {
                    bar.finish_and_clear();
                    return Err(Error::new(
                        Kind::Network,
                        format!(
                            "cannot read the status of render {id} for {} in a row: {err}",
                            humantime::format_duration(Duration::from_secs(
                                since.elapsed().as_secs()
                            ))
                        ),
                    )
                    .with_hint(resume_hint(id)));
                }
                if first {
                    bar.suspend(|| {
                        printer.warn(format!(
                            "cannot read the status of render {id} ({err}); still waiting"
                        ))
                    });
                }
            }
            Err(err) => {
                bar.finish_and_clear();
                return Err(err);
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= wait.timeout {
            bar.finish_and_clear();
            let at = last.as_ref().map_or("unknown", |s| s.name());
            return Err(Error::new(
                Kind::JobFailed,
                format!(
                    "render {id} is not done after {} (last status: {at}, {progress}%)",
                    humantime::format_duration(Duration::from_secs(wait.timeout.as_secs().max(1)))
                ),
            )
            .with_hint(resume_hint(id)));
        }
        pause(wait, started, schedule.next().unwrap_or(MAX_POLL)).await;
    }
}

/// Sleeps `step`, but not past the timeout.
async fn pause(wait: &Wait, started: Instant, step: Duration) {
    let left = wait.timeout.saturating_sub(started.elapsed());
    tokio::time::sleep(step.min(left)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_widen_from_2_s_to_15_s_unless_fixed() {
        let mut wait = Wait {
            fixed: None,
            timeout: Duration::from_secs(60),
            bounds_download: false,
            at_once: false,
            tolerance: NETWORK_TOLERANCE,
            observer: None,
        };
        let secs: Vec<f64> = wait.schedule().take(8).map(|d| d.as_secs_f64()).collect();
        assert_eq!(secs, [2.0, 3.0, 4.5, 6.75, 10.125, 15.0, 15.0, 15.0]);
        wait.fixed = Some(Duration::from_millis(500));
        assert!(
            wait.schedule()
                .take(5)
                .all(|d| d == Duration::from_millis(500))
        );
    }
}
