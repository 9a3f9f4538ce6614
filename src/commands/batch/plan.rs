//! What a batch does with each job this run, from the file on disk and the
//! journal's last record: skip a file that is there, resume a recorded
//! render, watch a prompt that went out (never send it again), start a job
//! that never sent its prompt, or report a prompt whose result is unknown
//! (sent again only with `--retry-unknown`). And the `--dry-run` report.
//!
//! It decides only: no network, no writes.

use std::path::Path;

use serde::Serialize;

use crate::flow::journal::{Record, State};
use super::run::Status;
use crate::flow::job::From;
use crate::report::{Report, Text};

/// What a job will do this run.
#[derive(Debug, Clone)]
pub(super) enum Plan {
    Skip,
    Run(From),
    /// Reported as it stands: the prompt went out without a result.
    Report(Status, Record),
}

/// Where a job stands and what this run does with it.
pub(super) fn plan(output: &Path, record: Option<&Record>, retry_unknown: bool) -> Plan {
    if std::fs::symlink_metadata(output).is_ok() {
        return Plan::Skip;
    }
    let Some(record) = record else {
        return Plan::Run(From::Start);
    };
    let session = record.session_id.clone();
    let in_session = |session: Option<String>| match session {
        Some(id) => From::Session(id),
        None => From::Start,
    };
    match (record.state, session) {
        (State::Created, session) => Plan::Run(in_session(session)),
        (_, None) if !record.sent => Plan::Run(From::Start),
        (State::Failed, session) if !record.sent => Plan::Run(in_session(session)),
        (State::Rendering, Some(session)) => Plan::Run(From::Render {
            session_id: session,
            render_id: record.render_id.clone().unwrap_or_default(),
        }),
        // The prompt went out: watch the session for the video (a render
        // that failed, or a file removed since, is made again from it).
        (State::Sent | State::Saved, Some(session)) => Plan::Run(From::Sent(session)),
        (State::Failed, Some(session)) if record.render_id.is_some() => {
            Plan::Run(From::Sent(session))
        }
        (State::Unknown | State::Failed, Some(session)) if retry_unknown => {
            Plan::Run(From::Session(session))
        }
        (State::Unknown, _) => Plan::Report(Status::Unknown, record.clone()),
        _ => Plan::Report(Status::Failed, record.clone()),
    }
}

pub(super) fn describe(plan: &Plan) -> String {
    match plan {
        Plan::Skip => "skip (the file is there)".into(),
        Plan::Run(From::Start) => "generate".into(),
        Plan::Run(From::Session(id)) => format!("generate in session {id}"),
        Plan::Run(From::Sent(id)) => format!("watch session {id} (prompt sent earlier)"),
        Plan::Run(From::Render { render_id, .. }) => format!("resume render {render_id}"),
        Plan::Report(status, _) => {
            format!(
                "report {} (add --retry-unknown to send again)",
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
        }
    }

    fn shown(state: State, sent: bool, render: Option<&str>, retry: bool) -> String {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("x.mp4");
        describe(&plan(&output, Some(&record(state, sent, render)), retry))
    }

    #[test]
    fn a_prompt_that_went_out_is_never_started_again_on_its_own() {
        assert_eq!(
            shown(State::Created, false, None, false),
            "generate in session 7"
        );
        assert_eq!(
            shown(State::Failed, false, None, false),
            "generate in session 7"
        );
        assert_eq!(
            shown(State::Sent, true, None, false),
            "watch session 7 (prompt sent earlier)"
        );
        assert_eq!(
            shown(State::Rendering, true, Some("r1"), false),
            "resume render r1"
        );
        assert_eq!(
            shown(State::Failed, true, Some("r1"), false),
            "watch session 7 (prompt sent earlier)"
        );
        assert!(shown(State::Unknown, true, None, false).starts_with("report unknown"));
        assert!(shown(State::Failed, true, None, false).starts_with("report failed"));
        assert_eq!(
            shown(State::Unknown, true, None, true),
            "generate in session 7"
        );
    }

    #[test]
    fn a_file_that_is_there_is_skipped_and_no_record_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("x.mp4");
        assert_eq!(describe(&plan(&output, None, false)), "generate");
        std::fs::write(&output, b"done").unwrap();
        let sent = record(State::Sent, true, None);
        assert_eq!(
            describe(&plan(&output, Some(&sent), false)),
            "skip (the file is there)"
        );
    }
}
