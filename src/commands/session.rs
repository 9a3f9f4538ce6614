//! `nemo session`: create, show, list, pick and open sessions (a session is
//! one project: a draft timeline and its media on the server).

use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::config::SessionRecord;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::report::Shown;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo session new --name \"panda promo\"\n  nemo session list\n  nemo session use 5529798706024415232\n  nemo --session 5529798706024415232 chat \"add a title\""
)]
pub struct Args {
    #[command(subcommand)]
    pub command: SessionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SessionCommand {
    /// Create a session and make it current
    #[command(
        after_help = "Examples:\n  nemo session new --name \"panda promo\"\n  SID=$(nemo session new --language zh-CN)"
    )]
    New(NewArgs),
    /// Show the current session (exit 10 when there is none)
    #[command(
        after_help = "Examples:\n  nemo session show\n  nemo session show --json | jq -r .session_id"
    )]
    Show,
    /// List the sessions this config knows, the current one marked
    #[command(
        after_help = "Examples:\n  nemo session list\n  nemo session list --json | jq -r '.[].session_id'"
    )]
    List,
    /// Make a session current (one made elsewhere too)
    #[command(after_help = "Examples:\n  nemo session use 5529798706024415232")]
    Use(UseArgs),
    /// Print the link that opens the session in the web app
    #[command(after_help = "Examples:\n  nemo session open\n  xdg-open \"$(nemo session open)\"")]
    Open,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Project name
    #[arg(long, default_value = "project")]
    pub name: String,
    /// Language of the agent's replies (ISO code: en, zh-CN, ja…) [default: from the locale]
    #[arg(long, value_parser = crate::cli::parse_language, value_name = "LANG")]
    pub language: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UseArgs {
    /// The session id
    #[arg(add = clap_complete::engine::ArgValueCandidates::new(crate::cli::complete::session_ids))]
    pub id: String,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    match &args.command {
        SessionCommand::New(new) => create(new, ctx).await,
        SessionCommand::Show => show(ctx),
        SessionCommand::List => list(ctx),
        SessionCommand::Use(args) => use_session(args, ctx).await,
        SessionCommand::Open => open(ctx).await,
    }
}

async fn create(args: &NewArgs, ctx: &Context) -> Result<()> {
    if args.name.trim().is_empty() {
        return Err(Error::usage("--name must not be empty"));
    }
    // A session made on the server but never recorded would be lost: the
    // config must be writable first. The session lock is held across the
    // call so that no other process makes the first session meanwhile.
    ctx.store.check_writable()?;
    let _session_lock = ctx.store.bootstrap_lock("session.lock").await?;
    let record = ctx
        .create_session(Some(args.name.trim()), args.language.as_deref())
        .await?;
    ctx.printer.report(
        &Shown::new(json!({ "session_id": record.session_id, "task_id": record.task_id }))
            .line(&record.session_id),
    )
}

fn no_session() -> Error {
    Error::new(Kind::NoSession, "no current session")
        .with_hint("start one with `nemo session new`, or pick one with `nemo session use ID`")
}

fn show(ctx: &Context) -> Result<()> {
    let id = ctx.current_session()?.ok_or_else(no_session)?;
    let config = ctx.store.load()?;
    let record = config.session(&id);
    let task_id = record.and_then(|r| r.task_id.clone());
    let created_at = record.and_then(|r| r.created_at.clone());
    let doc = json!({
        "session_id": id,
        "task_id": task_id,
        "created_at": created_at,
    });
    let mut lines = vec![format!("session  {id}")];
    if let Some(name) = record.and_then(|r| r.name.as_deref()) {
        lines.push(format!("name     {name}"));
    }
    if let Some(task) = &task_id {
        lines.push(format!("task     {task}"));
    }
    if let Some(created) = &created_at {
        lines.push(format!("created  {created}"));
    }
    ctx.printer.report(&Shown::new(doc).line(lines.join("\n")))
}

fn list(ctx: &Context) -> Result<()> {
    let config = ctx.store.load()?;
    let current = ctx.current_session()?;
    let items: Vec<_> = config
        .sessions
        .iter()
        .map(|s| {
            json!({
                "session_id": s.session_id,
                "task_id": s.task_id,
                "name": s.name,
                "language": s.language,
                "created_at": s.created_at,
                "current": current.as_deref() == Some(s.session_id.as_str()),
            })
        })
        .collect();
    let report = Shown::new(Value::Array(items));
    if config.sessions.is_empty() {
        return ctx.printer.report(
            &report.status("No sessions yet; start one with `nemo session new` or `nemo chat`"),
        );
    }
    // Columns aligned: id, name (by display width), creation time.
    let name = |s: &SessionRecord| {
        crate::sanitize::strip_controls(s.name.as_deref().unwrap_or("-")).replace(['\n', '\t'], " ")
    };
    let id_width = config
        .sessions
        .iter()
        .map(|s| s.session_id.len())
        .max()
        .unwrap_or(0);
    let name_width = config
        .sessions
        .iter()
        .map(|s| name(s).width())
        .max()
        .unwrap_or(0);
    let lines: Vec<String> = config
        .sessions
        .iter()
        .map(|s| {
            let mark = if current.as_deref() == Some(s.session_id.as_str()) {
                "*"
            } else {
                " "
            };
            let name = name(s);
            let pad = " ".repeat(name_width - name.width());
            format!(
                "{mark} {:<id_width$}  {name}{pad}  {}",
                s.session_id,
                s.created_at.as_deref().unwrap_or("-")
            )
        })
        .collect();
    ctx.printer.report(&report.line(lines.join("\n")))
}

async fn use_session(args: &UseArgs, ctx: &Context) -> Result<()> {
    let id = args.id.trim();
    crate::settings::check_session_id("session", id)?;
    // Check it exists before making it current: a typo should not stick.
    let state = ctx.api.state(id).await.map_err(|err| match err {
        err if err.is(Kind::SessionNotFound) => {
            err.with_message(format!("session {id} was not found on the server"))
        }
        other => other,
    })?;
    let record = SessionRecord {
        session_id: id.to_string(),
        task_id: state.task_id(),
        name: state.task_name.clone(),
        language: None,
        created_at: None,
        extra: Default::default(),
    };
    ctx.store.update(|config| {
        config.remember_session(record);
        config.current_session = Some(id.to_string());
        Ok(())
    })?;
    ctx.printer.report(
        &Shown::new(json!({ "session_id": id, "task_id": state.task_id() }))
            .status(format!("Now working in session {id}")),
    )
}

async fn open(ctx: &Context) -> Result<()> {
    let id = ctx.current_session()?.ok_or_else(no_session)?;
    let (url, expires_in) = crate::flow::claim::claim_link(ctx, &id).await?;
    ctx.printer
        .report(&Shown::new(json!({ "url": url, "expires_in": expires_in })).line(url.as_str()))
}
