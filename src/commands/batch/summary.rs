//! The end of a batch: the summary line, the `--json` document and the
//! exit code (the first failed job's, its recorded cause for a job not
//! retried), with a hint naming the job's session.

use serde::Serialize;

use super::jobs;
use super::run::{Outcome, Status};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::report::{Report, Text};

/// The summary, the result and the exit code.
pub(super) fn finish(ctx: &Context, jobs: &[jobs::Job], mut outcomes: Vec<Outcome>) -> Result<()> {
    outcomes.sort_by_key(|o| o.line);
    let count = |f: &dyn Fn(Status) -> bool| outcomes.iter().filter(|o| f(o.status)).count();
    let done = count(&|s| s == Status::Done);
    let skipped = count(&|s| s == Status::Skipped);
    let failed = count(&|s| matches!(s, Status::Failed | Status::Unknown));
    let pending = count(&|s| s == Status::Pending);
    if pending > 0 {
        ctx.printer.status(format!(
            "{done} done, {failed} failed, {skipped} skipped, {pending} not started"
        ));
    } else {
        ctx.printer
            .status(format!("{done} done, {failed} failed, {skipped} skipped"));
    }
    let doc = Summary {
        jobs: outcomes
            .iter()
            .filter_map(|o| {
                let job = jobs.iter().find(|j| j.line == o.line)?;
                Some(JobDoc {
                    line: o.line,
                    prompt: job.prompt.clone(),
                    status: o.status.name(),
                    session_id: o.session_id.clone(),
                    render_id: o.render_id.clone(),
                    path: job.output.display().to_string(),
                    error: o.error.as_ref().map(|e| e.1.clone()),
                    project_url: o.project_url.clone(),
                })
            })
            .collect(),
        done,
        failed,
        skipped,
    };
    ctx.printer.report(&doc)?;
    let first = outcomes
        .iter()
        .find_map(|o| o.error.as_ref().map(|e| (o, e)));
    match first {
        None => Ok(()),
        Some((outcome, (kind, message, hint))) => {
            let err = Error::new(
                *kind,
                format!(
                    "{failed} of {} jobs failed; line {}: {message}",
                    outcomes.len(),
                    outcome.line
                ),
            );
            let session = outcome
                .session_id
                .as_deref()
                .map(|id| format!("`nemo --session {id} state` shows its session; "))
                .unwrap_or_default();
            Err(match (outcome.status, hint) {
                (Status::Unknown, _) => err.with_hint(format!(
                    "{session}a prompt that went out is not sent again on its own: run again with --retry-unknown to send it"
                )),
                (Status::Failed, None) if outcome.reported => err.with_hint(format!(
                    "{session}a job that failed after its prompt ran is not sent again on its own: run again with --retry-failed to send it"
                )),
                (Status::Pending, _) => err.with_hint(
                    "top up credits, then run the same command again: the jobs not started are sent then",
                ),
                (_, Some(hint)) => err.with_hint(format!(
                    "{hint}; run the same command again to retry what failed"
                )),
                (_, None) => err.with_hint(format!(
                    "{session}run the same command again to retry what failed"
                )),
            })
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct JobDoc {
    line: usize,
    prompt: String,
    status: &'static str,
    session_id: Option<String>,
    render_id: Option<String>,
    path: String,
    error: Option<String>,
    project_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Summary {
    pub jobs: Vec<JobDoc>,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Report for Summary {
    /// The paths went out as they landed; the summary line is on stderr.
    fn human(&self, _: &mut Text) {}
}
