//! The MCP tools: their names, descriptions (written for a model) and
//! input schemas, and one function per tool that runs what the command of
//! the same name runs and returns that command's `--json` document.
//!
//! A tool runs the command's own code with a printer whose stdout is
//! captured ([`crate::printer::Capture`]): the document is the one the
//! command prints, by construction, and nothing reaches the real stdout,
//! which carries the protocol. Status lines become progress notes.

use std::ffi::OsString;
use std::sync::Arc;

use rmcp::model::ToolAnnotations;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::args::{
    ChatArgs, ExportArgs, ExportResumeArgs, GenerateArgs, NoArgs, SessionNewArgs, StateArgs,
    UploadArgs,
};
use crate::cli::render::{RenderArgs, WaitArgs};
use crate::commands::{credits, export, generate, session, state, upload};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::printer::Capture;
use crate::settings::check_session_id;

/// Told each progress note of a running tool.
pub(super) type Listener = crate::printer::StatusListener;

/// A tool as listed: its name, what the model reads about it, its input.
pub(super) struct Tool {
    pub(super) name: &'static str,
    title: &'static str,
    description: &'static str,
    schema: fn() -> schemars::Schema,
    effect: Effect,
}

/// What a tool does to the world, as hints for a host (which may run
/// read-only tools without asking).
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// Reads only.
    Reads,
    /// Adds (a session, uploads, a file) without changing what exists.
    Adds,
    /// May change the session's timeline, and spends credits.
    Changes,
}

/// Every tool, in the order they are listed.
static TOOLS: [Tool; 8] = [
    Tool {
        name: "credits",
        title: "Credit balance",
        description: "The NemoVideo credit balance: {\"available\",\"frozen\",\"total\"}. A generation costs about 100 credits, an edit about 50, an export nothing. Check it before `generate` or a `chat` that makes a video; with fewer than 100 available, tell the user rather than trying.",
        schema: || schemars::schema_for!(NoArgs),
        effect: Effect::Reads,
    },
    Tool {
        name: "session_new",
        title: "New session",
        description: "Creates a NemoVideo session (one project: a draft timeline and its media) and makes it current; returns {\"session_id\",\"task_id\"}. Free. Only needed to start a new project: chat, upload and state make one when there is none, and generate always works in a session of its own.",
        schema: || schemars::schema_for!(SessionNewArgs),
        effect: Effect::Adds,
    },
    Tool {
        name: "chat",
        title: "Talk to the video agent",
        description: "Sends one message to NemoVideo's video agent in the current session (or session_id) and waits for its whole reply: {\"session_id\",\"reply\",\"silent\",\"changes\",\"dropped\"}. Use it to make a video (\"generate a 10-second video of …\", about 100 credits) or edit one (\"add a title: …\", \"make the music quieter\", about 50 credits). `changes` lists what changed on the timeline; `silent` is true when the agent answered without text. The message is sent exactly once: when `dropped` is true the connection broke and the result was found by reading the session; if this tool fails with exit_code 8 or 9 (a timeout, a lost connection) the agent may still have done the work, so NEVER send the message again — call `state` to see what the agent did. Progress notes carry the reply as it streams. Then call `export` to get the file.",
        schema: || schemars::schema_for!(ChatArgs),
        effect: Effect::Changes,
    },
    Tool {
        name: "upload",
        title: "Upload media",
        description: "Uploads local files (paths on the machine this server runs on; relative to its working folder) or http(s) URLs into the current session (or session_id), for the agent to use: {\"files\":[…]} as the server returned them. Every item is checked first (exists, readable, an accepted type — mp4 mov avi webm mkv, jpg jpeg png gif webp, mp3 wav m4a aac — at most 500 MB); if one fails, nothing is uploaded (exit_code 7). Free. Then ask `chat` to use them.",
        schema: || schemars::schema_for!(UploadArgs),
        effect: Effect::Adds,
    },
    Tool {
        name: "state",
        title: "Session timeline",
        description: "The current session's (or session_id's) state as the server returns it: the draft timeline (tracks, clips, titles, music) and its media. Free and safe to call any time; call it after a chat whose connection dropped instead of sending the message again, and before export to check there is something to render.",
        schema: || schemars::schema_for!(StateArgs),
        effect: Effect::Reads,
    },
    Tool {
        name: "export",
        title: "Render and download",
        description: "Renders the current session's (or session_id's) timeline in the cloud, waits for it, and downloads the file to `output` (a file path, or an existing folder): {\"render_id\",\"status\",\"url\",\"path\",\"bytes\",\"project_url\"}. Free (no credits), can take minutes; progress notes follow the render. An existing file is kept unless force is true (exit_code 7). The render is recorded before waiting: if this call is cancelled, times out or the download fails, call `export_resume` (with the render_id from the error or none for the latest) — never start a new export for the same video. Afterwards give the user `project_url`, the link that opens (claims) the project in the NemoVideo web app.",
        schema: || schemars::schema_for!(ExportArgs),
        effect: Effect::Adds,
    },
    Tool {
        name: "export_resume",
        title: "Finish an earlier render",
        description: "Waits for a render started earlier (render_id, default: the latest this config recorded) and downloads it — to `output`, else where the export meant to put it: the same document as `export`. Free. Use it after an export was cancelled, timed out or lost its download; it never starts a new render.",
        schema: || schemars::schema_for!(ExportResumeArgs),
        effect: Effect::Adds,
    },
    Tool {
        name: "generate",
        title: "From a prompt to a file",
        description: "The whole job in one call: checks the output path and the balance (about 100 credits; fewer: exit_code 4, nothing sent), makes a session of its own, uploads `files`, sends the prompt once, checks that the agent made a video (else exit_code 8 with its reply: go on with `chat` in that session), renders and downloads it to `output`: {\"session_id\",\"task_id\",\"render_id\",\"path\",\"bytes\",\"credits_spent\",\"reply\",\"project_url\"}. Takes minutes; progress notes name each phase. dry_run checks everything and sends nothing. If it fails after the prompt was paid for, the error names the session: finish with `export` (session_id) or `export_resume`, never by calling generate with a new output. Give the user `project_url` afterwards.",
        schema: || schemars::schema_for!(GenerateArgs),
        effect: Effect::Changes,
    },
];

