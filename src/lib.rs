//! nemo: a command-line client for NemoVideo's AI video agent.
//!
//! `main` parses the command line, resolves [`settings::Settings`] once,
//! runs one command, and turns its error into a message and an exit code in
//! one place ([`main_entry`]).

mod argv;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod env;
pub mod interrupt;
pub mod jq;
pub mod limits;
pub mod links;
pub mod printer;
pub mod report;
pub mod settings;
pub mod size;
pub mod suggest;
pub mod terminal;
pub mod timeline;

// The API client is a crate of its own (`crates/nemo-api`), with the error
// kinds, the secret type, the sanitiser and the time helpers it needs.
pub use nemo_api as api;
pub use nemo_api::{error, sanitize, secret, time};

use std::process::ExitCode;
use std::sync::Arc;

use crate::api::ApiClient;
use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::settings::Settings;

/// Parses, runs, reports. The binary's whole `main`.
pub fn main_entry() -> ExitCode {
    // `NEMO_COMPLETE=bash nemo …`: the shell asks for completions; answer, exit.
    // (A name of our own: a stray COMPLETE=1 must not break every command.)
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command)
        .var(env::COMPLETE)
        .complete();
    let cli = match parse() {
        Ok(cli) => cli,
        Err(err) => return report_clap_error(err),
    };
    let printer = match settings::output_settings(&cli.global) {
        Ok(mut output) => {
            // `nemo sandbox reset|credits` look after the sandbox: their
            // advice is for it too.
            output.sandbox |=
                matches!(&cli.command, Command::Sandbox(args) if args.action.is_some());
            Printer::new(output)
        }
        Err(err) => {
            // A bad --jq: nothing on stdout, where the filter's output was asked for.
            let color = settings::color_choice(cli.global.color, cli.global.no_color);
            Printer::new(printer::Options {
                color,
                ..printer::Options::default()
            })
            .error(&err);
            return ExitCode::from(err.exit_code());
        }
    };
    if cli.global.sandbox || matches!(&cli.command, Command::Sandbox(args) if args.action.is_some())
    {
        // SAFETY: no other thread exists yet (the runtime is built below).
        unsafe { commands::sandbox::bypass_proxies() };
    }
    if let Err(err) = limits::check_runtime() {
        printer.error(&err);
        return ExitCode::from(err.exit_code());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            printer.error(&Error::io("cannot start the async runtime", e));
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli, &printer));
    // Do not wait for blocking readers (stdin) that may still be parked.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let err = limits::explain(err);
            printer.error(&err);
            // SIGTERM and SIGHUP are handled as Ctrl-C, with their own codes.
            if err.is(error::Kind::Interrupted) {
                return ExitCode::from(interrupt::exit_code());
            }
            ExitCode::from(err.exit_code())
        }
    }
}

/// The command line, parsed with clap's colours set from `--color` and
/// `--no-color` (clap itself already follows `NO_COLOR` and
/// `CLICOLOR_FORCE`), so its own errors obey them too.
fn parse() -> std::result::Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let color = match settings::color_choice(argv::color(), argv::has("--no-color")) {
        printer::Color::Always => clap::ColorChoice::Always,
        printer::Color::Never => clap::ColorChoice::Never,
        printer::Color::Auto => clap::ColorChoice::Auto,
    };
    let mut command = Cli::command().color(color);
    let matches = command.try_get_matches_from_mut(std::env::args_os())?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// clap's own errors: help and version go to stdout with exit 0; usage
