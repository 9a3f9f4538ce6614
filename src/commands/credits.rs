//! `nemo credits`: the balance, and a gate for CI (`--min N`, exit 4).

use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo credits\n  nemo credits --min 100 || echo \"top up before the nightly render\"\n  nemo credits --json | jq .available"
)]
pub struct Args {
    /// Exit 4 when fewer than N credits are available
    #[arg(long, value_name = "N")]
    pub min: Option<i64>,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let balance = ctx.authed(|api| async move { api.credits().await }).await?;
    let below = args.min.filter(|min| balance.available < *min);
    // With --json the one document on stdout is the error when the gate fails.
    if !ctx.printer.json {
        ctx.printer.out(format!(
            "available {}\nfrozen {}\ntotal {}",
            balance.available, balance.frozen, balance.total
        ))?;
    } else if below.is_none() {
        ctx.printer.json(&balance)?;
    }
    match below {
        Some(min) => Err(Error::credits_below(balance.available, min)),
        None => Ok(()),
    }
}
