//! One generation job, from a prompt to a saved file, shared by `generate`
//! and each job of `batch`: a session of its own (never made current),
//! the uploads, the prompt sent once under chat's rules, the draft checked,
//! then the render submitted, followed and downloaded exactly as `nemo
//! export` does it — the same functions.
//!
//! A job may start part-way ([`From`]), as `batch` resumes it from its
//! journal: in a session already made, after its prompt went out (the
//! state is watched, the prompt is never sent again), or at a recorded
//! render. Each step that must be on record before the next one is
//! reported to [`Hooks::record`] first; the phases to show go to
//! [`Hooks::phase`]. This module prints nothing itself.

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;

use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::render::{self as export, Target};
use crate::flow::turn::read_state;
use crate::flow::upload::Item;
use crate::printer::{Options, Printer};

pub(crate) mod draft;
pub(crate) mod funds;
pub(crate) mod local;
mod steps;

use draft::{Before, made_a_video};
use steps::{follow, made_since, send, start_session, upload, watch};

/// How long a whole job may take unless `--timeout` says otherwise.
pub(crate) const DEFAULT_TIMEOUT_SECS: f64 = 3600.0;
/// Keep-alives only for this long: the agent's run looks lost.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// What a job is doing, for the display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Creating its session.
    Session,
    Uploading(String),
    /// The prompt is out; the agent works.
    Generating,
    /// Watching the session for the work of a prompt sent earlier.
    Watching,
    Rendering(u8),
    Downloading,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Phase::Session => write!(f, "creating a session"),
            Phase::Uploading(name) => write!(f, "uploading {name}"),
            Phase::Generating => write!(f, "generating"),
            Phase::Watching => write!(f, "watching the session"),
            Phase::Rendering(percent) => write!(f, "rendering {percent}%"),
            Phase::Downloading => write!(f, "downloading"),
        }
    }
}

