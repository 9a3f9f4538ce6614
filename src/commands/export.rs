//! `nemo export`: render the session's draft in the cloud, follow the render,
//! download the file (`../shared/spec/cli.md` "nemo export"); and
//! `export resume | list | cancel` for renders started earlier.
//!
//! Order matters and is part of the contract: the output path is checked
//! before anything is submitted (an existing file is kept unless `--force`);
//! the render is recorded in the config as soon as the server accepted it,
//! before any waiting, so `nemo export resume <id>` can always pick it up —
//! after Ctrl-C, a timeout, a lost connection or a crash. The file appears
//! under its name only when complete (see [`download`]).

mod download;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::api::render::{RenderOutput, RenderRequest, RenderState, RenderStatus};
use crate::config::RenderRecord;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::timeline::Timeline;

/// Seconds between status polls against the real service.
const DEFAULT_POLL_SECS: f64 = 30.0;
/// With `--sandbox` the emulator renders in seconds, so it is polled often.
const SANDBOX_POLL_SECS: f64 = 1.0;
/// How long `export` and `export resume` wait for a render (30 minutes).
const DEFAULT_TIMEOUT_SECS: f64 = 1800.0;
/// Renders kept in the config; the oldest are forgotten first.
const MAX_RECORDS: usize = 500;

#[derive(Debug, clap::Args)]
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
        after_help = "Examples:\n  nemo export resume render_1742198400000\n  nemo export resume render_1742198400000 -o final.mp4 --force"
    )]
    Resume(ResumeArgs),
    /// List the renders this config recorded, with their last known status
    #[command(
        after_help = "Examples:\n  nemo export list\n  nemo export list --json | jq -r '.[] | select(.status == \"completed\") | .render_id'"
    )]
    List,
    /// Cancel a render in the cloud
    #[command(after_help = "Examples:\n  nemo export cancel render_1742198400000")]
    Cancel(CancelArgs),
}

/// `nemo export` itself: start a render.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Where to save the file: a file, or an existing folder [default: ./<render id>.<format>]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format
    #[arg(long, default_value = "mp4", value_name = "FORMAT")]
    pub format: String,

    /// Render quality
    #[arg(long, default_value = "high", value_name = "QUALITY")]
    pub quality: String,

    /// Submit the render, print its id and exit (follow it with `nemo export resume ID`)
    #[arg(long)]
    pub no_wait: bool,

    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub wait: WaitArgs,
}

/// How long and how often to wait for a render.
#[derive(Debug, Clone, clap::Args)]
pub struct WaitArgs {
    /// Seconds between status checks [default: 30; 1 with --sandbox, whose renders take seconds]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub poll_interval: Option<f64>,

    /// Give up waiting after SECS (exit 8; the render goes on and can be resumed) [default: 1800]
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The render id (`nemo export list` shows them)
    pub render_id: String,

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
    /// The render id
    pub render_id: String,
}

fn parse_secs(text: &str) -> std::result::Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= 7.0 * 86_400.0 => Ok(secs),
        _ => Err("expected a number of seconds above 0 (such as 30 or 0.5)".into()),
    }
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    match &args.command {
        None => start(&args.start, ctx).await,
        Some(ExportCommand::Resume(resume_args)) => resume(resume_args, ctx).await,
        Some(ExportCommand::List) => list(ctx),
        Some(ExportCommand::Cancel(cancel_args)) => cancel(cancel_args, ctx).await,
    }
}

/// The timing of a wait, from the flags and whether this is the sandbox.
struct Wait {
    poll: Duration,
    timeout: Duration,
}

impl Wait {
    fn from_args(args: &WaitArgs, ctx: &Context) -> Wait {
        let default_poll = if ctx.settings.sandbox {
            SANDBOX_POLL_SECS
        } else {
            DEFAULT_POLL_SECS
        };
        Wait {
            poll: Duration::from_secs_f64(args.poll_interval.unwrap_or(default_poll)),
            timeout: Duration::from_secs_f64(args.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS)),
        }
    }
}

