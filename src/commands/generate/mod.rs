//! `nemo generate PROMPT`: from a prompt to a file in one command
//! (`../shared/spec/cli.md` "nemo generate").
//!
//! Everything is checked first (`plan`); then one job runs (`run`) in
//! a session of its own, never touching the config's current session: the
//! uploads, the prompt sent once under chat's rules, the draft checked, and
//! the render exported and downloaded exactly as `nemo export` does it.
//!
//! This file owns the command line, the display of the phases (one status
//! line on a terminal, a stderr line per phase otherwise) and the result;
//! `batch` runs the same job (`run::run`) many times.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::cli::render::RenderArgs;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
mod display;

use std::path::Path;

use crate::flow::job::funds::{CREDITS_PER_GENERATION, Funds, check_funds};
use crate::flow::job::local::{Running, claim_path};
use crate::flow::job::{self as run, DEFAULT_TIMEOUT_SECS, From, IDLE_TIMEOUT, Job};
use crate::flow::journal::{Shared, generate_journal, job_key};
use crate::flow::render::{self as export, Target};
use crate::interrupt::Interrupt;
use crate::report::{Report, Text};
use display::{Display, fresh, resume_from};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Everything is checked before anything is sent: the uploads (as `nemo upload` checks them), the
output path (as `nemo export` does), the options, the token and the balance (a generation costs
about 100 credits; fewer available: exit 4). The work happens in a new session of its own (or
the one --session names): the current session is left alone, so parallel runs never disturb
each other. The prompt is sent once; the agent must leave something on the timeline (else exit
8 with its reply, to go on with `nemo --session ID chat`); the render is recorded before it is
waited for, so `nemo export resume ID` can pick it up after a timeout or Ctrl-C.

stdout: the file's path. --json: {\"session_id\",\"task_id\",\"render_id\",\"path\",\"bytes\",
\"credits_spent\",\"reply\",\"project_url\"}.

Examples:
  nemo generate \"a 10-second video of a panda in a bamboo forest\" -o panda.mp4
  nemo generate \"a product teaser with this logo\" --upload logo.png -o teaser.mp4
  echo \"a sunrise over the sea\" | nemo generate - -o out/ --json
  nemo generate \"a city at night\" --dry-run",
    mut_arg("timeout", |arg| arg.help(format!(
        "Give up on the whole job after SECS (exit 8; a render goes on and can be resumed) [default: {DEFAULT_TIMEOUT_SECS}]"
    )))
)]
pub struct Args {
    /// What to make (several words are joined); `-` reads it from stdin
    #[arg(value_name = "PROMPT", required = true)]
    pub prompt: Vec<String>,

    /// Where to save the file: a file, or an existing folder [default: ./<render id>.<format>]
    // clap's help text, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// A file or http(s):// URL to upload into the session first (repeatable)
    #[arg(long = "upload", value_name = "PATH_OR_URL")]
    pub uploads: Vec<OsString>,

    /// Name of the new session
    #[arg(long, default_value = "generate", value_name = "NAME")]
    pub name: String,

    /// Language of the new session [default: the locale's]
    #[arg(long, value_parser = crate::cli::parse_language, value_name = "LANG")]
    pub language: Option<String>,

    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub render: RenderArgs,

