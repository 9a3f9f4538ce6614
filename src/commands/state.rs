//! `nemo state`: the session's timeline, a track a line, and its media
//! counts; `--json` the server's `state` object, `--draft` only its draft
//! (`../shared/spec/cli.md` "nemo state").
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

#[derive(Debug, Default, clap::Args)]
#[command(after_help = "\
On a terminal, first a picture of the timeline: a row per track, each segment a labelled bar on
a time axis fitted to the width (COLUMNS, else the terminal's). Then, and only this when piped,
`Timeline (N tracks):`, then one line per track (its type, each segment's name or text,
its time range in seconds, and the volume of audio when known), then how many media files were
uploaded and generated. A session is created when there is none; a session the server lost is
an error (exit 10).

--json prints the server's `state` object; --draft only its draft, as it came (JSON, or the
text of a draft in another form, such as Draft Protocol markup).

Examples:
  nemo state
  nemo state --json | jq '.video_infos | length'
  nemo state --draft > draft.json")]
pub struct Args {
    /// Print only the draft, as it came (JSON, or the text of a draft in another form)
    #[arg(long)]
    pub draft: bool,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let session = ctx.ensure_session().await?;
    let answer = ctx.api.state(&session).await.map_err(|err| {
        if err.is(Kind::SessionNotFound) {
            err.with_message(format!("session {session} was not found on the server"))
        } else {
            err
        }
    })?;
    let state = answer.state;
    if args.draft {
        let draft = state.get("draft").unwrap_or(&Value::Null);
        // A draft kept as a JSON string is printed as the JSON it holds.
        if let Value::String(text) = draft
            && let Ok(inner) = serde_json::from_str::<Value>(text)
        {
            return ctx.printer.report(&Draft(&inner));
        }
        return ctx.printer.report(&Draft(draft));
    }
    // On a terminal, a picture of the timeline above the summary.
    let picture = match ctx.printer.stdout_width() {
        Some(width) => draw(&StateSummary::from_state(&state).timeline, width),
        None => Vec::new(),
    };
    ctx.printer.report(&State {
        state: &state,
        picture,
    })
}

/// `--draft`: the draft as it came — JSON, or as text the string of a
/// draft in another form (markup), which `--json` keeps a JSON string.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Draft<'a>(&'a Value);

impl Report for Draft<'_> {
    fn human(&self, text: &mut Text) {
        match self.0 {
            Value::String(markup) => text.line(markup.trim_end_matches('\n')),
            json => text.line(json.to_string()),
        }
    }
}

/// The server's `state` object; as text, the picture (when there is one),
/// the timeline a track a line and the media counts.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct State<'a> {
    state: &'a Value,
    #[serde(skip)]
    picture: Vec<String>,
}

impl Report for State<'_> {
    fn human(&self, text: &mut Text) {
        if !self.picture.is_empty() {
            text.line(self.picture.join("\n"));
            text.line("");
        }
        let summary = StateSummary::from_state(self.state);
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
