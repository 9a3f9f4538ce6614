//! The steps of a job ([`super::run`] orders them): its session, the
//! uploads, the prompt sent once under chat's rules, the watch of a prompt
//! sent earlier, and the render followed to a saved file.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::draft::{Before, made_a_video};
use super::{Hooks, Job, Phase, Step, paid};
use crate::api::render::RenderState;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::render::{self as export, Wait};
use crate::flow::turn::sink::Quiet;
use crate::flow::turn::{Limits, Turn, read_state, turn_tracked};
use crate::flow::upload::{Item, send_file, send_urls, urls_label};

/// Follows the render with the phases shown: its progress while it
/// renders, then the download.
pub(super) async fn follow(
    jctx: &Context,
    render_id: &str,
    path: &Path,
    job: &Job<'_>,
    hooks: &dyn Hooks,
    keep_part: bool,
    force: bool,
) -> Result<export::Downloaded> {
    let (tx, mut rx) = tokio::sync::watch::channel(None::<(bool, u8)>);
    let observer: export::Observer = Arc::new(move |state: &RenderState, percent: u8| {
        let _ = tx.send(Some((*state == RenderState::Completed, percent)));
    });
    let wait = Wait::new(job.poll_interval, None, jctx)
        .at_most(job.deadline.saturating_duration_since(Instant::now()))
        .observed(observer);
    let fetch = export::fetch(jctx, render_id, path, force, keep_part, &wait);
    tokio::pin!(fetch);
    loop {
        tokio::select! {
            result = &mut fetch => return result,
            changed = rx.changed() => {
                if changed.is_err() {
                    return fetch.await;
                }
                let seen = *rx.borrow_and_update();
                match seen {
                    Some((true, _)) => hooks.phase(Phase::Downloading),
                    Some((false, percent)) => hooks.phase(Phase::Rendering(percent)),
                    None => {}
                }
            }
        }
    }
}

/// Creates the job's own session (not made current), or takes the one
/// `--session` names.
pub(super) async fn start_session(
    ctx: &Context,
    job: &Job<'_>,
    hooks: &dyn Hooks,
) -> Result<String> {
    if let Some(id) = &ctx.settings.session {
        hooks.record(Step::Session { session_id: id })?;
        return Ok(id.clone());
    }
    hooks.phase(Phase::Session);
    let record = if job.in_config {
        ctx.new_session(Some(job.name), job.language, false).await?
    } else {
        ctx.unrecorded_session(Some(job.name), job.language).await?
    };
    hooks.record(Step::Session {
        session_id: &record.session_id,
    })?;
    Ok(record.session_id)
}

/// Uploads the job's files and URLs into its session through
/// [`crate::flow::upload`], as `nemo upload` sends them (a request per
/// file, URLs together). The job's context names its session, so a session
/// the server lost is exit 10 and never replaced by a new one: the
/// journal holds this one.
pub(super) async fn upload(
    jctx: &Context,
    session: &str,
    items: &[Item],
    hooks: &dyn Hooks,
) -> Result<()> {
    let mut session = session.to_string();
    let mut recovered = false;
    let mut urls = Vec::new();
    for item in items {
        match item {
            Item::File(file) => {
                hooks.phase(Phase::Uploading(file.name.clone()));
                send_file(jctx, &mut session, &mut recovered, file).await?;
            }
            Item::Url(url) => urls.push(url.clone()),
        }
    }
    if !urls.is_empty() {
        hooks.phase(Phase::Uploading(urls_label(urls.len())));
        send_urls(jctx, &mut session, &mut recovered, &urls).await?;
    }
    Ok(())
}

/// Sends the prompt once under chat's rules and returns the turn; `before`
/// is the session's state read just before. A prompt the server refused
/// before any work started is recorded as refused.
pub(super) async fn send(
    jctx: &Context,
    session: &str,
    job: &Job<'_>,
    before: Value,
    hooks: &dyn Hooks,
) -> Result<Turn> {
    let left = job.deadline.saturating_duration_since(Instant::now());
    let limits = Limits::with(left, job.idle, jctx.settings.chat_time_scale);
    let mut id = session.to_string();
    let sent = Cell::new(false);
    let result = turn_tracked(
        jctx,
        &mut id,
        job.prompt,
        &limits,
        Box::new(Quiet),
        &sent,
        Some(before),
    )
    .await;
    let err = match result {
        Ok(turn) => return Ok(turn),
        Err(err) => err,
    };
    if !sent.get() {
        hooks.record(Step::Refused)?;
        // Nothing was taken: a plain re-run sends it.
        let message = if err.is(Kind::RateLimited) {
            "the server is rate limiting requests (HTTP 429): the prompt was not taken, nothing was charged".to_string()
        } else {
            format!("{} (the prompt was not taken)", err.message())
        };
        return Err(err.with_message(message));
    }
    let hint = format!(
        "the prompt was not sent again; `nemo --session {session} state` shows what the agent did"
    );
    // The reply's limit is the job's time left: name the job's.
    let job_timed_out =
        err.is(Kind::JobFailed) && Instant::now() + Duration::from_millis(100) >= job.deadline;
    Err(match err.kind() {
        _ if job_timed_out => err
            .with_message("the job did not finish within --timeout (the agent was still answering)")
            .with_hint(hint),
        Kind::JobFailed | Kind::ReplyLost => err.with_hint(hint),
        _ => paid(err, session, job),
    })
}

/// Whether the session's draft holds the prompt's work: something to
/// render, and not the draft recorded before the prompt.
pub(super) async fn made_since(jctx: &Context, session: &str, before: Before<'_>) -> Result<bool> {
    let state = read_state(jctx, session).await?;
    Ok(made_a_video(before, state.get("draft")))
}

/// After a prompt that went out earlier: reads the state on chat's
/// widening schedule until the draft holds the prompt's work (a draft
/// unchanged since before the prompt does not: its result is not there
/// yet), never sending again.
pub(super) async fn watch(
    jctx: &Context,
    session: &str,
    before: Before<'_>,
    deadline: Instant,
) -> Result<()> {
    let limits = Limits::with(
        Duration::ZERO,
        Duration::ZERO,
        jctx.settings.chat_time_scale,
    );
    for wait in &limits.watch {
        if Instant::now() + *wait > deadline {
            break;
        }
        tokio::time::sleep(*wait).await;
        match made_since(jctx, session, before).await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) if err.is_transient() || err.is(Kind::BadAnswer) => {}
            Err(err) => return Err(err),
        }
    }
    Err(Error::new(
        Kind::ReplyLost,
        format!("the prompt went out earlier, but session {session} shows no video made by it"),
    )
    .with_hint(format!(
        "it is not sent again on its own: look with `nemo --session {session} state`, and go on with `nemo --session {session} chat` if nothing came of it"
    )))
}