/// Where the file goes: a named file, or a folder that gets
/// `<render id>.<format>`.
enum Target {
    File(PathBuf),
    Folder(PathBuf),
}

impl Target {
    /// Reads `-o`; nothing given is the current folder.
    fn from_option(output: Option<&Path>) -> Result<Target> {
        let Some(output) = output else {
            return Ok(Target::Folder(PathBuf::new()));
        };
        if output.as_os_str().is_empty() {
            return Err(Error::usage("-o needs a path"));
        }
        if output.is_dir() {
            return Ok(Target::Folder(output.to_path_buf()));
        }
        let text = output.to_string_lossy();
        if text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR) {
            return Err(Error::bad_input(
                format!("the folder {} does not exist", output.display()),
                Some("create it first, or give a file name with -o".into()),
            ));
        }
        Ok(Target::File(output.to_path_buf()))
    }

    fn path_for(&self, id: &str, format: &str) -> PathBuf {
        match self {
            Target::File(path) => path.clone(),
            Target::Folder(dir) => dir.join(file_name(id, format)),
        }
    }
}

/// `<id>.<format>` with anything but letters, digits, `-` and `_` in the id
/// replaced, so an id can never name a path elsewhere.
fn file_name(id: &str, format: &str) -> String {
    let stem: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.{format}")
}

/// The output may be written: its folder exists, and nothing is there
/// unless `force` (exit 7, before anything is submitted).
fn check_output(path: &Path, force: bool) -> Result<()> {
    let folder = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::bad_input(
            format!("the folder {} does not exist", folder.display()),
            Some("create it first, or choose another path with -o".into()),
        ));
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::bad_input(
            format!("{} is a folder", path.display()),
            Some("give a file name with -o".into()),
        )),
        Ok(_) if !force => Err(Error::bad_input(
            format!("{} already exists", path.display()),
            Some("add --force to overwrite it, or choose another path with -o".into()),
        )),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot check {}", path.display()), e)),
    }
}

