//! Waiting for a render: polling its status on a schedule (`--poll-interval`,
//! `--timeout`), showing progress, recording each status change, and ending
//! on completed, failed, cancelled or the timeout.
//!
//! It must not download the file or decide where it goes.

use std::time::{Duration, Instant};

use super::records::note;
use super::{WaitArgs, resume_hint};
use crate::api::render::{RenderState, RenderStatus};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// Seconds between status polls against the real service.
const DEFAULT_POLL_SECS: f64 = 30.0;
/// With `--sandbox` the emulator renders in seconds, so it is polled often.
const SANDBOX_POLL_SECS: f64 = 1.0;
/// How long `export` and `export resume` wait for a render (30 minutes).
const DEFAULT_TIMEOUT_SECS: f64 = 1800.0;

/// The timing of a wait, from the flags and whether this is the sandbox.
pub(super) struct Wait {
    poll: Duration,
    timeout: Duration,
}

impl Wait {
    pub(super) fn from_args(args: &WaitArgs, ctx: &Context) -> Wait {
        let default_poll = if ctx.settings.sandbox {
            SANDBOX_POLL_SECS
        } else {
            DEFAULT_POLL_SECS
        };
        Wait {
            poll: Duration::from_secs_f64(args.poll_interval.unwrap_or(default_poll)),
            timeout: Duration::from_secs_f64(args.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        }
    }
}

/// Polls until the render is completed (its status), failed or cancelled
/// (exit 8), or the timeout passes (exit 8, resumable). Transient errors
/// never end the wait early; the status is recorded at each change.
pub(super) async fn wait_for(ctx: &Context, id: &str, wait: &Wait) -> Result<RenderStatus> {
    let printer = &ctx.printer;
    let bar = printer.percent_bar(id.to_string());
    let mut ticker = printer.ticker();
    let started = Instant::now();
    let mut last: Option<RenderState> = None;
    let mut progress: u8 = 0;
    let mut failing = false;
    loop {
        let polled = ctx
            .authed(|api| async move { api.render_status(id).await })
            .await;
        match polled {
            Ok(status) => {
                failing = false;
                progress = status.progress.unwrap_or(progress);
                bar.set_position(u64::from(progress));
                bar.set_message(format!("{id} {}", status.state.name()));
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
                if !failing {
                    bar.suspend(|| {
                        printer.warn(format!(
                            "cannot read the status of render {id} ({err}); still waiting"
                        ))
                    });
                }
                failing = true;
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
        tokio::time::sleep(wait.poll.min(wait.timeout - elapsed)).await;
    }
}
