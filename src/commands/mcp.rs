//! `nemo mcp`: its arguments and help; the server itself is the MCP front
//! end ([`crate::mcp`]), which runs the commands for an agent.

use crate::context::Context;
use crate::error::Result;

#[derive(Debug, Default, clap::Args)]
#[command(after_help = "\
Speaks MCP (JSON-RPC, a message a line) on stdin and stdout; logs go to stderr. It ends, with
exit 0, when stdin closes. Global options apply: `nemo --sandbox mcp` serves the offline
emulator. The token is the one nemo stored in its config dir (MCP hosts pass almost no
environment). Add it to Claude Code with `claude mcp add nemovideo -- nemo mcp`; any other host
runs the command `nemo` with the argument `mcp`.

Tools: credits, session_new, chat, upload, state, export, export_resume, generate. Each answers
with the document its command prints with --json (chat: one object
{\"session_id\",\"reply\",\"silent\",\"changes\",\"dropped\"}); a failure is a result with
isError and the command's JSON error document.

Examples:
  nemo mcp
  nemo --sandbox mcp    # offline: try an agent without an account")]
pub struct Args {}

pub async fn run(_args: &Args, ctx: &Context) -> Result<()> {
    crate::mcp::serve(ctx).await
}
