//! `nemo state`: the session's timeline, a track a line, and its media
//! counts; `--json` the server's `state` object, `--draft` only its draft
//! (`../shared/spec/cli.md` "nemo state").
//!
//! A lost session (1002) is an error here (exit 10): showing a fresh, empty
//! session instead would hide that the work is gone.

use serde_json::Value;

use crate::context::Context;
use crate::error::Result;
use crate::timeline::StateSummary;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Prints `Timeline (N tracks):`, then one line per track (its type, each segment's name or text,
its time range in seconds, and the volume of audio when known), then how many media files were
uploaded and generated. A session is created when there is none; a session the server lost is
an error (exit 10).

--json prints the server's `state` object; --draft only its draft, as JSON.

Examples:
  nemo state
  nemo state --json | jq '.video_infos | length'
  nemo state --draft > draft.json")]
pub struct Args {
    /// Print only the draft, as JSON
    #[arg(long)]
    pub draft: bool,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let session = ctx.ensure_session().await?;
    let answer = ctx
        .authed(|api| {
            let session = session.clone();
            async move { api.state(&session).await }
        })
        .await?;
    let state = answer.state;
    if args.draft {
        let draft = state.get("draft").unwrap_or(&Value::Null);
        // A draft kept as a JSON string is printed as the JSON it holds.
        if let Value::String(text) = draft
            && let Ok(inner) = serde_json::from_str::<Value>(text)
        {
            return ctx.printer.json(&inner);
        }
        return ctx.printer.json(draft);
    }
    if ctx.printer.json {
        return ctx.printer.json(&state);
    }
    let summary = StateSummary::from_state(&state);
    let mut lines = if summary.timeline.tracks.is_empty() {
        vec!["Timeline (0 tracks): the draft is empty".to_string()]
    } else {
        summary.timeline.summary_lines()
    };
    lines.push(format!(
        "Media: {} uploaded, {} generated",
        summary.uploaded, summary.generated
    ));
    ctx.printer.out(lines.join("\n"))?;
    if !summary.timeline.has_content() {
        ctx.printer.hint(
            "nothing to export yet; ask the agent for a video: nemo chat \"generate a 10-second video of …\"",
        );
    }
    Ok(())
}
