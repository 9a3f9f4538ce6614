//! `nemo credits`: the balance, and a gate for CI (`--min N`, exit 4).

use serde::Serialize;

use crate::api::credits::Balance;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::report::{Report, Text};

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

/// The balance: `available N`, `frozen N`, `total N` lines, or the
/// server's numbers as JSON.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Credits<'a>(&'a Balance);

impl Report for Credits<'_> {
    fn human(&self, text: &mut Text) {
        let balance = self.0;
        text.line(format!(
            "available {}\nfrozen {}\ntotal {}",
            balance.available, balance.frozen, balance.total
        ));
    }
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let balance = ctx.api.credits().await?;
    let report = Credits(&balance);
    match args.min.filter(|min| balance.available < *min) {
        // With --json the one document on stdout is the error when the gate fails.
        Some(min) => {
            ctx.printer.human(&report)?;
            Err(Error::credits_below(balance.available, min))
        }
        None => ctx.printer.report(&report),
    }
}
