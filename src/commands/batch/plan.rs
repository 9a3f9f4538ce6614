//! What a batch does with each job this run, from the file on disk and the
//! journal's last record of the job: skip a verified file, download again
//! from the recorded render a file that is missing or not the job's,
//! resume a recorded render, render a paid reply's draft, look at the
//! session of a prompt whose result is unknown (never send it again on its
//! own), start a job that never sent its prompt or was refused before any
//! work, or report a job that failed for a known reason (sent again only
//! with `--retry-failed`). And the `--dry-run` report.
//!
//! It decides only: no network, no writes.

use std::path::Path;

use serde::Serialize;

use super::run::Status;
use crate::error::Kind;
use crate::flow::job::From;
use crate::flow::journal::{Record, State};
use crate::report::{Report, Text};

/// What a job will do this run.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Skip,
    Run(From),
    /// Reported as it stands: failed or unknown, not sent again this run.
    Report(Status, Record),
}

/// What to send again this run.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Retry {
    /// Prompts that went out without a known result.
    pub unknown: bool,
    /// Jobs that failed for a known reason after the prompt ran.
    pub failed: bool,
}

/// The job's file is there and is what the journal recorded (its size):
/// a regular file, not a symlink, not empty, not of another size.
fn verified(output: &Path, record: &Record) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(output) else {
        return false;
    };
    meta.is_file() && meta.len() > 0 && record.bytes.is_none_or(|bytes| bytes == meta.len())
}

/// Where a job stands and what this run does with it.
pub(super) fn plan(output: &Path, record: Option<&Record>, retry: Retry) -> Plan {
    let Some(record) = record else {
        // Not the journal's: a file there is the user's, left alone.
        if std::fs::symlink_metadata(output).is_ok() {
            return Plan::Skip;
        }
        return Plan::Run(From::Start);
    };
    let in_session = |session: Option<String>| match session {
        Some(id) => From::Session(id),
        None => From::Start,
    };
    let session = record.session_id.clone();
    let render = record.render_id.clone();
    let draft_before = record.draft_before.clone();
    match (record.state, session, render) {
        (State::Saved, _, _) if verified(output, record) => Plan::Skip,
        // The file is missing, short or replaced: download it again.
        (State::Saved | State::Rendering, Some(session_id), Some(render_id)) => {
            Plan::Run(From::Render {
                session_id,
                render_id,
                redo: true,
            })
        }
        (State::Created | State::Refused, session, _) => Plan::Run(in_session(session)),
        (_, session, _) if !record.sent => Plan::Run(in_session(session)),
        // A render that ended without a file is submitted again from the
        // same draft; one that may still finish is polled.
        (State::Failed, Some(session_id), Some(_)) if record.render_ended => {
            Plan::Run(From::Replied {
                session: session_id,
                draft_before,
            })
        }
        (State::Failed, Some(session_id), Some(render_id)) => Plan::Run(From::Render {
            session_id,
            render_id,
            redo: true,
        }),
        (State::Replied | State::Saved | State::Rendering, Some(session), _) => {
            Plan::Run(From::Replied {
                session,
                draft_before,
            })
        }
        (State::Sent | State::Unknown, Some(session), _) if retry.unknown => {
            Plan::Run(From::Session(session))
        }
        (State::Sent | State::Unknown, Some(session), _) => Plan::Run(From::Sent {
            session,
            draft_before,
        }),
        (State::Failed, Some(session), _) if retry.failed => Plan::Run(From::Session(session)),
        (State::Unknown | State::Sent, _, _) => Plan::Report(Status::Unknown, record.clone()),
        _ if retry.failed => Plan::Run(From::Start),
        _ => Plan::Report(Status::Failed, record.clone()),
    }
}

/// The kind of error an exit code stands for: a job not retried keeps the
/// exit code of its recorded cause.
pub(super) fn kind_of_code(code: Option<u8>, status: Status) -> Kind {
    match code {
        Some(3) => Kind::Auth,
        Some(4) => Kind::NoCredits,
        Some(5) => Kind::Plan,
        Some(6) => Kind::RateLimited,
        Some(7) => Kind::BadInput,
        Some(8) => Kind::JobFailed,
        Some(9) => Kind::ReplyLost,
        Some(10) => Kind::SessionNotFound,
        _ if status == Status::Unknown => Kind::ReplyLost,
        _ => Kind::JobFailed,
    }
}

