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

pub(crate) mod plan;
pub(crate) mod run;

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::ProgressBar;
use serde::Serialize;
use tokio::time::Instant;

use crate::cli::render::RenderArgs;
use crate::commands::export::{self, Target};
use crate::commands::upload;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::interrupt::Interrupt;
use crate::report::{Report, Text};
use plan::{CREDITS_PER_GENERATION, Funds, check_funds, prompt_of};
use run::{From, Hooks, Job, Phase, Step};

/// How long a whole job may take unless `--timeout` says otherwise.
pub(crate) const DEFAULT_TIMEOUT_SECS: f64 = 3600.0;
/// Keep-alives only for this long: the agent's run looks lost.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

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
        upload::check_all(&args.uploads)?
    };
    let target = Target::from_option(args.output.as_deref())?;
    let shown_path = match &target {
        Target::File(path) => path.display().to_string(),
        Target::Folder(dir) => dir
            .join(format!("<render id>.{format}"))
            .display()
            .to_string(),
    };
    export::check_output(
        &target.path_for(&export::new_render_id(None), &format),
        args.force,
    )?;
    let funds = check_funds(ctx, 1, args.dry_run).await?;
    if args.dry_run {
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
    };
    let display = Display::new(ctx);
    let mut interrupt = Interrupt::new();
    let result = tokio::select! {
        result = tokio::time::timeout_at(deadline, run::run(ctx, &job, From::Start, &display)) => result,
        () = interrupt.recv() => {
            display.clear();
            return Err(Error::interrupted().with_hint(display.resume_hint()));
        }
    };
    display.clear();
    let saved = match result {
        Ok(Ok(saved)) => saved,
        Ok(Err(err)) => return Err(display.explain(err)),
        Err(_) => {
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
    let credits_spent = match (
        funds,
        ctx.authed(|api| async move { api.credits().await }).await,
    ) {
        (Funds::Known(before), Ok(after)) => Some(before.available - after.available),
        _ => None,
    };
    ctx.printer.status(format!(
        "Saved render {} ({})",
        saved.render_id,
        crate::size::human(saved.bytes)
    ));
    let project_url = export::project_url(ctx, &saved.session_id).await;
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

/// Shows the job's phases: one status line with the elapsed time on a
/// terminal, else a stderr line per phase. Remembers how far the job got,
/// for the hints after a failure, a timeout or Ctrl-C.
struct Display<'a> {
    ctx: &'a Context,
    bar: Option<ProgressBar>,
    last: RefCell<Option<std::mem::Discriminant<Phase>>>,
    session: RefCell<Option<String>>,
    sent: RefCell<bool>,
    render: RefCell<Option<String>>,
    reply: RefCell<Option<String>>,
}

impl<'a> Display<'a> {
    fn new(ctx: &'a Context) -> Display<'a> {
        let bar = ctx
            .printer
            .shows_progress()
            .then(|| ctx.printer.spinner("starting"));
        Display {
            ctx,
            bar,
            last: RefCell::new(None),
            session: RefCell::new(None),
            sent: RefCell::new(false),
            render: RefCell::new(None),
            reply: RefCell::new(None),
        }
    }

    fn clear(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn line(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.suspend(|| self.ctx.printer.status(&line)),
            None => self.ctx.printer.status(&line),
        }
    }

    /// What to do after the job stopped where it is.
    fn resume_hint(&self) -> String {
        let session = self.session.borrow().clone().unwrap_or_default();
        if let Some(id) = self.render.borrow().as_deref() {
            return export::resume_hint(id);
        }
        if *self.sent.borrow() {
            return format!(
                "the agent may still finish; `nemo --session {session} state` shows the timeline, `nemo --session {session} export` renders it"
            );
        }
        "the prompt was not sent".into()
    }

    /// A failure, with the agent's reply on stderr when it made no video.
    fn explain(&self, err: Error) -> Error {
        let no_video = err.is(Kind::JobFailed)
            && self.render.borrow().is_none()
            && err.message().starts_with(run::NO_VIDEO);
        if let (true, Some(reply)) = (no_video, self.reply.borrow().as_deref()) {
            self.ctx.printer.err_line("The agent replied:");
            let reply = crate::sanitize::strip_controls(reply);
            for line in reply.lines() {
                self.ctx.printer.err_line(&format!("  {line}"));
            }
        }
        err
    }
}

impl Hooks for Display<'_> {
    fn phase(&self, phase: Phase) {
        if let Some(bar) = &self.bar {
            bar.set_message(phase.to_string());
            return;
        }
        let kind = std::mem::discriminant(&phase);
        if self.last.replace(Some(kind)) == Some(kind) {
            return;
        }
        let line = match phase {
            Phase::Rendering(_) => "Rendering…".to_string(),
            other => {
                let text = other.to_string();
                let mut chars = text.chars();
                match chars.next() {
                    Some(first) => format!("{}{}…", first.to_uppercase(), chars.as_str()),
                    None => text,
                }
            }
        };
        self.ctx.printer.status(line);
    }

    fn record(&self, step: Step<'_>) -> Result<()> {
        match step {
            Step::Session { session_id, .. } => {
                *self.session.borrow_mut() = Some(session_id.to_string());
                self.line(format!("Working in session {session_id}"));
            }
            Step::Sending => *self.sent.borrow_mut() = true,
            Step::Rendering { render_id, .. } => {
                *self.render.borrow_mut() = Some(render_id.to_string());
                self.line(format!("Submitted render {render_id}"));
            }
        }
        Ok(())
    }

    fn replied(&self, reply: &str) {
        *self.reply.borrow_mut() = Some(reply.to_string());
    }
}