/// A step that must be on record before the job goes on.
#[derive(Debug, Clone)]
pub(crate) enum Step<'a> {
    /// The job's session exists.
    Session { session_id: &'a str },
    /// The prompt is about to go out: from here on it is never sent again
    /// unless the server refuses it. `draft_before` is the fingerprint of
    /// the session's draft before it ([`draft::fingerprint`]): only a
    /// draft that differs is the prompt's work.
    Sending { draft_before: &'a str },
    /// The server refused the prompt before any work started: not sent,
    /// nothing paid (the error follows).
    Refused,
    /// The reply ended: the prompt is paid for; from here on the job is
    /// finished from the session's state, never by prompting again.
    Replied { dropped: bool },
    /// The render was accepted (and recorded in the config).
    Rendering { render_id: &'a str },
}

/// What the caller does as the job moves.
pub(crate) trait Hooks {
    fn phase(&self, phase: Phase);
    /// Records a step; an error stops the job before the step is taken.
    fn record(&self, step: Step<'_>) -> Result<()>;
    /// The agent's reply to the prompt, once it ended.
    fn replied(&self, _reply: &str) {}
    /// A line on stderr about the job (what it waits for).
    fn note(&self, _line: &str) {}
}

/// Where a job starts.
#[derive(Debug, Clone)]
pub(crate) enum From {
    /// From nothing: a new session (or the one `--session` names).
    Start,
    /// In a session made earlier; the prompt never went out (or was
    /// refused before any work).
    Session(String),
    /// The prompt went out earlier without a known result: read the
    /// session for the work (a draft that differs from `draft_before`, the
    /// recorded fingerprint), never send again.
    Sent {
        session: String,
        draft_before: Option<String>,
    },
    /// The reply was paid for: render the session's draft without
    /// prompting (a render recorded for the session is resumed instead),
    /// when it differs from `draft_before`.
    Replied {
        session: String,
        draft_before: Option<String>,
    },
    /// A render was recorded: follow it and download it (`redo`: replace
    /// the file there, which is not the job's).
    Render {
        session_id: String,
        render_id: String,
        redo: bool,
    },
}

/// What a job needs.
pub(crate) struct Job<'a> {
    pub prompt: &'a str,
    pub uploads: &'a [Item],
    /// The new session's name.
    pub name: &'a str,
    pub language: Option<&'a str>,
    pub format: &'a str,
    pub quality: &'a str,
    pub target: &'a Target,
    pub force: bool,
    pub poll_interval: Option<f64>,
    /// When the whole job must be over.
    pub deadline: Instant,
    /// Keep-alives only for this long: the run looks lost.
    pub idle: Duration,
    /// Whether the job's own session is kept in the config (`generate`),
    /// or only in the job's journal (`batch`: the config stays bounded
    /// whatever the number of jobs).
    pub in_config: bool,
}

/// A saved file.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub session_id: String,
    pub task_id: Option<String>,
    pub render_id: String,
    pub path: PathBuf,
    pub bytes: u64,
    /// The agent's reply (none when the job resumed after the prompt).
    pub reply: Option<String>,
    /// The reply's stream dropped; its work was found by watching.
    pub dropped: bool,
}

/// How the error of [`no_video`] starts.
pub(crate) const NO_VIDEO: &str = "the agent answered without making a video";

/// The agent answered without making a video: exit 8.
pub(crate) fn no_video(session: &str) -> Error {
    Error::new(Kind::JobFailed, format!("{NO_VIDEO} (session {session})")).with_hint(format!(
        "go on with `nemo --session {session} chat \"…\"`, then `nemo --session {session} export`"
    ))
}

/// A context for work inside one job: its session pinned (so nothing
/// replaces or changes the config's current one), and a printer that draws
/// no progress and prints no status (the job's caller shows the phases).
pub(crate) fn job_context(ctx: &Context, session: &str) -> Context {
    let mut settings = ctx.settings.clone();
    settings.session = Some(session.to_string());
    let printer = Printer::new(Options {
        quiet: true,
        verbose: ctx.printer.verbose,
        color: crate::printer::Color::Never,
        ..Options::default()
    });
    Context::new(settings, printer, ctx.api.clone())
}

/// Uploads the job's files into `session` and reads its state before the
/// prompt (the draft it then holds goes on record with the prompt's
/// intent: a re-run after a kill judges the session by it).
async fn prepare(
    jctx: &Context,
    session: &str,
    job: &Job<'_>,
    hooks: &dyn Hooks,
) -> Result<serde_json::Value> {
    upload(jctx, session, job.uploads, hooks).await?;
    read_state(jctx, session).await
}

/// Runs the job from `from` to a saved file.
pub(crate) async fn run(
    ctx: &Context,
    job: &Job<'_>,
    from: From,
    hooks: &dyn Hooks,
) -> Result<Saved> {
    let mut reply = None;
    let mut dropped = false;
    let mut force = job.force;
    let (session, render) = match from {
        From::Render {
            session_id,
            render_id,
            redo,
        } => {
            force |= redo;
            (session_id, Some(render_id))
        }
        From::Start | From::Session(_) => {
            let (mut session, earlier) = match from {
                From::Session(id) => (id, true),
                _ => (start_session(ctx, job, hooks).await?, false),
            };
            let mut jctx = job_context(ctx, &session);
            let prepared = prepare(&jctx, &session, job, hooks).await;
            let before = match prepared {
                // The session an earlier run made is gone, and its prompt
                // never went out: nothing is lost by starting afresh.
                Err(err)
                    if earlier
                        && err.is(Kind::SessionNotFound)
                        && ctx.settings.session.is_none() =>
                {
                    ctx.printer.warn(format!(
                        "session {session}, made by an earlier run, is gone from the server; its prompt was never sent, so the job starts in a new session"
                    ));
                    session = start_session(ctx, job, hooks).await?;
                    jctx = job_context(ctx, &session);
                    prepare(&jctx, &session, job, hooks).await?
                }
                other => other?,
            };
            let draft_before = draft::fingerprint(before.get("draft"));
            hooks.record(Step::Sending {
                draft_before: &draft_before,
            })?;
            hooks.phase(Phase::Generating);
            let turn = send(&jctx, &session, job, before, hooks).await?;
            hooks.record(Step::Replied {
                dropped: turn.dropped,
            })?;
            hooks.replied(&turn.text);
            dropped = turn.dropped;
            let after = read_state(&jctx, &session)
                .await
                .map_err(|err| paid(err, &session, job))?;
            if !made_a_video(Before::Draft(turn.before.get("draft")), after.get("draft")) {
                return Err(no_video(&session));
            }
            reply = Some(turn.text);
            (session, None)
        }
        From::Sent {
            session,
            draft_before,
        } => {
            hooks.phase(Phase::Watching);
            hooks.note(&format!(
                "looking at session {session} for the work of a prompt sent earlier (it is not sent again)"
            ));
            let before = Before::recorded(draft_before.as_deref());
            watch(&job_context(ctx, &session), &session, before, job.deadline).await?;
            hooks.record(Step::Replied { dropped: false })?;
            (session, None)
        }
        From::Replied {
            session,
            draft_before,
        } => {
            let jctx = job_context(ctx, &session);
            let recorded = recorded_render(&jctx, &session)?;
            let before = Before::recorded(draft_before.as_deref());
            if recorded.is_none()
                && !made_since(&jctx, &session, before)
                    .await
                    .map_err(|err| paid(err, &session, job))?
            {
                return Err(no_video(&session));
            }
            (session, recorded)
        }
    };
    let jctx = job_context(ctx, &session);
    let (render_id, path, keep_part) = match render {
        Some(id) => {
            let path = job.target.path_for(&id, job.format);
            (id, path, true)
        }
        None => {
            hooks.phase(Phase::Rendering(0));
            let submitted = export::submit(&jctx, job.target, job.format, job.quality, force)
                .await
                .map_err(|err| paid(err, &session, job))?;
            hooks.record(Step::Rendering {
                render_id: &submitted.id,
            })?;
            (submitted.id, submitted.path, false)
        }
    };
    hooks.phase(Phase::Rendering(0));
    let done = follow(&jctx, &render_id, &path, job, hooks, keep_part, force).await?;
    let task_id = jctx
        .store
        .load()?
        .session(&session)
        .and_then(|s| s.task_id.clone());
    Ok(Saved {
        session_id: session,
        task_id,
        render_id,
        path,
        bytes: done.bytes,
        reply,
        dropped,
    })
}

/// An error after the prompt was paid for: it names the session and the
/// command that finishes the job without paying again.
pub(crate) fn paid(err: Error, session: &str, job: &Job<'_>) -> Error {
    let output = match job.target {
        Target::File(path) => format!(" -o {}", path.display()),
        Target::Folder(dir) => format!(" -o {}", dir.display()),
    };
    let hint = format!(
        "the prompt was paid for and is not sent again: finish with `nemo --session {session} export{output}`, or run the same command again"
    );
    err.with_hint(hint)
}

/// The latest render recorded in the config for `session` that may still
/// give a file: a submit whose answer never reached the journal.
fn recorded_render(jctx: &Context, session: &str) -> Result<Option<String>> {
    let config = jctx.store.load()?;
    Ok(config
        .renders
        .iter()
        .rev()
        .find(|r| r.session_id == session && !matches!(r.status.as_str(), "failed" | "cancelled"))
        .map(|r| r.render_id.clone()))
}
