//! Running the jobs of a batch: at most `-j` at once, each the job of
//! `generate` ([`crate::flow::job::run`]) in its own
//! session, its moves appended to the journal before they are made (the
//! session, the prompt about to go out, the render accepted) and its end
//! recorded (saved, failed, unknown). Ctrl-C stops starting jobs; what the
//! running ones did is on record already.
//!
//! It decides nothing about which jobs run (`mod.rs` plans that) and prints
//! only through the [`Display`].

use std::cell::RefCell;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::time::Instant;

use super::display::Display;
use super::jobs::Job;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::job::{self as job_run, From, Hooks, Phase, Step};
use crate::flow::journal::{Journal, Record, State};
use crate::flow::render::Target;
use crate::interrupt::Interrupt;

/// The options every job shares.
pub(crate) struct Shared<'a> {
    pub format: &'a str,
    pub quality: &'a str,
    pub poll_interval: Option<f64>,
    pub timeout: Duration,
    pub jobs_at_once: usize,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Done,
    Failed,
    Unknown,
    Skipped,
    /// Not started: the credits ran out (2001) first.
    Pending,
}

impl Status {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Failed => "failed",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
            Status::Pending => "pending",
        }
    }
}

/// A job's end, for the summary and `--json`.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub line: usize,
    pub status: Status,
    pub session_id: Option<String>,
    pub render_id: Option<String>,
    pub project_url: Option<String>,
    /// Kind, message and hint of the failure.
    pub error: Option<(Kind, String, Option<String>)>,
    /// Reported from the journal, not run this time.
    pub reported: bool,
}

/// Runs `todo` (index into `jobs`, where to start, the journal's record)
/// at most `shared.jobs_at_once` at a time. Returns the outcomes and
/// whether Ctrl-C stopped it.
pub(crate) async fn run_all(
    ctx: &Context,
    jobs: &[Job],
    todo: Vec<(usize, From, Option<Record>)>,
    journal: &Journal,
    display: &Display,
    shared: &Shared<'_>,
) -> (Vec<Outcome>, bool) {
    let mut queue = todo.into_iter();
    let mut running = FuturesUnordered::new();
    let mut outcomes = Vec::new();
    let mut interrupt = Interrupt::new();
    // After the first "no credits" refusal no new job starts.
    let mut out_of_credits = false;
    loop {
        while running.len() < shared.jobs_at_once && !out_of_credits {
            let Some((index, from, record)) = queue.next() else {
                break;
            };
            running.push(one(
                ctx,
                &jobs[index],
                from,
                record,
                journal,
                display,
                shared,
            ));
        }
        if running.is_empty() {
            outcomes.extend(queue.map(|(index, _, record)| Outcome {
                line: jobs[index].line,
                status: Status::Pending,
                session_id: record.and_then(|r| r.session_id),
                render_id: None,
                project_url: None,
                error: Some((Kind::NoCredits, "not started: no credits left".into(), None)),
                reported: false,
            }));
            return (outcomes, false);
        }
        tokio::select! {
            Some(outcome) = running.next() => {
                if matches!(&outcome.error, Some((Kind::NoCredits, ..))) {
                    out_of_credits = true;
                }
                outcomes.push(outcome);
            }
            () = interrupt.recv() => {
                display.clear();
                return (outcomes, true);
            }
        }
    }
}

/// The record a job starts from.
fn fresh(job: &Job) -> Record {
    Record {
        line: job.line,
        output: job.output.display().to_string(),
        prompt: job.prompt.clone(),
        state: State::Created,
        session_id: None,
        render_id: None,
        sent: false,
        error: None,
        exit_code: None,
        at: String::new(),
        key: job.key.clone(),
        bytes: None,
        render_ended: false,
        draft_before: None,
    }
}

