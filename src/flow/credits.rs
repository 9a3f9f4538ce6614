//! The credit balance as a result: what `nemo credits` shows, and the
//! chat prompt's "credits" with it. The `--min` gate is the command's.

use serde::Serialize;

use crate::api::credits::Balance;
use crate::context::Context;
use crate::error::Result;
use crate::report::{Report, Text};

/// The balance: `available N`, `frozen N`, `total N` lines, or the
/// server's numbers as JSON.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Credits(pub Balance);

impl Report for Credits {
    fn human(&self, text: &mut Text) {
        let balance = &self.0;
        text.line(format!(
            "available {}\nfrozen {}\ntotal {}",
            balance.available, balance.frozen, balance.total
        ));
    }
}

/// Asks the server for the balance.
pub(crate) async fn credits(ctx: &Context) -> Result<Credits> {
    Ok(Credits(ctx.api.credits().await?))
}
