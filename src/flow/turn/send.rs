//! One turn: read the state, send the message once (1001 and 1002, which
//! reject it before any work starts, are retried once), render the events
//! as they come under `--timeout`/`--idle-timeout`, then hand the end over
//! to [`super::watch`].
//!
//! It must never send a message twice after the agent may have started.

use std::cell::Cell;

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::gui_hints::gui_hints;
use super::render::Renderer;
use super::sink::Sink;
use super::watch::{Ending, closed};
use super::{Limits, STILL_WORKING_EVERY, Turn};
use crate::api::chat::{AgentEvent, AgentStream};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// One message and its reply, rendered into `sink`. `session` is replaced
/// when the server lost it. `--timeout` counts from here and bounds
/// everything: the reply, and the watch after a dropped connection.
pub(crate) async fn turn(
    ctx: &Context,
    session: &mut String,
    message: &str,
    limits: &Limits,
    sink: Box<dyn Sink + '_>,
) -> Result<Turn> {
    turn_tracked(ctx, session, message, limits, sink, &Cell::new(false), None).await
}

/// [`turn`], setting `sent` once the message may have reached the agent:
/// when it stays unset, the server refused the message before any work
/// started (2001, a 429 or another error answer, 1001/1002 that could not
/// be recovered) or it was never sent, so sending it later pays once.
/// `known_before` is the session's state when the caller read it just
/// before (a job records it ahead of the prompt); else it is read here.
pub(crate) async fn turn_tracked(
    ctx: &Context,
    session: &mut String,
    message: &str,
    limits: &Limits,
    sink: Box<dyn Sink + '_>,
    sent: &Cell<bool>,
    known_before: Option<Value>,
) -> Result<Turn> {
    let deadline = Instant::now() + limits.total;
    let mut recovered = false;
    let before = match known_before {
        Some(before) => before,
        None => {
            let read_before = ctx.with_session(session, &mut recovered, |sid| async move {
                read_state(ctx, &sid).await
            });
            tokio::time::timeout_at(deadline, read_before)
                .await
                .map_err(|_| {
                    Error::new(
                        Kind::JobFailed,
                        format!(
                            "the session's state could not be read within {} s (--timeout); the message was not sent",
                            limits.total.as_secs()
                        ),
                    )
                })??
        }
    };
    let mut renderer = Renderer::with_sink(&ctx.printer, sink);
    renderer.waiting("Waiting for the agent…", true);
    // 1002 rejects the message before any work starts: once, in a new
    // session, whose state is read first.
    let first = session.clone();
    let (before, sent) = ctx
        .with_session(session, &mut recovered, |sid| {
            let (first, before) = (&first, &before);
            async move {
                let before = if sid == *first {
                    before.clone()
                } else {
                    read_state(ctx, &sid).await?
                };
                Ok((
                    before,
                    send(ctx, &sid, message, limits, deadline, sent).await?,
                ))
            }
        })
        .await?;
    let ending = Ending {
        ctx,
        session,
        before: &before,
        limits,
        deadline,
    };
    let stream = match sent {
        Sent::Stream(stream) => stream,
        // The message went out and the connection broke before any answer:
        // the agent may be at work, so this is a dropped stream.
        Sent::Cut(err) => {
            renderer.finish()?;
            return ending.dropped(&mut renderer, String::new(), err).await;
        }
    };
    let consumed = consume(ctx, stream, &mut renderer, limits, deadline).await;
    renderer.finish()?;
    let (outcome, agent_error) = consumed?;
    let text = renderer.take_text();
    for hint in gui_hints(&text) {
        ctx.printer.hint(hint);
    }
    match outcome {
        Outcome::TimedOut(err) => Err(err),
        _ if agent_error.is_some() => {
            let message = agent_error.unwrap_or_default();
            Err(
                Error::new(Kind::JobFailed, format!("the agent failed: {message}"))
                    .with_hint("`nemo state` shows what was done before it failed"),
            )
        }
        Outcome::Closed => closed(&ending, &mut renderer, text).await,
        Outcome::Dropped(err) => ending.dropped(&mut renderer, text, err).await,
    }
}

/// What sending the message gave.
enum Sent {
    /// The reply's events.
    Stream(AgentStream),
    /// The connection broke after the message may have gone out, before
    /// the answer's headers.
    Cut(Error),
}