/// errors exit 2, and with `--json` also print the error document.
fn report_clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        // `nemo` alone asked for nothing wrong: the help, on stdout, exit 0.
        // A group without its subcommand (`nemo auth`) is a usage error.
        // (With NEMO_* variables set, clap reports a missing subcommand.)
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand
            if std::env::args_os().len() <= 1 =>
        {
            use std::io::Write;
            let help = <Cli as clap::CommandFactory>::command()
                .render_help()
                .to_string();
            // A closed stdout (`nemo | head -0`) is not an error.
            let _ = std::io::stdout().lock().write_all(help.as_bytes());
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(2)
        }
        ErrorKind::InvalidUtf8 => {
            // clap does not say which argument; name it (lossily, escaped).
            let bad = std::env::args_os()
                .skip(1)
                .find(|a| a.to_str().is_none())
                .map(|a| format!("{a:?}"))
                .unwrap_or_default();
            let err = Error::usage(format!("the argument {bad} is not valid UTF-8"))
                .with_hint("only file paths may hold bytes that are not UTF-8");
            argv::printer().error(&err);
            ExitCode::from(2)
        }
        _ => {
            let _ = err.print();
            let printer = argv::printer();
            if printer.wants_json() {
                let text = err.kind().as_str().unwrap_or("invalid usage").to_string();
                let _ = printer.json_line(&printer::error_document(&Error::usage(text)));
            }
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli, printer: &Printer) -> Result<()> {
    let mut settings = Settings::resolve(&cli.global)?;
    match &cli.command {
        Command::Completions(args) => return commands::completions::run(args),
        Command::Man(args) => return commands::man::run(args),
        Command::Help(args) => return commands::help::run(args),
        Command::Sandbox(args) => return commands::sandbox::run(args, &settings, printer).await,
        _ => {}
    }
    if settings.sandbox {
        let sandbox = commands::sandbox::InProcess::start(&mut settings, printer).await?;
        let result = run_command(cli.command, settings, printer).await;
        let saved = sandbox.finish().await;
        // A sandbox state that could not be used is the cause of the rest.
        return saved.and(result).map_err(commands::sandbox::explain);
    }
    run_command(cli.command, settings, printer).await
}

async fn run_command(command: Command, settings: Settings, printer: &Printer) -> Result<()> {
    let ctx = context(settings, printer)?;
    match &command {
        Command::Auth(args) => commands::auth::run(args, &ctx).await,
        Command::Session(args) => commands::session::run(args, &ctx).await,
        Command::Credits(args) => commands::credits::run(args, &ctx).await,
        Command::Chat(args) => commands::chat::run(args, &ctx).await,
        Command::Upload(args) => commands::upload::run(args, &ctx).await,
        Command::State(args) => commands::state::run(args, &ctx).await,
        Command::Export(args) => commands::export::run(args, &ctx).await,
        Command::Generate(args) => commands::generate::run(args, &ctx).await,
        Command::Batch(args) => commands::batch::run(args, &ctx).await,
        Command::Doctor(args) => commands::doctor::run(args, &ctx).await,
        Command::Sandbox(_) | Command::Completions(_) | Command::Man(_) | Command::Help(_) => {
            Ok(())
        }
    }
}

/// The context a command runs in: the API client for `settings`, after a
/// warning about a clear-text API URL and the config's permission check.
pub(crate) fn context(settings: Settings, printer: &Printer) -> Result<Context> {
    let log: Option<api::LogHook> = printer.verbose.then(|| {
        let printer = printer.clone();
        Arc::new(move |line: String| printer.debug(line)) as api::LogHook
    });
    let api = ApiClient::new(
        api::http_client()?,
        settings.api_url.clone(),
        settings.attribution.clone(),
        settings.rate_limit_wait,
        log,
    )
    .with_time_scale(settings.http_time_scale);
    if let Some(host) = cleartext_host(&settings.api_url) {
        printer.warn(format!(
            "the API URL uses plain http to {host}, which is not this machine: the token would travel unencrypted"
        ));
    }
    let ctx = Context::new(settings, printer.clone(), api);
    for change in ctx.store.tighten() {
        printer.warn(change);
    }
    Ok(ctx)
}

/// The host of an `http://` API URL that is not loopback: the bearer token
/// would cross a network in clear.
fn cleartext_host(url: &reqwest::Url) -> Option<String> {
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let local = host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!local).then(|| host.to_string())
}
