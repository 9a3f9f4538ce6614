//! What `generate` shows of its job and keeps on record: the phases (one
//! status line on a terminal, else a stderr line per phase), the steps
//! appended to the job's journal beside its output before the job moves
//! on, and the hints after a failure, a timeout or Ctrl-C.

use std::cell::RefCell;

use indicatif::ProgressBar;

use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::job::{self as run, From, Hooks, Phase, Step};
use crate::flow::journal::{Record, Shared, State};
use crate::flow::render::{self as export, Target};

/// Shows the job's phases: one status line with the elapsed time on a
/// terminal, else a stderr line per phase. Remembers how far the job got,
/// for the hints after a failure, a timeout or Ctrl-C.
pub(super) struct Display<'a> {
    ctx: &'a Context,
    /// The job's journal and its record: each step is appended before the
    /// job moves on.
    journal: Shared,
    pub(super) record: RefCell<Record>,
    bar: Option<ProgressBar>,
    last: RefCell<Option<std::mem::Discriminant<Phase>>>,
    session: RefCell<Option<String>>,
    sent: RefCell<bool>,
    render: RefCell<Option<String>>,
    reply: RefCell<Option<String>>,
}

impl<'a> Display<'a> {
    pub(super) fn new(ctx: &'a Context, journal: Shared, record: Record) -> Display<'a> {
        let bar = ctx
            .printer
            .shows_progress()
            .then(|| ctx.printer.spinner("starting"));
        let session = record.session_id.clone();
        let render = record.render_id.clone();
        let sent = record.sent;
        Display {
            ctx,
            journal,
            record: RefCell::new(record),
            bar,
            last: RefCell::new(None),
            session: RefCell::new(session),
            sent: RefCell::new(sent),
            render: RefCell::new(render),
            reply: RefCell::new(None),
        }
    }

    /// Appends the record as it stands now.
    pub(super) fn save(&self) -> Result<()> {
        let mut record = self.record.borrow_mut();
        record.at = crate::time::now_rfc3339();
        self.journal.append(&record)
    }

    /// The job ended: its outcome on record (what may still be finished
    /// stays resumable).
    pub(super) fn ended(&self, err: Option<&Error>) {
        {
            let mut record = self.record.borrow_mut();
            match err {
                None => record.state = State::Saved,
                Some(err) => {
                    record.error = Some(err.message().to_string());
                    record.exit_code = Some(err.exit_code());
                    // The agent failed or made no video: a known failure, a
                    // new job next time. Anything else stays resumable.
                    if err.message().starts_with("the agent") {
                        record.state = State::Failed;
                    }
                }
            }
        }
        if matches!(self.record.borrow().state, State::Saved | State::Failed) {
            self.journal.remove();
        } else {
            let _ = self.save();
        }
    }

    pub(super) fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.suspend(|| self.ctx.printer.status(&line)),
            None => self.ctx.printer.status(&line),
        }
    }

    /// What to do after the job stopped where it is.
    pub(super) fn resume_hint(&self) -> String {
        let session = self.session.borrow().clone().unwrap_or_default();
        if let Some(id) = self.render.borrow().as_deref() {
            return export::resume_hint(id);
        }
        if *self.sent.borrow() {
            return format!(
                "the agent may still finish; `nemo --session {session} state` shows the timeline, `nemo --session {session} export` renders it"
            );
        }
        "the prompt was not sent".into()
    }

    /// A failure, with the agent's reply on stderr when it made no video.
    pub(super) fn explain(&self, err: Error) -> Error {
        let no_video = err.is(Kind::JobFailed)
            && self.render.borrow().is_none()
            && err.message().starts_with(run::NO_VIDEO);
        if let (true, Some(reply)) = (no_video, self.reply.borrow().as_deref()) {
            self.ctx.printer.err_line("The agent replied:");
            let reply = crate::sanitize::strip_controls(reply);
            for line in reply.lines() {
                self.ctx.printer.err_line(&format!("  {line}"));
            }
        }
        err
    }
}

impl Hooks for Display<'_> {
    fn phase(&self, phase: Phase) {
        if let Some(bar) = &self.bar {
            bar.set_message(phase.to_string());
            return;
        }
        let kind = std::mem::discriminant(&phase);
        if self.last.replace(Some(kind)) == Some(kind) {
            return;
        }
        let line = match phase {
            Phase::Rendering(_) => "Rendering…".to_string(),
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                match chars.next() {
                    Some(first) => format!("{}{}…", first.to_uppercase(), chars.as_str()),
                    None => text,
                }
            }
        };
        self.ctx.printer.status(line);
    }

    fn record(&self, step: Step<'_>) -> Result<()> {
        {
            let mut record = self.record.borrow_mut();
            match &step {
                Step::Session { session_id } => {
                    record.state = State::Created;
                    record.session_id = Some(session_id.to_string());
                }
                Step::Sending { draft_before } => {
                    record.state = State::Sent;
                    record.sent = true;
                    record.draft_before = Some(draft_before.to_string());
                }
                Step::Refused => {
                    record.state = State::Refused;
                    record.sent = false;
                }
                Step::Replied { .. } => record.state = State::Replied,
                Step::Rendering { render_id } => {
                    record.state = State::Rendering;
                    record.render_id = Some(render_id.to_string());
                }
            }
        }
        self.save()?;
        match step {
            Step::Session { session_id, .. } => {
                *self.session.borrow_mut() = Some(session_id.to_string());
                self.line(format!("Working in session {session_id}"));
            }
            Step::Sending { .. } => *self.sent.borrow_mut() = true,
            Step::Refused => *self.sent.borrow_mut() = false,
            Step::Replied { .. } => {}
            Step::Rendering { render_id, .. } => {
                *self.render.borrow_mut() = Some(render_id.to_string());
                self.line(format!("Submitted render {render_id}"));
            }
        }
        Ok(())
    }

    fn note(&self, line: &str) {
        self.line(line.to_string());
    }

    fn replied(&self, reply: &str) {
        *self.reply.borrow_mut() = Some(reply.to_string());
    }
}

/// Where an unfinished job of this command, found in its journal, goes
/// on; `None` for a job that is done or failed for good (a new one).
pub(super) fn resume_from(record: &Record) -> Option<From> {
    let session = record.session_id.clone()?;
    match record.state {
        State::Created | State::Refused => Some(From::Session(session)),
        State::Sent | State::Unknown => Some(From::Sent {
            session,
            draft_before: record.draft_before.clone(),
        }),
        State::Replied => Some(From::Replied {
            session,
            draft_before: record.draft_before.clone(),
        }),
        State::Rendering => Some(From::Render {
            session_id: session,
            render_id: record.render_id.clone()?,
            redo: true,
        }),
        State::Saved | State::Failed => None,
    }
}

/// The record a new job starts from.
pub(super) fn fresh(key: &str, prompt: &str, target: &Target) -> Record {
    Record {
        line: 0,
        output: match target {
            Target::File(path) | Target::Folder(path) => path.display().to_string(),
        },
        prompt: prompt.to_string(),
        state: State::Created,
        session_id: None,
        render_id: None,
        sent: false,
        error: None,
        exit_code: None,
        at: String::new(),
        key: key.to_string(),
        bytes: None,
        render_ended: false,
        draft_before: None,
    }
}
