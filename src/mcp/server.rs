//! The MCP server's side of the protocol: who it is (`nemo`, its version,
//! tools only), the tool list, and each `tools/call` handed to the worker
//! as a [`Job`], with its progress notifications relayed while it runs.
//!
//! It owns the mapping between a tool's outcome and MCP: a result, or a
//! failure as a result with `isError` carrying the CLI's JSON error
//! document. A JSON-RPC error is only for a call no tool answers to. It
//! must not run a tool itself (the worker does, see `super::work`).

use std::sync::Arc;

use rmcp::model::RequestParamsMeta;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::tools::{self, Tool};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::printer::error_document;

/// What the server tells a host it is for, shown to the model.
const INSTRUCTIONS: &str = "\
NemoVideo's AI video agent through nemo: describe a video in words (chat or generate), edit it \
by chatting, read the timeline (state), render and download it (export). A generation costs \
about 100 credits, an edit about 50; exporting is free. A chat message is never sent twice: \
after a dropped stream read `state` instead of sending it again. A render is recorded before \
it is waited for: after an interruption, `export_resume` finishes it without a new render.";

/// One tool call for the worker: the tool, its arguments, where its
/// progress goes, its cancellation, and where its outcome goes.
pub(super) struct Job {
    tool: &'static Tool,
    arguments: Map<String, Value>,
    progress: Option<mpsc::UnboundedSender<String>>,
    cancel: CancellationToken,
    outcome: oneshot::Sender<Result<Value>>,
}

impl Job {
    /// Runs the tool until it ends or the client cancels the call, which
    /// stops it as Ctrl-C stops a command (what was recorded stays: an
    /// export's render can be finished with `export_resume`).
    pub(super) async fn run(self, ctx: &Context) {
        let Job {
            tool,
            arguments,
            progress,
            cancel,
            outcome,
        } = self;
        let listener = progress.map(|sender| {
            Arc::new(move |line: &str| {
                let _ = sender.send(line.to_string());
            }) as tools::Listener
        });
        let result = tokio::select! {
            result = tools::call(ctx, tool, arguments, listener) => result,
            () = cancel.cancelled() => Err(Error::interrupted().with_hint(
                "what was done stays: a render goes on in the cloud (export_resume downloads it); a message that went out is not sent again (state shows its effect)",
            )),
        };
        let _ = outcome.send(result);
    }
}

/// The rmcp handler: answers the protocol, queues tool calls.
pub(super) struct Server {
    jobs: mpsc::UnboundedSender<Job>,
}

impl Server {
    pub(super) fn new(jobs: mpsc::UnboundedSender<Job>) -> Server {
        Server { jobs }
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("nemo", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.into());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::listed()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, ErrorData> {
        let Some(tool) = tools::find(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("unknown tool: {}", request.name),
                None,
            ));
        };
        let token = request
            .progress_token()
            .or_else(|| context.meta.get_progress_token());
        let (progress, mut notes) = mpsc::unbounded_channel();
        let (outcome, mut ended) = oneshot::channel();
        let job = Job {
            tool,
            arguments: request.arguments.unwrap_or_default(),
            progress: token.is_some().then_some(progress),
            cancel: context.ct.clone(),
            outcome,
        };
        if self.jobs.send(job).is_err() {
            return Err(ErrorData::internal_error("the server is stopping", None));
        }
        // Progress goes out while the tool runs, and all of it before the
        // result: a note queued before the end is never sent after it.
        let mut relay = Relay {
            token,
            count: 0,
            context: &context,
        };
        let result = loop {
            tokio::select! {
                biased;
                Some(note) = notes.recv() => relay.send(note).await,
                result = &mut ended => {
                    while let Ok(note) = notes.try_recv() {
                        relay.send(note).await;
                    }
                    break result;
                }
            }
        };
        let result =
            result.unwrap_or_else(|_| Err(Error::interrupted().with_hint("the call was dropped")));
        Ok(CallToolResponse::from(tool_result(result)))
    }
}

/// Sends a call's progress notifications, numbered from 1.
struct Relay<'a> {
    token: Option<ProgressToken>,
    count: u32,
    context: &'a RequestContext<RoleServer>,
}

impl Relay<'_> {
    async fn send(&mut self, note: String) {
        let Some(token) = &self.token else { return };
        self.count += 1;
        let param =
            ProgressNotificationParam::new(token.clone(), f64::from(self.count)).with_message(note);
        // A client that went away is the transport's business, not the tool's.
        let _ = self.context.peer.notify_progress(param).await;
    }
}

/// A tool's outcome as MCP has it: the document as structured content
/// (and as text, for hosts that show only text); a failure as `isError`
/// with the CLI's JSON error document, then its hint as a second text.
fn tool_result(result: Result<Value>) -> CallToolResult {
    match result {
        Ok(document) => {
            let mut answer =
                CallToolResult::success(vec![ContentBlock::text(document.to_string())]);
            answer.structured_content = Some(document);
            answer
        }
        Err(err) => {
            let document = error_document(&err);
            let mut content = vec![ContentBlock::text(document.to_string())];
            if let Some(hint) = err.hint() {
                content.push(ContentBlock::text(format!("hint: {hint}")));
            }
            let mut answer = CallToolResult::error(content);
            answer.structured_content = Some(document);
            answer
        }
    }
}
