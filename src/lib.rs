//! nemo: a command-line client for NemoVideo's AI video agent.
//!
//! `main` parses the command line, runs one command, and turns its error
//! into a message and an exit code in one place ([`main_entry`]). The
//! settings (flags, environment, defaults) are resolved only for commands
//! that talk to the API: `help`, `man`, `completions` and `sandbox reset`
//! read none of them.
//!
//! Everything is private to the binary but what the tests read: the API
//! client (`api`, `time`) and the draft reader (`timeline`).

mod argv;
mod cli;
mod commands;
mod config;
mod context;
mod env;
mod flow;
mod interrupt;
mod jq;
mod keyring;
mod limits;
mod links;
mod mcp;
mod printer;
mod report;
mod settings;
mod size;
mod suggest;
mod terminal;
/// The tolerant draft reader (public for the golden-fixture tests).
pub mod timeline;

// The API client is a crate of its own (`crates/nemo-api`), with the error
// kinds, the secret type, the sanitiser and the time helpers it needs.
// `api` and `time` are public for the golden-fixture tests.
pub use nemo_api as api;
pub use nemo_api::time;
use nemo_api::{error, sanitize, secret};

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
            // A bad --jq: the filter cannot run, so stdout gets the error
            // document as it is (one JSON document, as --json promises).
            let color = settings::color_choice(cli.global.color, cli.global.no_color);
            Printer::new(printer::Options {
                json: true,
                color,
                ..printer::Options::default()
            })
            .error(&err);
            return ExitCode::from(err.exit_code());
        }
    };
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
            ExitCode::from(interrupt::exit_code_of(&err))
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
                let _ =
                    printer.json_line(&printer::error_document(&Error::usage(clap_sentence(&err))));
            }
            ExitCode::from(2)
        }
    }
}

/// clap's own sentence for a usage error, on one line, with what it lists
/// (`invalid value 'mp3' for '--format <FORMAT>' [possible values: mp4,
/// mov, webm, gif]`): the message of the JSON error document.
fn clap_sentence(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let mut lines = text.lines();
    let mut sentence = lines
        .next()
        .unwrap_or_default()
        .trim()
        .trim_start_matches("error:")
        .trim()
        .to_string();
    for line in lines.map(str::trim) {
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            sentence.push(' ');
            sentence.push_str(line);
        }
    }
    if sentence.is_empty() {
        err.kind().as_str().unwrap_or("invalid usage").to_string()
    } else {
        sentence
    }
}

async fn run(cli: Cli, printer: &Printer) -> Result<()> {
    // These talk to no API and read none of its settings: a bad
    // NEMO_API_URL or NEMO_SESSION must not stop them.
    match &cli.command {
        Command::Completions(args) => return commands::completions::run(args),
        Command::Man(args) => return commands::man::run(args),
        Command::Help(args) => return commands::help::run(args),
        Command::Sandbox(args) => {
            // `sandbox credits` talks to an emulator's API; resetting the
            // state or serving the emulator does not.
            let settings = match &args.action {
                Some(commands::sandbox::Action::Credits(_)) => Settings::resolve(&cli.global)?,
                _ => Settings::local(&cli.global)?,
            };
            return commands::sandbox::run(args, &settings, printer).await;
        }
        _ => {}
    }
    let mut settings = Settings::resolve(&cli.global)?;
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
    let ctx = match command {
        // doctor reports a bad SSL_CERT_FILE as one of its checks.
        Command::Doctor(_) => context_deferring_roots(settings, printer, true)?,
        _ => context(settings, printer)?,
    };
    let result = match &command {
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
        Command::Mcp(args) => commands::mcp::run(args, &ctx).await,
        Command::Sandbox(_) | Command::Completions(_) | Command::Man(_) | Command::Help(_) => {
            Ok(())
        }
    };
    result.map_err(|err| ctx.explain(err))
}

/// The context a command runs in: the API client for `settings`, after a
/// warning about a clear-text API URL and the config's permission check.
pub(crate) fn context(settings: Settings, printer: &Printer) -> Result<Context> {
    context_deferring_roots(settings, printer, false)
}

/// [`context`]; with `defer_roots`, or under `--sandbox` (plain http only),
/// a bad `SSL_CERT_FILE` fails the first https request instead of the start.
fn context_deferring_roots(
    settings: Settings,
    printer: &Printer,
    defer_roots: bool,
) -> Result<Context> {
    let clients = if settings.sandbox {
        // Every request goes to the in-process emulator on loopback: never
        // through a proxy from the environment, and no TLS.
        api::Clients::direct()?
    } else if defer_roots {
        api::Clients::deferring_roots()?
    } else {
        api::http_client()?
    };
    let log: Option<api::LogHook> = printer.verbose.then(|| {
        let printer = printer.clone();
        Arc::new(move |line: String| printer.debug(line)) as api::LogHook
    });
    let api = ApiClient::new(
        clients,
        settings.api_url.clone(),
        settings.attribution.clone(),
        settings.rate_limit_wait,
        log,
    )
    .with_time_scale(settings.http_time_scale)
    .with_keyring(Arc::new(keyring::ConfigKeyring::new(
        config::Store::new(settings.config_dir.clone()),
        settings.env_token.clone(),
        settings.env_client_id.clone(),
        printer.clone(),
    )))
    .with_notice_hook({
        let printer = printer.clone();
        Arc::new(move |line: String| printer.status(line))
    });
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
