//! `nemo export`: render the session's draft in the cloud, follow the render,
//! download the file (`../shared/spec/cli.md` "nemo export"); and
//! `export resume | list | cancel` for renders started earlier.
//!
//! Order matters and is part of the contract: every local check comes
//! before anything remote (the output path free unless `--force`, its
//! folder taking a real write, a session — export never creates one); the
//! render id is recorded in the config before the submit is sent, so
//! `nemo export resume <id>` can always pick it up — after Ctrl-C, a
//! timeout, a lost answer or a crash. The file appears under its name only
//! when complete (see [`crate::flow::download`]).
//!
//! This file is a leaf: it owns the command line (clap types); the job —
//! checks, the submit written ahead, the wait, the download, in that
//! order — is [`crate::flow::export`]'s, over [`crate::flow::render`].
//! `cancel` and `list` live beside it.

mod cancel;
mod list;

use std::path::PathBuf;

use clap_complete::engine::ArgValueCandidates;

use crate::api::render::RenderState;
use crate::cli::render::{RenderArgs, WaitArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::export::{self, Exported};
use crate::flow::render::{self, Target, Wait, absolute, check_output, file_name, note};
use crate::interrupt::Interrupt;

#[derive(Debug, Default, clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "The file holds what --format says, whatever its name: a name whose extension names\nanother format (--format mov -o x.mp4) gets a warning on stderr.\n\nExamples:\n  nemo export -o panda.mp4\n  nemo export -o renders/ --json\n  ID=$(nemo export --no-wait) && nemo export resume \"$ID\"\n  for s in $(cat sessions); do nemo --session \"$s\" export -o out/; done\n  nemo export list"
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
    #[arg(add = ArgValueCandidates::new(crate::cli::complete::render_ids))]
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
    #[arg(add = ArgValueCandidates::new(crate::cli::complete::render_ids))]
    pub render_id: Option<String>,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    match &args.command {
        None => start(&args.start, ctx).await,
        Some(ExportCommand::Resume(resume_args)) => resume(resume_args, ctx).await,
        Some(ExportCommand::List) => list::run(ctx),
        Some(ExportCommand::Cancel(cancel_args)) => {
            cancel::run(cancel_args.render_id.as_deref(), ctx).await
        }
    }
}

async fn start(args: &StartArgs, ctx: &Context) -> Result<()> {
    let job = export::Start {
        output: args.output.as_deref(),
        no_wait: args.no_wait,
        force: args.force,
        render: args.render.clone(),
    };
    let exported = export::start(ctx, &job).await?;
    ctx.printer.report(&exported)
}

/// The render id given, else the latest render this config recorded.
fn render_id_or_latest(given: Option<&str>, ctx: &Context) -> Result<String> {
    if let Some(id) = given {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::usage("the render id must not be empty"));
        }
        return Ok(id.to_string());
    }
    match render::latest(ctx)? {
        Some(record) => Ok(record.render_id),
        None => Err(Error::bad_input(
            "no render recorded in this config, and no render id given",
            Some("start one with `nemo export`".into()),
        )),
    }
}

async fn resume(args: &ResumeArgs, ctx: &Context) -> Result<()> {
    let id = render_id_or_latest(args.render_id.as_deref(), ctx)?;
    let id = id.as_str();
    let wait = Wait::new(args.wait.poll_interval, args.wait.timeout, ctx);
    let record = ctx.store.load()?.render(id).cloned();
    // Saved already, and asked for nowhere else: nothing left to do.
    if let Some(record) = &record
        && args.output.is_none()
        && !args.force
        && let Some(saved) = render::saved(record)
    {
        ctx.printer
            .status(format!("Render {id} was already saved to {saved}"));
        return ctx.printer.report(&Exported {
            render_id: id.to_string(),
            status: RenderState::Completed.name().into(),
            url: record.url.clone(),
            path: saved.to_string(),
            bytes: record.bytes,
            project_url: None,
            shown_as: saved.to_string(),
        });
    }
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
    let mut interrupt = Interrupt::new();
    let exported = export::follow(ctx, id, &path, args.force, true, &wait, &mut interrupt).await?;
    ctx.printer.report(&exported)
}
