//! The Model Context Protocol front end: a server on stdin/stdout
//! (`nemo mcp`, whose arguments are in `commands::mcp`)
//! (`../shared/spec/cli.md` "nemo mcp"), so that AI agents use NemoVideo
//! through nemo, with its guarantees (never re-sent, never paid twice,
//! resumable, bounded).
//!
//! The protocol (framing, `initialize`, `server/discover`, cancellation
//! notices) is rmcp's; [`server`] answers it and hands each tool call to
//! the worker here, which runs it beside the others on this task (the
//! commands' futures need not be `Send`). The tools themselves are in
//! [`tools`]: they run what the commands run, with a printer whose stdout
//! is captured, so only protocol messages ever reach stdout. Like the
//! command line's dispatcher in `lib.rs`, it is a front end over the
//! commands, not a command: it may call them all.

mod args;
mod chat;
mod server;
mod tools;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;

use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::interrupt::Interrupt;
use server::{Job, Server};

/// Serves MCP on stdin/stdout until stdin closes.
pub(crate) async fn serve(ctx: &Context) -> Result<()> {
    let (jobs, queue) = mpsc::unbounded_channel();
    let service = match rmcp::serve_server(Server::new(jobs), rmcp::transport::stdio()).await {
        Ok(service) => service,
        // stdin closed (or held no request) before the first exchange: a
        // host that went away, which is not a failure of the server.
        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
        Err(err) => {
            return Err(Error::new(
                Kind::Io,
                format!("the MCP client did not start the session: {err}"),
            ));
        }
    };
    // The worker ends only with the server; once the server is gone no
    // result could be delivered, so the calls still running are dropped.
    let worker = work(ctx, queue);
    tokio::pin!(worker);
    let mut interrupt = Interrupt::new();
    let ended = tokio::select! {
        ended = service.waiting() => ended,
        () = &mut worker => return Ok(()),
        // A host that stops its server closes stdin (exit 0), or sends
        // SIGTERM: that, SIGHUP and Ctrl-C end it as they end any command
        // (143, 129, 130), its state saved under --sandbox.
        () = interrupt.recv() => return Err(Error::interrupted()),
    };
    ended.map(|_| ()).map_err(|e| {
        Error::new(
            Kind::Io,
            format!("the MCP server stopped unexpectedly: {e}"),
        )
    })
}

/// Runs the tool calls as they come, several at once, until the server's
/// end of the queue is dropped.
async fn work(ctx: &Context, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut running = FuturesUnordered::new();
    loop {
        tokio::select! {
            job = queue.recv() => match job {
                Some(job) => running.push(job.run(ctx)),
                None => return,
            },
            Some(()) = running.next(), if !running.is_empty() => {}
        }
    }
}
