//! `nemo state` (being written; see its issue).

use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(_args: &Args, _ctx: &Context) -> Result<()> {
    Err(Error::usage("`nemo state` is not available yet"))
}
