//! `nemo chat`: send a message to the agent and stream its reply
//! (`../shared/spec/cli.md` "nemo chat"), one-shot or interactively.
//!
//! One turn ([`turn`]): read the state, send the message once (1001 and
//! 1002, which reject it before any work starts, are retried once), render
//! the events as they come ([`render`]) under `--timeout`/`--idle-timeout`,
//! then: a reply without text is answered from the state diff; a dropped
//! connection is answered by watching the state, never by sending again.

mod interactive;
pub mod render;

use std::io::{IsTerminal, Read};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use crate::api::chat::{AgentEvent, AgentStream};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::timeline::{Change, StateSummary, Timeline, diff};
use render::{JsonLine, Renderer, StdoutLine, gui_hints};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo chat \"generate a 10-second video of a panda walking through a bamboo forest\"\n  nemo chat 'add a title \"Paradise Found\"'\n  echo \"make the music quieter\" | nemo chat -\n  nemo chat --json \"hello\" | jq -r 'select(.type == \"done\").text'\n  nemo chat            # interactive, on a terminal"
)]
pub struct Args {
    /// The message (several words are joined); `-` reads it from stdin;
    /// none on a terminal opens an interactive prompt
    #[arg(value_name = "MESSAGE")]
    pub message: Vec<String>,

    /// Give up on a reply that has not ended after SECS (exit 8)
    #[arg(long, value_name = "SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Give up when SECS pass with nothing but keep-alives (exit 8)
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
}

/// `⏳ Still working…` comes this often when there is no spinner.
const STILL_WORKING_EVERY: Duration = Duration::from_secs(120);
/// Seconds between the state reads after a dropped connection: at once,
/// then widening, about five minutes in all.
const WATCH_SCHEDULE: [u64; 9] = [0, 5, 10, 20, 30, 45, 60, 60, 60];

/// The time limits and schedules of a reply.
#[derive(Debug, Clone)]
pub struct Limits {
    total: Duration,
    idle: Duration,
    still_every: Duration,
    watch: Vec<Duration>,
}

impl Limits {
    fn new(args: &Args, scale: f64) -> Limits {
        let scaled = |d: Duration| d.mul_f64(scale);
        Limits {
            total: Duration::from_secs(args.timeout),
            idle: Duration::from_secs(args.idle_timeout),
            still_every: scaled(STILL_WORKING_EVERY),
            watch: WATCH_SCHEDULE
                .iter()
                .map(|s| scaled(Duration::from_secs(*s)))
                .collect(),
        }
    }
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let limits = Limits::new(args, ctx.settings.chat_time_scale);
    match message_of(args, ctx)? {
        Some(message) => {
            let mut session = ctx.ensure_session().await?;
            let line = StdoutLine::default();
            let result = tokio::select! {
                result = turn(ctx, &mut session, &message, &limits, &line) => result,
                _ = tokio::signal::ctrl_c() => Err(Error::interrupted().with_hint("the agent may still finish what it started; `nemo state` shows the timeline")),
            };
            line.end(&ctx.printer);
            result
        }
        None if std::io::stdin().is_terminal() => interactive::run(ctx, &limits).await,
        None => Err(Error::new(
            Kind::Usage,
            "no message, and stdin is not a terminal for an interactive chat",
        )
        .with_hint(
            "pass the message: `nemo chat \"…\"`, or pipe it in: `echo \"…\" | nemo chat -`",
        )),
    }
}

/// The message from the arguments or stdin; `None` for interactive.
fn message_of(args: &Args, ctx: &Context) -> Result<Option<String>> {
    if args.message.is_empty() {
        return Ok(None);
    }
    let text = if args.message.len() == 1 && args.message[0] == "-" {
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() {
            ctx.printer
                .status("Type the message, then press Enter and Ctrl-D:");
        }
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|e| Error::io("cannot read the message from stdin", e))?;
        if text.trim().is_empty() {
            return Err(Error::new(Kind::Usage, "no message on stdin")
                .with_hint("pipe one in: `echo \"hello\" | nemo chat -`"));
        }
        text
    } else {
        args.message.join(" ")
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::usage("the message is empty"));
    }
    Ok(Some(text.to_string()))
}

/// One message and its reply. `session` is replaced when the server lost it.
pub(crate) async fn turn(
    ctx: &Context,
    session: &mut String,
    message: &str,
    limits: &Limits,
    line: &StdoutLine,
) -> Result<()> {
    let mut recovered = false;
    let before = ctx
        .with_session(session, &mut recovered, |sid| async move {
            read_state(ctx, &sid).await
        })
        .await?;
    let mut renderer = Renderer::new(&ctx.printer, line);
    renderer.waiting("Waiting for the agent…", true);
    // 1002 rejects the message before any work starts: once, in a new
    // session, whose state is read first.
    let first = session.clone();
    let (before, started, stream) = ctx
        .with_session(session, &mut recovered, |sid| {
            let (first, before) = (&first, &before);
            async move {
                let before = if sid == *first {
                    before.clone()
                } else {
                    read_state(ctx, &sid).await?
                };
                let started = Instant::now();
                Ok((before, started, send(ctx, &sid, message, limits).await?))
            }
        })
        .await?;
    let consumed = consume(ctx, stream, &mut renderer, limits, started).await;
    renderer.finish()?;
    let (outcome, agent_error) = consumed?;
    let text = renderer.text().to_string();
    drop(renderer);
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
        Outcome::Closed => closed(ctx, session, &before, &text).await,
        Outcome::Dropped(err) => dropped(ctx, session, &before, &text, limits, err).await,
    }
}