    /// Check everything and print the plan; send nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let prompt = prompt_of(&args.prompt)?;
    let (format, quality) = (
        args.render.format.to_string(),
        args.render.quality.to_string(),
    );
    let name = args.name.trim();
    if name.is_empty() {
        return Err(Error::usage("--name must not be empty"));
    }
    let uploads = if args.uploads.is_empty() {
        Vec::new()
    } else {
        crate::flow::upload::check_all(&args.uploads)?
    };
    let target = Target::from_option(args.output.as_deref())?;
    let shown_path = match &target {
        Target::File(path) => path.display().to_string(),
        Target::Folder(dir) => dir
            .join(format!("<render id>.{format}"))
            .display()
            .to_string(),
    };
    // The job's journal beside its output: the same command run again
    // finds an unfinished job and finishes it without paying again.
    let files: Vec<String> = args
        .uploads
        .iter()
        .map(|u| u.to_string_lossy().into_owned())
        .collect();
    let given = args.output.as_ref().map(|p| p.display().to_string());
    let session_given = ctx.settings.session.clone().unwrap_or_default();
    let key = job_key(
        &prompt,
        &files,
        given.as_deref(),
        Some(&format!("{name}\n{session_given}")),
    );
    let folder = match &target {
        Target::File(path) => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        Target::Folder(dir) => dir.clone(),
    };
    let (journal, records) = Shared::open(&folder, &generate_journal(&key));
    let from = records.get(&key).and_then(resume_from);
    // The output folder must take a real write before anything is sent:
    // found after the prompt, it would leave a paid video with nowhere to
    // go. A job resumed from its journal may own the file already, so
    // only the folder is checked for it.
    match from {
        None => export::check(ctx, &target, &format, args.force)?,
        Some(_) => export::probe_folder(&target.path_for(&export::new_render_id(None), &format))?,
    }
    // The path is claimed before anything is sent: a second job to it is
    // refused before it pays.
    let _claim = match (&target, args.dry_run) {
        (Target::File(path), false) => Some(claim_path(path)?),
        _ => None,
    };
    let running = (!args.dry_run)
        .then(|| Running::start(&ctx.settings.config_dir))
        .flatten();
    // A job finished from its journal pays nothing more: no balance check.
    let funds = if from.is_none() || args.dry_run {
        Some(check_funds(ctx, 1, args.dry_run).await?)
    } else {
        None
    };
    if let (true, Some(funds)) = (args.dry_run, funds) {
        return ctx.printer.report(&DryRun {
            dry_run: true,
            session: ctx.settings.session.clone(),
            name: name.to_string(),
            uploads: args
                .uploads
                .iter()
                .map(|u| u.to_string_lossy().into_owned())
                .collect(),
            estimated_credits: CREDITS_PER_GENERATION,
            available: funds.available(),
            output: shown_path,
            token: matches!(funds, Funds::Known(_)),
        });
    }

    let timeout = Duration::from_secs_f64(args.render.wait.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS));
    let deadline = Instant::now() + timeout;
    let job = Job {
        prompt: &prompt,
        uploads: &uploads,
        name,
        language: args.language.as_deref(),
        format: &format,
        quality: &quality,
        target: &target,
        force: args.force,
        poll_interval: args.render.wait.poll_interval,
        deadline,
        idle: IDLE_TIMEOUT,
        in_config: true,
    };
    let record = match (&from, records.get(&key)) {
        (Some(_), Some(record)) => record.clone(),
        _ => fresh(&key, &prompt, &target),
    };
    let from = from.unwrap_or(From::Start);
    if !matches!(from, From::Start) {
        ctx.printer.status(format!(
            "Finishing the job this command started earlier (session {}), without sending the prompt again",
            record.session_id.as_deref().unwrap_or("?")
        ));
    }
    let display = Display::new(ctx, journal, record);
    let mut interrupt = Interrupt::new();
    let result = tokio::select! {
        result = tokio::time::timeout_at(deadline, run::run(ctx, &job, from, &display)) => result,
        () = interrupt.recv() => {
            display.clear();
            return Err(Error::interrupted().with_hint(display.resume_hint()));
        }
    };
    display.clear();
    let saved = match result {
        Ok(Ok(saved)) => saved,
        Ok(Err(err)) => {
            display.ended(Some(&err));
            return Err(display.explain(err));
        }
        Err(_) => {
            let err = Error::new(Kind::JobFailed, "the job did not finish within --timeout");
            display.ended(Some(&err));
            return Err(Error::new(
                Kind::JobFailed,
                format!(
                    "the job did not finish within {} (--timeout)",
                    humantime::format_duration(Duration::from_secs(timeout.as_secs().max(1)))
                ),
            )
            .with_hint(display.resume_hint()));
        }
    };
    display.record.borrow_mut().bytes = Some(saved.bytes);
    display.ended(None);
    if saved.dropped {
        ctx.printer.warn(crate::flow::turn::DROPPED_WARNING);
    }
    // The balance difference is this job's only when no other job of this
    // config ran meanwhile; else it is not known.
    let after = match funds {
        Some(Funds::Known(_)) => ctx.api.credits().await.ok(),
        _ => None,
    };
    let alone = running.as_ref().is_some_and(Running::alone);
    let credits_spent = match (funds, after) {
        (Some(Funds::Known(before)), Some(after)) if alone => {
            Some(before.available - after.available)
        }
        _ => None,
    };
    ctx.printer.status(format!(
        "Saved render {} ({})",
        saved.render_id,
        crate::size::human(saved.bytes)
    ));
    let project_url = crate::flow::claim::project_url(ctx, &saved.session_id).await;
    if let Some(url) = &project_url {
        ctx.printer.status(format!("Project: {url}"));
    }
    ctx.printer.report(&Generated {
        session_id: saved.session_id,
        task_id: saved.task_id,
        render_id: saved.render_id,
        path: saved.path.display().to_string(),
        bytes: saved.bytes,
        credits_spent,
        reply: saved.reply,
        project_url,
        dropped: saved.dropped,
    })
}