/// Sends the message (once; after a 1001 on a free token, once more with a
/// renewed token). A server that never starts answering counts as idle.
async fn send(
    ctx: &Context,
    session: &str,
    message: &str,
    limits: &Limits,
    deadline: Instant,
    went_out: &Cell<bool>,
) -> Result<Sent> {
    let wait_until = (Instant::now() + limits.idle).min(deadline);
    // Borrowed, not copied: a message from stdin may be 64 MiB.
    let sent = ctx.api.run_sse(session, message);
    let answer = tokio::time::timeout_at(wait_until, sent).await;
    // Only an answer that refused the message proves no work started.
    went_out.set(!matches!(&answer, Ok(Err(err)) if !may_have_gone_out(err)));
    match answer {
        Ok(Ok(stream)) => Ok(Sent::Stream(stream)),
        Ok(Err(err)) if may_have_gone_out(&err) => Ok(Sent::Cut(err)),
        Ok(Err(err)) => Err(err),
        Err(_) => Err(Error::new(
            Kind::JobFailed,
            format!(
                "the agent did not start answering within {} s",
                limits.idle.min(limits.total).as_secs()
            ),
        )
        .with_hint("the message was not sent again; `nemo state` shows whether it is at work")),
    }
}

/// A network failure after the connection was made: the message may have
/// reached the agent. Only a failure to connect at all proves it did not.
fn may_have_gone_out(err: &Error) -> bool {
    if !err.is(Kind::Network) {
        return false;
    }
    let mut cause = std::error::Error::source(err);
    while let Some(e) = cause {
        if let Some(e) = e.downcast_ref::<reqwest::Error>() {
            return !e.is_connect();
        }
        cause = e.source();
    }
    true
}

pub(crate) async fn read_state(ctx: &Context, session: &str) -> Result<Value> {
    ctx.api.state(session).await.map(|s| s.state)
}

/// How the stream ended.
enum Outcome {
    /// The server closed it: the reply is complete.
    Closed,
    /// The connection broke.
    Dropped(Error),
    /// `--timeout` or `--idle-timeout` passed.
    TimedOut(Error),
}

/// Reads the stream to its end, rendering every event, under the time
/// limits. Errs only when stdout cannot be written.
async fn consume(
    ctx: &Context,
    mut stream: AgentStream,
    renderer: &mut Renderer<'_>,
    limits: &Limits,
    deadline: Instant,
) -> Result<(Outcome, Option<String>)> {
    let started = Instant::now();
    let total_at = deadline;
    let mut idle_at = started + limits.idle;
    let mut still_at = started + limits.still_every;
    let mut still_count: u64 = 0;
    let ticker = !ctx.printer.shows_progress();
    let mut agent_error: Option<String> = None;
    loop {
        tokio::select! {
            item = stream.next() => match item {
                None => return Ok((Outcome::Closed, agent_error)),
                Some(Ok(event)) => {
                    match &event {
                        AgentEvent::Heartbeat => {}
                        AgentEvent::Error { code, message } => {
                            let message = crate::sanitize::strip_controls(message);
                            agent_error.get_or_insert(match code {
                                Some(code) if !message.contains(code.as_str()) => {
                                    format!("{message} ({})", crate::sanitize::strip_controls(code))
                                }
                                _ => message,
                            });
                            idle_at = Instant::now() + limits.idle;
                        }
                        _ => idle_at = Instant::now() + limits.idle,
                    }
                    renderer.event(&event)?;
                }
                Some(Err(err)) if err.is(Kind::BadAnswer) => renderer.unreadable(err.message()),
                // Over nemo's limits: an error of its own (exit 9), not a
                // dropped stream to watch for.
                Some(Err(err)) if err.is(Kind::TooLarge) => return Err(err),
                Some(Err(err)) => return Ok((Outcome::Dropped(err), agent_error)),
            },
            _ = tokio::time::sleep_until(total_at) => {
                return Ok((Outcome::TimedOut(Error::new(Kind::JobFailed, format!("the reply did not end within {} s (--timeout)", limits.total.as_secs())).with_hint("the agent may still be working: `nemo state` shows the timeline; the message was not sent again")), agent_error));
            }
            _ = tokio::time::sleep_until(idle_at) => {
                return Ok((Outcome::TimedOut(Error::new(Kind::JobFailed, format!(
                        "nothing but keep-alives from the agent for {} s (--idle-timeout): the run looks lost",
                        limits.idle.as_secs()
                    )).with_hint("`nemo state` shows what was done; the message was not sent again")), agent_error));
            }
            _ = tokio::time::sleep_until(still_at), if ticker => {
                still_count += 1;
                let minutes = STILL_WORKING_EVERY.as_secs() * still_count / 60;
                ctx.printer.status(format!("⏳ Still working… ({minutes}m)"));
                still_at += limits.still_every;
            }
        }
    }
}