/// `render_<unix ms>`, later than `after` (a retry needs a new id).
fn new_render_id(after: Option<&str>) -> String {
    let after: u128 = after
        .and_then(|id| id.strip_prefix("render_"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let now = crate::time::unix_millis();
    format!("render_{}", now.max(after + 1))
}

/// A failed submit worth one more try with a new id: a refusal such as a
/// duplicate id, a server error or a lost connection. Plan, auth, session
/// and input problems would fail the same way again.
fn submit_may_retry(err: &Error) -> bool {
    matches!(
        err.kind(),
        Kind::Api | Kind::Server | Kind::Network | Kind::BadAnswer | Kind::Http
    )
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

fn resume_hint(id: &str) -> String {
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
}

async fn start(args: &StartArgs, ctx: &Context) -> Result<()> {
    let format = args.format.trim().to_ascii_lowercase();
    if format.is_empty() || format.len() > 10 || !format.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(Error::usage(format!(
            "--format {:?} is not a format name such as mp4",
            args.format
        )));
    }
    let quality = args.quality.trim().to_string();
    if quality.is_empty() {
        return Err(Error::usage("--quality must not be empty"));
    }
    let wait = Wait::from_args(&args.wait, ctx);
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
        return if ctx.printer.json {
            ctx.printer.json(&ExportDoc {
                render_id: id,
                status,
                url: None,
                path: path.display().to_string(),
                bytes: None,
            })
        } else {
            ctx.printer.out(&id)
        };
    }
    follow(ctx, &id, &path, args.force, false, &wait, &mut interrupt).await
}

/// What [`submit`] leaves: the recorded render.
struct Submitted {
    id: String,
    path: PathBuf,
    status: String,
}

/// Reads the draft, submits the render (once more with a new id if that
/// fails) and records it.
async fn submit(
    ctx: &Context,
    args: &StartArgs,
    target: &Target,
    format: &str,
    quality: &str,
) -> Result<Submitted> {
    let session = ctx.ensure_session().await?;
    let state = ctx
        .authed(|api| {
            let session = session.clone();
            async move { api.state(&session).await }
        })
        .await?;
    let draft = state.state.get("draft").cloned().unwrap_or(Value::Null);
    if !Timeline::from_draft(&draft).has_content() {
        return Err(Error::bad_input(
            format!("the draft of session {session} is empty: there is nothing to export"),
            Some(
                "make something first, e.g. `nemo chat \"make a 10-second video of a panda\"`"
                    .into(),
            ),
        ));
    }

    let mut previous: Option<String> = None;
    let (id, path, answer) = loop {
        let id = new_render_id(previous.as_deref());
        let path = target.path_for(&id, format);
        check_output(&path, args.force)?;
        let request = RenderRequest {
            id: &id,
            session_id: &session,
            draft: &draft,
            output: RenderOutput { format, quality },
        };
        let result = ctx
            .authed(|api| {
                let request = request.clone();
                async move { api.submit_render(&request).await }
            })
            .await;
        match result {
            Ok(answer) => break (id, path, answer),
            Err(err) if previous.is_none() && submit_may_retry(&err) => {
                ctx.printer.warn(format!(
                    "the render was not accepted ({err}); trying once more with a new id"
                ));
                // Parallel exports may have picked the same millisecond.
                tokio::time::sleep(Duration::from_millis(fastrand::u64(200..700))).await;
                previous = Some(id);
            }
            Err(err) => return Err(err),
        }
    };
    // The server's id wins if it differs (it is the one to poll).
    let id = match answer.id.filter(|a| !a.trim().is_empty() && *a != id) {
        Some(server_id) => server_id,
        None => id,
    };
    // The file keeps the name checked above, whatever id the server gave.
    let status = answer
        .status
        .map(|s| RenderState::parse(&s).name().to_string())
        .unwrap_or_else(|| "pending".into());
    let now = crate::time::now_rfc3339();
    let record = RenderRecord {
        render_id: id.clone(),
        session_id: session.clone(),
        format: format.to_string(),
        quality: Some(quality.to_string()),
        output: Some(absolute(&path)),
        started_at: now.clone(),
        status: status.clone(),
        progress: None,
        updated_at: Some(now),
        url: None,
        bytes: None,
        error: None,
        extra: Default::default(),
    };
    ctx.store
        .update(|config| {
            config.renders.retain(|r| r.render_id != record.render_id);
            config.renders.push(record.clone());
            if config.renders.len() > MAX_RECORDS {
                let extra = config.renders.len() - MAX_RECORDS;
                config.renders.drain(..extra);
            }
            Ok(())
        })
        .map_err(|err| {
            ctx.printer
                .warn(format!("render {id} was submitted but cannot be recorded"));
            err.with_hint(resume_hint(&id))
        })?;
    ctx.printer
        .status(format!("Submitted render {id} (session {session})"));
    Ok(Submitted { id, path, status })
}

async fn resume(args: &ResumeArgs, ctx: &Context) -> Result<()> {
    let id = args.render_id.trim();
    if id.is_empty() {
        return Err(Error::usage("the render id must not be empty"));
    }
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
    let work = async {
        let status = wait_for(ctx, id, wait).await?;
        let done = download::fetch(
            ctx,
            id,
            status.output_url.as_deref(),
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
        Ok::<_, Error>(done)
    };
    let done = tokio::select! {
        result = work => result?,
        () = interrupt.recv() => {
            return Err(Error::interrupted().with_hint(resume_hint(id)));
        }
    };
    note(ctx, id, |r| {
        r.status = RenderState::Completed.name().into();
        r.progress = Some(100);
        r.url = Some(done.url.clone());
        r.bytes = Some(done.bytes);
        r.output = Some(absolute(path));
        r.error = None;
    });
    ctx.printer
        .status(format!("Saved render {id} ({} bytes)", done.bytes));
    if ctx.printer.json {
        ctx.printer.json(&ExportDoc {
            render_id: id.to_string(),
            status: RenderState::Completed.name().into(),
            url: Some(done.url),
            path: path.display().to_string(),
            bytes: Some(done.bytes),
        })
    } else {
        ctx.printer.out(path.display().to_string())
    }
}

/// Polls until the render is completed (its status), failed or cancelled
/// (exit 8), or the timeout passes (exit 8, resumable). Transient errors
/// never end the wait early; the status is recorded at each change.
async fn wait_for(ctx: &Context, id: &str, wait: &Wait) -> Result<RenderStatus> {
    let printer = &ctx.printer;
    let bar = printer.percent_bar(id.to_string());
    let started = Instant::now();
    let mut last: Option<RenderState> = None;
    let mut progress: u8 = 0;
    let mut failing = false;
    loop {
        let polled = ctx
            .authed(|api| async move { api.render_status(id).await })
            .await;
        match polled {
            Ok(status) => {
                failing = false;
                progress = status.progress.unwrap_or(progress);
                bar.set_position(u64::from(progress));
                bar.set_message(format!("{id} {}", status.state.name()));
                if last.as_ref() != Some(&status.state) {
                    if !printer.shows_progress() {
                        printer.status(format!(
                            "Render {id}: {} ({progress}%)",
                            status.state.name()
                        ));
                    }
                    let (name, error) = (status.state.name().to_string(), status.error.clone());
                    note(ctx, id, |r| {
                        r.status = name;
                        r.progress = Some(progress);
                        r.error = error;
                    });
                    last = Some(status.state.clone());
                }
                match status.state {
                    RenderState::Completed => {
                        bar.finish_and_clear();
                        if printer.shows_progress() {
                            printer.status(format!("Render {id}: completed"));
                        }
                        return Ok(status);
                    }
                    RenderState::Failed => {
                        bar.finish_and_clear();
                        return Err(Error::new(
                            Kind::JobFailed,
                            match &status.error {
                                Some(reason) => format!("render {id} failed: {reason}"),
                                None => format!("render {id} failed (the server gave no reason)"),
                            },
                        )
                        .with_hint(
                            "check the timeline with `nemo state`, then run `nemo export` again",
                        ));
                    }
                    RenderState::Cancelled => {
                        bar.finish_and_clear();
                        return Err(Error::new(
                            Kind::JobFailed,
                            format!("render {id} was cancelled"),
                        )
                        .with_hint("start a new one with `nemo export`"));
                    }
                    _ => {}
                }
            }
            Err(err)
                if err.is_transient()
                    || matches!(err.kind(), Kind::BadAnswer | Kind::RateLimited) =>
            {
                if !failing {
                    bar.suspend(|| {
                        printer.warn(format!(
                            "cannot read the status of render {id} ({err}); still waiting"
                        ))
                    });
                }
                failing = true;
            }
            Err(err) => {
                bar.finish_and_clear();
                return Err(err);
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= wait.timeout {
            bar.finish_and_clear();
            let at = last.as_ref().map_or("unknown", |s| s.name());
            return Err(Error::new(
                Kind::JobFailed,
                format!(
                    "render {id} is not done after {} (last status: {at}, {progress}%)",
                    humantime::format_duration(Duration::from_secs(wait.timeout.as_secs().max(1)))
                ),
            )
            .with_hint(resume_hint(id)));
        }
        tokio::time::sleep(wait.poll.min(wait.timeout - elapsed)).await;
    }
}

/// Changes the recorded render `id`, if this config recorded it. A config
/// that cannot be written is warned about, not fatal: the render goes on.
fn note(ctx: &Context, id: &str, change: impl FnOnce(&mut RenderRecord)) {
    match ctx.store.load() {
        Ok(config) if config.render(id).is_none() => return,
        _ => {}
    }
    let result = ctx.store.update(|config| {
        if let Some(record) = config.render_mut(id) {
            change(record);
            record.updated_at = Some(crate::time::now_rfc3339());
        }
        Ok(())
    });
    if let Err(err) = result {
        ctx.printer
            .warn(format!("cannot record the status of render {id}: {err}"));
    }
}

/// A row of `export list --json`.
#[derive(Debug, Serialize)]
struct ListRow<'a> {
    render_id: &'a str,
    session_id: &'a str,
    status: &'a str,
    progress: Option<u8>,
    format: &'a str,
    quality: Option<&'a str>,
    path: Option<&'a str>,
    url: Option<&'a str>,
    bytes: Option<u64>,
    error: Option<&'a str>,
    started_at: &'a str,
    updated_at: Option<&'a str>,
}

fn list(ctx: &Context) -> Result<()> {
    let config = ctx.store.load()?;
    if ctx.printer.json {
        let rows: Vec<ListRow> = config
            .renders
            .iter()
            .map(|r| ListRow {
                render_id: &r.render_id,
                session_id: &r.session_id,
                status: &r.status,
                progress: r.progress,
                format: &r.format,
                quality: r.quality.as_deref(),
                path: r.output.as_deref(),
                url: r.url.as_deref(),
                bytes: r.bytes,
                error: r.error.as_deref(),
                started_at: &r.started_at,
                updated_at: r.updated_at.as_deref(),
            })
            .collect();
        return ctx.printer.json(&rows);
    }
    if config.renders.is_empty() {
        ctx.printer
            .status("No renders recorded yet; start one with `nemo export`");
        return Ok(());
    }
    for r in &config.renders {
        let status = match (&r.status[..], r.bytes) {
            ("completed", Some(_)) => "downloaded".to_string(),
            (status, _) => crate::sanitize::strip_controls(status),
        };
        ctx.printer.out(format!(
            "{}  {:<11}  {}  session {}  {}",
            r.render_id,
            status,
            r.started_at,
            r.session_id,
            r.output.as_deref().unwrap_or("-")
        ))?;
    }
    Ok(())
}

async fn cancel(args: &CancelArgs, ctx: &Context) -> Result<()> {
    let id = args.render_id.trim().to_string();
    if id.is_empty() {
        return Err(Error::usage("the render id must not be empty"));
    }
    ctx.authed(|api| {
        let id = id.clone();
        async move { api.cancel_render(&id).await }
    })
    .await?;
    note(ctx, &id, |r| {
        r.status = RenderState::Cancelled.name().into()
    });
    ctx.printer.status(format!("Cancelled render {id}"));
    if ctx.printer.json {
        ctx.printer.json(&serde_json::json!({
            "render_id": id,
            "status": RenderState::Cancelled.name(),
        }))?;
    }
    Ok(())
}

/// Ctrl-C, caught from the moment this is made (on Unix the handler is
/// installed at once, not on first poll).
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn new() -> Interrupt {
        Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves on Ctrl-C (never, if no handler could be installed).
    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            if signal.recv().await.is_none() {
                std::future::pending::<()>().await;
            }
            return;
        }
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_ids_are_unix_millis_and_a_retry_gets_a_later_one() {
        let id = new_render_id(None);
        let ms: u128 = id.strip_prefix("render_").unwrap().parse().unwrap();
        assert!(ms > 1_700_000_000_000);
        let far = format!("render_{}", ms + 10_000);
        assert_eq!(new_render_id(Some(&far)), format!("render_{}", ms + 10_001));
    }

    #[test]
    fn targets() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Target::from_option(Some(dir.path())).unwrap();
        assert_eq!(
            folder.path_for("render_1", "mp4"),
            dir.path().join("render_1.mp4")
        );
        let default = Target::from_option(None).unwrap();
        assert_eq!(
            default.path_for("render_1", "mp4"),
            PathBuf::from("render_1.mp4")
        );
        assert_eq!(
            default.path_for("../../etc/passwd", "mp4"),
            PathBuf::from("______etc_passwd.mp4")
        );
        let file = Target::from_option(Some(Path::new("x/a.mp4"))).unwrap();
        assert_eq!(file.path_for("render_1", "mp4"), PathBuf::from("x/a.mp4"));
        assert!(
            Target::from_option(Some(&dir.path().join("missing/")))
                .is_err_and(|e| e.is(Kind::BadInput))
        );
    }

    #[test]
    fn secs_flags() {
        assert_eq!(parse_secs("0.5"), Ok(0.5));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-3").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("inf").is_err());
    }
}