/// The tool named `name`.
pub(super) fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|tool| tool.name == name)
}

/// The tools as `tools/list` gives them.
pub(super) fn listed() -> Vec<rmcp::model::Tool> {
    TOOLS
        .iter()
        .map(|tool| {
            let schema = match serde_json::to_value((tool.schema)()) {
                Ok(Value::Object(schema)) => schema,
                _ => Map::new(),
            };
            let hints = ToolAnnotations::new().open_world(true);
            let hints = match tool.effect {
                Effect::Reads => hints.read_only(true),
                Effect::Adds => hints.read_only(false).destructive(false),
                Effect::Changes => hints.read_only(false).destructive(true),
            };
            rmcp::model::Tool::new(tool.name, tool.description, Arc::new(schema))
                .with_title(tool.title)
                .with_annotations(hints)
        })
        .collect()
}

/// Runs `tool` with `arguments`; its `--json` document, or its error.
pub(super) async fn call(
    ctx: &Context,
    tool: &Tool,
    arguments: Map<String, Value>,
    listener: Option<Listener>,
) -> Result<Value> {
    let arguments = Value::Object(arguments);
    match tool.name {
        "credits" => {
            let NoArgs {} = parse(tool, arguments)?;
            let (ctx, out) = tool_context(ctx, None, listener)?;
            credits::run(&credits::Args { min: None }, &ctx).await?;
            document(&out)
        }
        "session_new" => {
            let args: SessionNewArgs = parse(tool, arguments)?;
            let (ctx, out) = tool_context(ctx, None, listener)?;
            let new = session::NewArgs {
                name: args.name.unwrap_or_else(|| "project".into()),
                language: args.language,
            };
            let command = session::SessionCommand::New(new);
            session::run(&session::Args { command }, &ctx).await?;
            document(&out)
        }
        "chat" => {
            let args: ChatArgs = parse(tool, arguments)?;
            let (ctx, _) = tool_context(ctx, args.session_id.as_deref(), listener.clone())?;
            super::chat::run(&ctx, &args.message, listener).await
        }
        "upload" => {
            let args: UploadArgs = parse(tool, arguments)?;
            if args.paths_or_urls.is_empty() {
                return Err(Error::usage(
                    "paths_or_urls is empty: name at least one file or URL",
                ));
            }
            let (ctx, out) = tool_context(ctx, args.session_id.as_deref(), listener)?;
            ctx.printer
                .status(format!("Uploading {} item(s)", args.paths_or_urls.len()));
            let items = args.paths_or_urls.into_iter().map(OsString::from).collect();
            upload::run(&upload::Args { items }, &ctx).await?;
            document(&out)
        }
        "state" => {
            let args: StateArgs = parse(tool, arguments)?;
            let (ctx, out) = tool_context(ctx, args.session_id.as_deref(), listener)?;
            state::run(&state::Args { draft: false }, &ctx).await?;
            document(&out)
        }
        "export" => {
            let args: ExportArgs = parse(tool, arguments)?;
            let (ctx, out) = tool_context(ctx, args.session_id.as_deref(), listener)?;
            let defaults = export::StartArgs::default();
            let start = export::StartArgs {
                output: Some(args.output),
                render: RenderArgs {
                    format: value_of("format", args.format)?,
                    quality: value_of("quality", args.quality)?,
                    ..RenderArgs::default()
                },
                force: args.force,
                ..defaults
            };
            ctx.printer.status("Starting the render");
            export::run(
                &export::Args {
                    command: None,
                    start,
                },
                &ctx,
            )
            .await?;
            document(&out)
        }
        "export_resume" => {
            let args: ExportResumeArgs = parse(tool, arguments)?;
            let (ctx, out) = tool_context(ctx, None, listener)?;
            let resume = export::ResumeArgs {
                render_id: args.render_id,
                output: args.output,
                force: args.force,
                wait: WaitArgs::default(),
            };
            let command = Some(export::ExportCommand::Resume(resume));
            let start = export::StartArgs::default();
            export::run(&export::Args { command, start }, &ctx).await?;
            document(&out)
        }
        "generate" => {
            let args: GenerateArgs = parse(tool, arguments)?;
            if args.prompt.trim() == "-" {
                // The command reads `-` from stdin, which is the protocol here.
                return Err(Error::usage("the prompt is `-`: give the prompt's text"));
            }
            let (ctx, out) = tool_context(ctx, None, listener)?;
            let generate = generate::Args {
                prompt: vec![args.prompt],
                output: Some(args.output),
                uploads: args.files.into_iter().map(OsString::from).collect(),
                name: "generate".into(),
                language: None,
                render: RenderArgs {
                    format: value_of("format", args.format)?,
                    quality: value_of("quality", args.quality)?,
                    ..RenderArgs::default()
                },
                force: args.force,
                dry_run: args.dry_run,
            };
            generate::run(&generate, &ctx).await?;
            document(&out)
        }
        other => Err(Error::usage(format!("no tool is named {other}"))),
    }
}

