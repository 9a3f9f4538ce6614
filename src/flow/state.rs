//! A session's state as a result: what `nemo state` shows (the timeline
//! a track a line and the media counts, or the draft alone), and the chat
//! prompt's "status" with it.
//!
//! A lost session (1002) is an error here (exit 10), naming the session:
//! showing a fresh, empty session instead would hide that the work is gone.
//! A draft in a form nemo does not read (markup, an unknown JSON shape) is
//! said to be so, with its size and how to print it — never called empty.

use serde::Serialize;
use serde_json::Value;

use crate::context::Context;
use crate::error::{Kind, Result};
use crate::report::{Report, Text};
use crate::timeline::draw::draw;
use crate::timeline::{DraftForm, StateSummary};

/// The current session's `state` object (a session is created when there
/// is none; one the server lost is an error naming it).
pub(crate) async fn fetch(ctx: &Context) -> Result<Value> {
    let session = ctx.ensure_session().await?;
    let answer = ctx.api.state(&session).await.map_err(|err| {
        if err.is(Kind::SessionNotFound) {
            err.with_message(format!("session {session} was not found on the server"))
        } else {
            err
        }
    })?;
    Ok(answer.state)
}

/// The draft of `state`, as it came; a draft kept as a JSON string is the
/// JSON it holds.
pub(crate) fn draft(state: &Value) -> Draft {
    let draft = state.get("draft").unwrap_or(&Value::Null);
    if let Value::String(text) = draft
        && let Ok(inner) = serde_json::from_str::<Value>(text)
    {
        return Draft(inner);
    }
    Draft(draft.clone())
}

/// `state` as a report; on a terminal (`ctx` has a stdout width) with a
/// picture of the timeline above the summary.
pub(crate) fn timeline(ctx: &Context, state: Value) -> State {
    let picture = match ctx.printer.stdout_width() {
        Some(width) => draw(&StateSummary::from_state(&state).timeline, width),
        None => Vec::new(),
    };
    State { state, picture }
}

/// `--draft`: the draft as it came — JSON, or as text the string of a
/// draft in another form (markup), which `--json` keeps a JSON string.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Draft(Value);

impl Report for Draft {
    fn human(&self, text: &mut Text) {
        match &self.0 {
            Value::String(markup) => text.line(markup.trim_end_matches('\n')),
            json => text.line(json.to_string()),
        }
    }
}

/// The server's `state` object; as text, the picture (when there is one),
/// the timeline a track a line and the media counts.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct State {
    state: Value,
    #[serde(skip)]
    picture: Vec<String>,
}

impl Report for State {
    fn human(&self, text: &mut Text) {
        if !self.picture.is_empty() {
            text.line(self.picture.join("\n"));
            text.line("");
        }
        let summary = StateSummary::from_state(&self.state);
        let form = DraftForm::of(self.state.get("draft").unwrap_or(&Value::Null));
        let mut lines = match form.describe() {
            Some(other) => vec![format!("Timeline: {other}")],
            None if summary.timeline.tracks.is_empty() => {
                vec!["Timeline (0 tracks): the draft is empty".to_string()]
            }
            None => summary.timeline.summary_lines(),
        };
        lines.push(format!(
            "Media: {} uploaded, {} generated",
            summary.uploaded, summary.generated
        ));
        text.line(lines.join("\n"));
        if form != DraftForm::Known {
            text.hint("print the draft as it is with `nemo state --draft`; `nemo export` renders it as it is");
        } else if !summary.timeline.has_content() {
            text.hint(
                "nothing to export yet; ask the agent for a video: nemo chat \"generate a 10-second video of …\"",
            );
        }
    }
}
