//! `nemo state`: the session's timeline, a track a line, and its media
//! counts; `--json` the server's `state` object, `--draft` only its draft
//! (`../shared/spec/cli.md` "nemo state").
//!
//! The state and its reports are [`crate::flow::state`]'s; this module
//! owns the command line.

use crate::context::Context;
use crate::error::Result;
use crate::flow::state;

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
    let state = state::fetch(ctx).await?;
    if args.draft {
        return ctx.printer.report(&state::draft(&state));
    }
    ctx.printer.report(&state::timeline(ctx, state))
}