/// The arguments, read against the tool's schema: anything that breaks it
/// is a usage error (exit code 2), as a bad flag is.
fn parse<T: DeserializeOwned>(tool: &Tool, arguments: Value) -> Result<T> {
    serde_json::from_value(arguments).map_err(|e| {
        Error::usage(format!("invalid arguments for {}: {e}", tool.name))
            .with_hint("tools/list gives each tool's input schema")
    })
}

/// The context a tool runs in: the server's, with `session` as the
/// session to work in (checked as `--session` is) and the results
/// captured.
fn tool_context(
    ctx: &Context,
    session: Option<&str>,
    listener: Option<Listener>,
) -> Result<(Context, Capture)> {
    let mut settings = ctx.settings.clone();
    if let Some(id) = session {
        check_session_id("session_id", id)?;
        settings.session = Some(id.to_string());
    }
    let capture = Capture::new(listener);
    let printer = ctx.printer.captured(capture.clone());
    Ok((Context::new(settings, printer, ctx.api.clone()), capture))
}

/// The one JSON document the command printed.
fn document(capture: &Capture) -> Result<Value> {
    serde_json::from_slice(&capture.take()).map_err(|e| {
        Error::new(
            Kind::Io,
            format!("the tool's result is not one JSON document: {e}"),
        )
    })
}

/// A typed render option from a tool's argument: its default when absent,
/// else one of the values `--help` lists (a usage error otherwise, as on
/// the command line).
fn value_of<T: clap::ValueEnum + Default>(name: &str, given: Option<String>) -> Result<T> {
    let Some(given) = given else {
        return Ok(T::default());
    };
    T::from_str(&given, true).map_err(|_| {
        let allowed: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        Error::usage(format!(
            "invalid value '{given}' for {name}: one of {}",
            allowed.join(", ")
        ))
    })
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_is_found_by_name() {
        let listed = listed();
        assert_eq!(listed.len(), TOOLS.len());
        for tool in &listed {
            assert_eq!(tool.input_schema.get("type"), Some(&Value::from("object")));
            assert!(find(&tool.name).is_some());
        }
        let chat = listed.iter().find(|t| t.name == "chat").unwrap();
        assert_eq!(
            chat.input_schema["required"],
            serde_json::json!(["message"])
        );
        assert!(find("nope").is_none());
    }

    #[test]
    fn arguments_that_break_the_schema_are_usage_errors() {
        let chat = find("chat").unwrap();
        let err = parse::<ChatArgs>(chat, serde_json::json!({"msg": "hi"})).unwrap_err();
        assert!(err.is(Kind::Usage), "{err}");
        let err = parse::<ChatArgs>(chat, serde_json::json!({"message": 3})).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
