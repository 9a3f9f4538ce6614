//! The end of a turn: what changed in the session (the state before and
//! after, diffed), for a reply without text or with `--json`; and after a
//! dropped connection, watching the state on a widening schedule for the
//! agent's work.
//!
//! It must never send the message again; what is printed is the sink's
//! business ([`super::sink::Sink::done`]).

use serde_json::Value;
use tokio::time::Instant;

use super::render::{Renderer, Spinner};
use super::send::read_state;
use super::sink::Done;
use super::{Limits, Turn, WATCH_SCHEDULE};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::timeline::{Change, StateSummary, Timeline, diff};

/// What changed from `before` to `after`, as printed: the timeline changes,
/// and whether anything in the state changed at all.
fn changes(before: &Value, after: &Value) -> (Vec<Change>, bool) {
    let draft = |state: &Value| Timeline::from_draft(state.get("draft").unwrap_or(&Value::Null));
    let timeline = diff(&draft(before), &draft(after));
    let any = !timeline.is_empty()
        || before != after
        || StateSummary::from_state(before) != StateSummary::from_state(after);
    (timeline, any)
}

/// What the end of a turn needs: the session, its state before the
/// message, and the limits.
pub(super) struct Ending<'a> {
    pub ctx: &'a Context,
    pub session: &'a str,
    pub before: &'a Value,
    pub limits: &'a Limits,
    /// `--timeout`, counted from the start of the turn.
    pub deadline: Instant,
}

/// A complete reply. Without text, the state says what the agent did.
pub(super) async fn closed(
    end: &Ending<'_>,
    renderer: &mut Renderer<'_>,
    text: String,
) -> Result<Turn> {
    let silent = text.trim().is_empty();
    let mut found = (Vec::new(), false);
    if silent || renderer.wants_changes() {
        match read_state(end.ctx, end.session).await {
            Ok(after) => found = changes(end.before, &after),
            Err(err) if !silent => end
                .ctx
                .printer
                .warn(format!("cannot read the state to list the changes: {err}")),
            Err(err) => return Err(err),
        }
    }
    renderer.done(&Done {
        text: &text,
        changes: &found.0,
        any: found.1,
        after_drop: false,
    })?;
    Ok(Turn {
        text,
        dropped: false,
        before: end.before.clone(),
    })
}

/// Reads the state on the watch schedule until it differs from `before`;
/// `None` when the schedule ends first.
async fn watch(end: &Ending<'_>) -> Result<Option<(Vec<Change>, bool)>> {
    let ctx = end.ctx;
    for wait in &end.limits.watch {
        tokio::time::sleep(*wait).await;
        match read_state(ctx, end.session).await {
            Ok(after) => {
                let found = changes(end.before, &after);
                ctx.printer.debug(format!(
                    "state read: {}",
                    if found.1 { "changed" } else { "no change yet" }
                ));
                if found.1 {
                    return Ok(Some(found));
                }
            }
            Err(err) if err.is_transient() || err.is(Kind::BadAnswer) => {
                ctx.printer.debug(format!("state read failed: {err}"));
            }
            Err(err) => return Err(err),
        }
    }
    Ok(None)
}

impl Ending<'_> {
    /// A dropped connection: watch the state for the agent's work on a
    /// widening schedule until the deadline (`--timeout`); never send the
    /// message again.
    pub(super) async fn dropped(
        &self,
        renderer: &mut Renderer<'_>,
        text: String,
        err: Error,
    ) -> Result<Turn> {
        let ctx = self.ctx;
        ctx.printer.warn(format!(
            "{err}; the message is not sent again (it may be at work already)"
        ));
        let minutes = (WATCH_SCHEDULE.iter().sum::<u64>() as f64 / 60.0).round() as u64;
        ctx.printer.status(format!(
            "Watching the session for the agent's work (about {minutes} minutes)…"
        ));
        let spinner = Spinner::new(&ctx.printer, "Watching the session…");
        let watched = tokio::time::timeout_at(self.deadline, watch(self)).await;
        drop(spinner);
        let seen = match watched {
            Ok(seen) => seen?,
            Err(_) => {
                return Err(Error::new(
                    Kind::JobFailed,
                    format!(
                        "the connection to the agent dropped, and no change showed up in the session within {} s (--timeout)",
                        self.limits.total.as_secs()
                    ),
                )
                .with_hint(
                    "the message was not sent again, so nothing is charged twice; check later with `nemo state` before sending it again",
                ));
            }
        };
        match seen {
            Some((changes, any)) => {
                renderer.done(&Done {
                    text: &text,
                    changes: &changes,
                    any,
                    after_drop: true,
                })?;
                ctx.printer.warn(DROPPED_WARNING);
                Ok(Turn {
                    text,
                    dropped: true,
                    before: self.before.clone(),
                })
            }
            None => Err(Error::new(Kind::ReplyLost, format!(
                    "the connection to the agent dropped, and no change showed up in the session within {minutes} minutes"
                )).with_hint(
                    "the message was not sent again, so nothing is charged twice; check later with `nemo state` before sending it again",
                )),
        }
    }
}

/// The warning after a reply whose stream dropped but whose work showed up.
pub(crate) const DROPPED_WARNING: &str =
    "the reply was cut off, but the agent went on: that is what changed in the session";