/// One job, from where it stands to its end, every move on record.
async fn one(
    ctx: &Context,
    job: &Job,
    from: From,
    record: Option<Record>,
    journal: &Journal,
    display: &Display,
    shared: &Shared<'_>,
) -> Outcome {
    let mut start = record.unwrap_or_else(|| fresh(job));
    start.line = job.line;
    start.key = job.key.clone();
    start.error = None;
    start.exit_code = None;
    start.render_ended = false;
    let hooks = JobHooks {
        line: job.line,
        journal,
        display,
        record: RefCell::new(start),
    };
    display.start(job.line);
    let target = Target::File(job.output.clone());
    let deadline = Instant::now() + shared.timeout;
    let spec = job_run::Job {
        prompt: &job.prompt,
        uploads: &job.uploads,
        name: &job.name,
        language: None,
        format: shared.format,
        quality: shared.quality,
        target: &target,
        force: false,
        poll_interval: shared.poll_interval,
        deadline,
        idle: crate::flow::job::IDLE_TIMEOUT,
        in_config: false,
    };
    let result = match tokio::time::timeout_at(deadline, job_run::run(ctx, &spec, from, &hooks))
        .await
    {
        Ok(result) => result,
        Err(_) => Err(Error::new(
            Kind::JobFailed,
            format!(
                "the job did not finish within {} (--timeout)",
                humantime::format_duration(Duration::from_secs(shared.timeout.as_secs().max(1)))
            ),
        )),
    };
    display.end(job.line);
    let mut record = hooks.record.into_inner();
    match result {
        Ok(saved) => {
            record.state = State::Saved;
            record.session_id = Some(saved.session_id.clone());
            record.render_id = Some(saved.render_id.clone());
            record.bytes = Some(saved.bytes);
            let recorded = save(journal, &mut record);
            let path = saved.path.display().to_string();
            if saved.dropped {
                display.note(job.line, crate::flow::turn::DROPPED_WARNING);
            }
            let _ = display.saved(job.line, &path);
            let project_url = crate::flow::claim::project_url(ctx, &saved.session_id).await;
            if let Some(url) = &project_url {
                display.note(job.line, &format!("project {url}"));
            }
            Outcome {
                line: job.line,
                status: if recorded.is_ok() {
                    Status::Done
                } else {
                    Status::Failed
                },
                session_id: Some(saved.session_id),
                render_id: Some(saved.render_id),
                project_url,
                error: recorded
                    .err()
                    .map(|e| (e.kind(), e.message().to_string(), e.hint())),
                reported: false,
            }
        }
        Err(err) => {
            // The prompt went out and its reply never ended: what became
            // of it is unknown (an agent's own error is a known failure).
            let unknown = matches!(record.state, State::Sent | State::Unknown)
                && !err.message().starts_with("the agent failed");
            let ended = record
                .render_id
                .as_deref()
                .is_some_and(|id| render_ended(&err, id));
            // What is on record stays: a refused prompt is not sent, a paid
            // reply is finished from its session, a render that may still
            // finish is polled; only what failed for good is "failed".
            // The agent failed or made no video: a known failure, sent
            // again only with --retry-failed.
            let agent_failed = err.message().starts_with("the agent");
            record.state = match record.state {
                _ if agent_failed => State::Failed,
                State::Refused | State::Created => record.state,
                State::Replied => State::Replied,
                State::Rendering if !ended => State::Rendering,
                _ if unknown => State::Unknown,
                _ => State::Failed,
            };
            record.render_ended = ended;
            record.error = Some(err.message().to_string());
            record.exit_code = Some(err.exit_code());
            let _ = save(journal, &mut record);
            let word = if unknown { "unknown" } else { "failed" };
            display.note(job.line, &format!("{word}: {err}"));
            Outcome {
                line: job.line,
                status: if unknown {
                    Status::Unknown
                } else {
                    Status::Failed
                },
                session_id: record.session_id.clone(),
                render_id: record.render_id.clone(),
                project_url: None,
                error: Some((err.kind(), err.message().to_string(), err.hint())),
                reported: false,
            }
        }
    }
}

/// The render ended without a file (failed or cancelled on the server):
/// it is submitted again from the same draft on a re-run.
fn render_ended(err: &Error, render_id: &str) -> bool {
    let message = err.message();
    err.is(Kind::JobFailed)
        && (message.starts_with(&format!("render {render_id} failed"))
            || message.starts_with(&format!("render {render_id} was cancelled")))
}

fn save(journal: &Journal, record: &mut Record) -> Result<()> {
    record.at = crate::time::now_rfc3339();
    journal.append(record)
}

/// What a job's moves do: the journal first, then the display.
struct JobHooks<'a> {
    line: usize,
    journal: &'a Journal,
    display: &'a Display,
    record: RefCell<Record>,
}

impl Hooks for JobHooks<'_> {
    fn phase(&self, phase: Phase) {
        self.display.phase(self.line, &phase);
    }

    fn note(&self, line: &str) {
        self.display.note(self.line, line);
    }

    fn record(&self, step: Step<'_>) -> Result<()> {
        let mut record = self.record.borrow_mut();
        let text = match step {
            Step::Session { session_id, .. } => {
                record.state = State::Created;
                record.session_id = Some(session_id.to_string());
                format!("started in session {session_id}")
            }
            Step::Sending { draft_before } => {
                record.state = State::Sent;
                record.sent = true;
                record.draft_before = Some(draft_before.to_string());
                "prompt sent".to_string()
            }
            Step::Refused => {
                record.state = State::Refused;
                record.sent = false;
                "prompt refused before any work (not sent)".to_string()
            }
            Step::Replied { dropped } => {
                record.state = State::Replied;
                if dropped {
                    "replied (the stream dropped; the work showed up)".to_string()
                } else {
                    "replied".to_string()
                }
            }
            Step::Rendering { render_id, .. } => {
                record.state = State::Rendering;
                record.render_id = Some(render_id.to_string());
                format!("rendering {render_id}")
            }
        };
        save(self.journal, &mut record)?;
        self.display.state(self.line, &text);
        Ok(())
    }
}