/// Sends the message (once; after a 1001 on a free token, once more with a
/// renewed token). A server that never starts answering counts as idle.
async fn send(ctx: &Context, session: &str, message: &str, limits: &Limits) -> Result<AgentStream> {
    let wait = limits.idle.min(limits.total);
    let sent = ctx.authed(|api| {
        let (session, message) = (session.to_string(), message.to_string());
        async move { api.run_sse(&session, &message).await }
    });
    match tokio::time::timeout(wait, sent).await {
        Ok(result) => result,
        Err(_) => Err(Error::new(
            Kind::JobFailed,
            format!(
                "the agent did not start answering within {} s",
                wait.as_secs()
            ),
        )
        .with_hint("the message was not sent again; `nemo state` shows whether it is at work")),
    }
}

async fn read_state(ctx: &Context, session: &str) -> Result<Value> {
    ctx.authed(|api| {
        let session = session.to_string();
        async move { api.state(&session).await }
    })
    .await
    .map(|s| s.state)
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
    started: Instant,
) -> Result<(Outcome, Option<String>)> {
    let total_at = started + limits.total;
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

/// Prints the changes on stdout (human output).
fn print_changes(ctx: &Context, changes: &[Change], any: bool) -> Result<()> {
    if changes.is_empty() {
        return ctx.printer.out(if any {
            "The session changed, but nothing visible on the timeline."
        } else {
            "No visible change on the timeline."
        });
    }
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    ctx.printer.out(lines.join("\n"))
}

fn done_line(ctx: &Context, text: &str, changes: &[Change]) -> Result<()> {
    ctx.printer.json_line(&JsonLine::Done {
        text,
        silent: text.trim().is_empty(),
        changes,
    })
}

/// A complete reply. Without text, the state says what the agent did.
async fn closed(ctx: &Context, session: &str, before: &Value, text: &str) -> Result<()> {
    let silent = text.trim().is_empty();
    let mut found = (Vec::new(), false);
    if silent || ctx.printer.json {
        match read_state(ctx, session).await {
            Ok(after) => found = changes(before, &after),
            Err(err) if !silent => ctx
                .printer
                .warn(format!("cannot read the state to list the changes: {err}")),
            Err(err) => return Err(err),
        }
    }
    if ctx.printer.json {
        return done_line(ctx, text, &found.0);
    }
    if silent {
        ctx.printer
            .status("The agent answered without text; what changed in the session:");
        print_changes(ctx, &found.0, found.1)?;
    }
    Ok(())
}

/// A dropped connection: watch the state for the agent's work on a
/// widening schedule; never send the message again.
async fn dropped(
    ctx: &Context,
    session: &str,
    before: &Value,
    text: &str,
    limits: &Limits,
    err: Error,
) -> Result<()> {
    ctx.printer.warn(format!(
        "{err}; the message is not sent again (it may be at work already)"
    ));
    let minutes = (WATCH_SCHEDULE.iter().sum::<u64>() as f64 / 60.0).round() as u64;
    ctx.printer.status(format!(
        "Watching the session for the agent's work (about {minutes} minutes)…"
    ));
    let spinner = render::Spinner::new(&ctx.printer, "Watching the session…");
    let mut seen = None;
    for wait in &limits.watch {
        tokio::time::sleep(*wait).await;
        match read_state(ctx, session).await {
            Ok(after) => {
                let found = changes(before, &after);
                ctx.printer.debug(format!(
                    "state read: {}",
                    if found.1 { "changed" } else { "no change yet" }
                ));
                if found.1 {
                    seen = Some(found);
                    break;
                }
            }
            Err(err) if err.is_transient() || err.is(Kind::BadAnswer) => {
                ctx.printer.debug(format!("state read failed: {err}"));
            }
            Err(err) => return Err(err),
        }
    }
    drop(spinner);
    match seen {
        Some((changes, any)) => {
            if ctx.printer.json {
                done_line(ctx, text, &changes)?;
            } else {
                print_changes(ctx, &changes, any)?;
            }
            ctx.printer.warn(
                "the reply was cut off, but the agent went on: that is what changed in the session",
            );
            Ok(())
        }
        None => Err(Error::new(Kind::ReplyLost, format!(
                "the connection to the agent dropped, and no change showed up in the session within {minutes} minutes"
            )).with_hint(
                "the message was not sent again, so nothing is charged twice; check later with `nemo state` before sending it again",
            )),
    }
}
