//! `nemo export`: render the session's draft in the cloud, follow the render,
//! download the file (`../shared/spec/cli.md` "nemo export"); and
//! `export resume | list | cancel` for renders started earlier.
//!
//! Order matters and is part of the contract: the output path is checked
//! before anything is submitted (an existing file is kept unless `--force`);
//! the render is recorded in the config as soon as the server accepted it,
//! before any waiting, so `nemo export resume <id>` can always pick it up —
//! after Ctrl-C, a timeout, a lost connection or a crash. The file appears
//! under its name only when complete (see `download`).
//!
//! This file owns the command line (clap types) and the order of the steps;
//! the steps live beside it: `target` (the output path policy), `submit`
//! (submit, retry, record), `wait` (polling), `records` (the renders in
//! the config) and `download`. It must not talk HTTP itself.

mod cancel;
mod download;
mod link;
mod part;
mod records;
mod submit;
mod target;
mod wait;

use std::path::{Path, PathBuf};

use clap_complete::engine::ArgValueCandidates;
use serde::Serialize;

use crate::api::render::RenderState;
use crate::cli::render::RenderArgs;
pub(crate) use crate::cli::render::WaitArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::report::{Report, Text};
pub(crate) use download::Downloaded;
pub(crate) use link::{claim_link, project_url};
use records::note;
pub(crate) use submit::{Submitted, new_render_id, submit};
use target::file_name;
pub(crate) use target::{Target, absolute, check_output};
use wait::wait_for;
pub(crate) use wait::{Observer, Wait};

#[derive(Debug, Default, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  nemo export -o panda.mp4\n  nemo export -o renders/ --json\n  ID=$(nemo export --no-wait) && nemo export resume \"$ID\"\n  for s in $(cat sessions); do nemo --session \"$s\" export -o out/; done\n  nemo export list"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ExportCommand>,

    #[command(flatten)]
    pub start: StartArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ExportCommand {
    /// Wait for a render started earlier and download it
    #[command(
        after_help = "Examples:\n  nemo export resume\n  nemo export resume render_1742198400000\n  nemo export resume render_1742198400000 -o final.mp4 --force"
    )]
    Resume(ResumeArgs),
    /// List the renders this config recorded, with their last known status
    #[command(
        after_help = "Examples:\n  nemo export list\n  nemo export list --json | jq -r '.[] | select(.status == \"completed\") | .render_id'"
    )]
    List,
    /// Cancel a render in the cloud
    #[command(
        after_help = "Examples:\n  nemo export cancel render_1742198400000\n  nemo export cancel"
    )]
    Cancel(CancelArgs),
}

/// `nemo export` itself: start a render.
#[derive(Debug, Default, clap::Args)]
pub struct StartArgs {
    /// Where to save the file: a file, or an existing folder [default: ./<render id>.<format>]
    // clap's help text, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Submit the render, print its id and exit (follow it with `nemo export resume ID`)
    #[arg(long)]
    pub no_wait: bool,

    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub render: RenderArgs,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The render id (`nemo export list` shows them) [default: the latest recorded]
    #[arg(add = ArgValueCandidates::new(crate::commands::completions::render_ids))]
    pub render_id: Option<String>,

    /// Where to save the file: a file, or an existing folder [default: the path recorded at export]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub wait: WaitArgs,
}

#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// The render id [default: the latest recorded]
    #[arg(add = ArgValueCandidates::new(crate::commands::completions::render_ids))]
    pub render_id: Option<String>,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    match &args.command {
        None => start(&args.start, ctx).await,
        Some(ExportCommand::Resume(resume_args)) => resume(resume_args, ctx).await,
        Some(ExportCommand::List) => records::list(ctx),
        Some(ExportCommand::Cancel(cancel_args)) => {
            cancel::run(cancel_args.render_id.as_deref(), ctx).await
        }
    }
}

pub(crate) fn resume_hint(id: &str) -> String {
    format!("the render goes on in the cloud; run `nemo export resume {id}` to download it")
}

/// The one JSON document of `export` and `export resume`.
#[derive(Debug, Serialize)]
struct ExportDoc {
    render_id: String,
    status: String,
    url: Option<String>,
    path: String,
    bytes: Option<u64>,
    /// The project's browser link, once the file is saved.
    project_url: Option<String>,
    /// The text form: the id (`--no-wait`) or the path of the file.
    #[serde(skip)]
    shown_as: String,
}

impl Report for ExportDoc {
    fn human(&self, text: &mut Text) {
        text.line(&self.shown_as);
    }
}

