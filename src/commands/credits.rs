//! `nemo credits`: the balance ([`crate::flow::credits`]), and a gate for
//! CI (`--min N`, exit 4).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::credits::credits;

#[derive(Debug, Default, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo credits\n  nemo credits --min 100 || echo \"top up before the nightly render\"\n  nemo credits --json | jq .available"
)]
pub struct Args {
    /// Exit 4 when fewer than N credits are available
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_min)]
    pub min: Option<i64>,
}

/// `--min`: a whole number of credits, 0 or more. Negative numbers reach
/// this parser (rather than clap's "unexpected argument '-5'"), so they get
/// an error that says what is wrong.
fn parse_min(text: &str) -> std::result::Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err("a minimum of credits cannot be negative".into()),
        Err(_) => Err("expected a whole number of credits, such as 100".into()),
    }
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let report = credits(ctx).await?;
    let available = report.0.available;
    match args.min.filter(|min| available < *min) {
        // With --json the one document on stdout is the error when the gate fails.
        Some(min) => {
            ctx.printer.human(&report)?;
            Err(Error::credits_below(available, min))
        }
        None => ctx.printer.report(&report),
    }
}