/// The result: the file's path; with `--json` the contract's document.
#[derive(Debug, Serialize)]
struct Generated {
    session_id: String,
    task_id: Option<String>,
    render_id: String,
    path: String,
    bytes: u64,
    credits_spent: Option<i64>,
    reply: Option<String>,
    project_url: Option<String>,
    /// The reply's stream dropped; its work was found by watching.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    dropped: bool,
}

impl Report for Generated {
    fn human(&self, text: &mut Text) {
        text.line(&self.path);
    }
}

/// The plan of `--dry-run`.
#[derive(Debug, Serialize)]
struct DryRun {
    dry_run: bool,
    /// `--session`, else a new session is made.
    session: Option<String>,
    name: String,
    uploads: Vec<String>,
    estimated_credits: i64,
    /// Unknown without a token.
    available: Option<i64>,
    output: String,
    /// A usable token is stored (else a free one would be requested).
    token: bool,
}

impl Report for DryRun {
    fn human(&self, text: &mut Text) {
        text.line(match &self.session {
            Some(id) => format!("session:   {id} (from --session)"),
            None => format!(
                "session:   a new one named {:?} (the current session is left alone)",
                self.name
            ),
        });
        let uploads = if self.uploads.is_empty() {
            "none".to_string()
        } else {
            crate::sanitize::strip_controls(&self.uploads.join(", "))
        };
        text.line(format!("uploads:   {uploads}"));
        text.line(match self.available {
            Some(available) => format!(
                "credits:   about {} estimated, {available} available",
                self.estimated_credits
            ),
            None => format!(
                "credits:   about {} estimated (balance unknown until there is a token)",
                self.estimated_credits
            ),
        });
        text.line(format!("output:    {}", self.output));
        if !self.token {
            text.line("token:     none yet; a free one would be requested first");
        }
        text.status("Dry run: nothing was sent");
    }
}

/// The prompt from the arguments, or stdin for `-`.
pub(crate) fn prompt_of(words: &[String]) -> Result<String> {
    let text = if words.len() == 1 && words[0] == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Error::io("cannot read the prompt from stdin", e))?;
        text
    } else {
        words.join(" ")
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::usage("the prompt is empty")
            .with_hint("describe the video: `nemo generate \"a panda in a bamboo forest\"`"));
    }
    Ok(text.to_string())
}