pub(super) fn describe(plan: &Plan) -> String {
    match plan {
        Plan::Skip => "skip (the file is there)".into(),
        Plan::Run(From::Start) => "generate".into(),
        Plan::Run(From::Session(id)) => format!("generate in session {id}"),
        Plan::Run(From::Sent { session, .. }) => {
            format!("look at session {session} (prompt sent earlier)")
        }
        Plan::Run(From::Replied { session, .. }) => {
            format!("render session {session} (reply paid for)")
        }
        Plan::Run(From::Render { render_id, .. }) => format!("resume render {render_id}"),
        Plan::Report(Status::Unknown, _) => {
            "report unknown (add --retry-unknown to send again)".into()
        }
        Plan::Report(status, _) => {
            format!(
                "report {} (add --retry-failed to send again)",
                status.name()
            )
        }
    }
}

#[derive(Debug, Serialize)]
pub(super) struct DryJob {
    pub line: usize,
    pub path: String,
    pub action: String,
}

#[derive(Debug, Serialize)]
pub(super) struct DryRun {
    pub jobs: Vec<DryJob>,
    pub estimated_credits: i64,
    pub available: Option<i64>,
}

impl Report for DryRun {
    fn human(&self, text: &mut Text) {
        for job in &self.jobs {
            text.line(format!(
                "line {}: {}  →  {}",
                job.line, job.action, job.path
            ));
        }
        text.line(match self.available {
            Some(available) => format!(
                "credits: about {} estimated, {available} available",
                self.estimated_credits
            ),
            None if self.estimated_credits == 0 => "credits: none needed".to_string(),
            None => format!(
                "credits: about {} estimated (balance unknown until there is a token)",
                self.estimated_credits
            ),
        });
        text.status("Dry run: nothing was sent");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: State, sent: bool, render: Option<&str>) -> Record {
        Record {
            line: 1,
            output: "x.mp4".into(),
            prompt: "p".into(),
            state,
            session_id: Some("7".into()),
            render_id: render.map(str::to_string),
            sent,
            error: None,
            exit_code: None,
            at: String::new(),
            key: String::new(),
            bytes: Some(4),
            render_ended: false,
            draft_before: None,
        }
    }

    fn shown(state: State, sent: bool, render: Option<&str>, retry: Retry) -> String {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("x.mp4");
        describe(&plan(&output, Some(&record(state, sent, render)), retry))
    }

    #[test]
    fn a_prompt_that_went_out_is_never_started_again_on_its_own() {
        let no = Retry::default();
        assert_eq!(
            shown(State::Created, false, None, no),
            "generate in session 7"
        );
        assert_eq!(
            shown(State::Refused, false, None, no),
            "generate in session 7"
        );
        assert_eq!(
            shown(State::Failed, false, None, no),
            "generate in session 7"
        );
        assert_eq!(
            shown(State::Sent, true, None, no),
            "look at session 7 (prompt sent earlier)"
        );
        assert_eq!(
            shown(State::Replied, true, None, no),
            "render session 7 (reply paid for)"
        );
        assert_eq!(
            shown(State::Rendering, true, Some("r1"), no),
            "resume render r1"
        );
        assert_eq!(
            shown(State::Failed, true, Some("r1"), no),
            "resume render r1"
        );
        assert!(shown(State::Failed, true, None, no).starts_with("report failed"));
        let unknown = Retry {
            unknown: true,
            failed: false,
        };
        assert_eq!(
            shown(State::Unknown, true, None, unknown),
            "generate in session 7"
        );
        let failed = Retry {
            unknown: false,
            failed: true,
        };
        assert_eq!(
            shown(State::Failed, true, None, failed),
            "generate in session 7"
        );
    }

    #[test]
    fn only_a_verified_file_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("x.mp4");
        let no = Retry::default();
        assert_eq!(describe(&plan(&output, None, no)), "generate");
        let saved = record(State::Saved, true, Some("r1"));
        assert_eq!(
            describe(&plan(&output, Some(&saved), no)),
            "resume render r1"
        );
        std::fs::write(&output, b"done").unwrap();
        assert_eq!(
            describe(&plan(&output, Some(&saved), no)),
            "skip (the file is there)"
        );
        std::fs::write(&output, b"").unwrap();
        assert_eq!(
            describe(&plan(&output, Some(&saved), no)),
            "resume render r1"
        );
        std::fs::write(&output, b"longer").unwrap();
        assert_eq!(
            describe(&plan(&output, Some(&saved), no)),
            "resume render r1"
        );
    }
}