async fn start(args: &StartArgs, ctx: &Context) -> Result<()> {
    let format = args.render.format.as_str().to_string();
    let quality = args.render.quality.as_str().to_string();
    let wait = Wait::from_args(&args.render.wait, ctx);
    let target = Target::from_option(args.output.as_deref())?;
    // The path as it will be for the first id: checked before anything else.
    check_output(&target.path_for(&new_render_id(None), &format), args.force)?;

    // Ctrl-C is caught from here on, so that it can never fall between the
    // submit and the record.
    let mut interrupt = Interrupt::new();
    let submitted = tokio::select! {
        result = submit(ctx, args, &target, &format, &quality) => result?,
        () = interrupt.recv() => return Err(Error::interrupted()),
    };
    let Submitted { id, path, status } = submitted;

    if args.no_wait {
        ctx.printer
            .hint(format!("follow it with `nemo export resume {id}`"));
        return ctx.printer.report(&ExportDoc {
            shown_as: id.clone(),
            render_id: id,
            status,
            url: None,
            path: path.display().to_string(),
            bytes: None,
            project_url: None,
        });
    }
    follow(ctx, &id, &path, args.force, false, &wait, &mut interrupt).await
}

/// The render id given, else the latest render this config recorded.
pub(crate) fn render_id_or_latest(given: Option<&str>, ctx: &Context) -> Result<String> {
    if let Some(id) = given {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::usage("the render id must not be empty"));
        }
        return Ok(id.to_string());
    }
    match ctx.store.load()?.renders.last() {
        Some(record) => Ok(record.render_id.clone()),
        None => Err(Error::bad_input(
            "no render recorded in this config, and no render id given",
            Some(
                "start one with `nemo export`, or name one: `nemo export resume RENDER_ID`".into(),
            ),
        )),
    }
}

async fn resume(args: &ResumeArgs, ctx: &Context) -> Result<()> {
    let id = render_id_or_latest(args.render_id.as_deref(), ctx)?;
    let id = id.as_str();
    let wait = Wait::from_args(&args.wait, ctx);
    let record = ctx.store.load()?.render(id).cloned();
    let format = record.as_ref().map_or("mp4", |r| r.format.as_str());
    let path = match (
        &args.output,
        record.as_ref().and_then(|r| r.output.as_ref()),
    ) {
        (Some(output), _) => Target::from_option(Some(output))?.path_for(id, format),
        (None, Some(recorded)) => PathBuf::from(recorded),
        (None, None) => PathBuf::from(file_name(id, format)),
    };
    check_output(&path, args.force)?;
    if record.is_some() && args.output.is_some() {
        note(ctx, id, |r| r.output = Some(absolute(&path)));
    }
    ctx.printer.status(format!("Resuming render {id}"));
    let wait = wait.polling_at_once();
    let mut interrupt = Interrupt::new();
    follow(ctx, id, &path, args.force, true, &wait, &mut interrupt).await
}

/// Waits for the render, downloads it and reports; Ctrl-C leaves the
/// render running and says how to resume it.
async fn follow(
    ctx: &Context,
    id: &str,
    path: &Path,
    force: bool,
    keep_part: bool,
    wait: &Wait,
    interrupt: &mut Interrupt,
) -> Result<()> {
    let done = tokio::select! {
        result = fetch_render(ctx, id, path, force, keep_part, wait) => result?,
        () = interrupt.recv() => {
            return Err(Error::interrupted().with_hint(resume_hint(id)));
        }
    };
    ctx.printer.status(format!(
        "Saved render {id} ({})",
        crate::size::human(done.bytes)
    ));
    let session = ctx.store.load()?.render(id).map(|r| r.session_id.clone());
    let project_url = match session {
        Some(session) => project_url(ctx, &session).await,
        None => None,
    };
    if let Some(url) = &project_url {
        ctx.printer.status(format!("Project: {url}"));
    }
    ctx.printer.report(&ExportDoc {
        render_id: id.to_string(),
        status: RenderState::Completed.name().into(),
        url: Some(done.url),
        path: path.display().to_string(),
        bytes: Some(done.bytes),
        project_url,
        shown_as: path.display().to_string(),
    })
}

/// Waits for render `id`, downloads it to `path` and records it as
/// downloaded (shared with `generate` and `batch`).
pub(crate) async fn fetch_render(
    ctx: &Context,
    id: &str,
    path: &Path,
    force: bool,
    keep_part: bool,
    wait: &Wait,
) -> Result<Downloaded> {
    let status = wait_for(ctx, id, wait).await?;
    let done = download::fetch(
        ctx,
        id,
        status.output_url.as_deref(),
        status.size,
        path,
        force,
        keep_part,
    )
    .await
    .inspect_err(|_| {
        ctx.printer.status(format!(
            "Render {id} is done; download it again with `nemo export resume {id}`"
        ));
    })?;
    note(ctx, id, |r| {
        r.status = RenderState::Completed.name().into();
        r.progress = Some(100);
        r.url = Some(done.url.clone());
        r.bytes = Some(done.bytes);
        r.output = Some(absolute(path));
        r.error = None;
    });
    Ok(done)
}
