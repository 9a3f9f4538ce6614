//! nemo: a command-line client for NemoVideo's AI video agent.
//!
//! `main` parses the command line, resolves [`settings::Settings`] once,
//! runs one command, and turns its error into a message and an exit code in
//! one place ([`main_entry`]).

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod env;
pub mod error;
pub mod printer;
pub mod sanitize;
pub mod secret;
pub mod settings;
pub mod time;
pub mod timeline;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

use crate::api::ApiClient;
use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::settings::{OutputSettings, Settings};

/// Parses, runs, reports. The binary's whole `main`.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return report_clap_error(err),
    };
    let printer = Printer::new(OutputSettings::from_args(&cli.global));
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
            printer.error(&err);
            ExitCode::from(err.exit_code())
        }
    }
}

/// clap's own errors: help and version go to stdout with exit 0; usage
/// errors exit 2, and with `--json` also print the error document.
fn report_clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(
                if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    2
                } else {
                    0
                },
            )
        }
        _ => {
            let _ = err.print();
            if std::env::args().any(|a| a == "--json") {
                let text = err.kind().as_str().unwrap_or("invalid usage").to_string();
                let doc = printer::error_document(&Error::usage(text));
                println!("{doc}");
            }
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli, printer: &Printer) -> Result<()> {
    let mut settings = Settings::resolve(&cli.global)?;
    match &cli.command {
        Command::Completions(args) => return commands::completions::run(args),
        Command::Sandbox(args) => return commands::sandbox::run(args, &settings, printer).await,
        _ => {}
    }
    if settings.sandbox {
        let sandbox = commands::sandbox::InProcess::start(&mut settings).await?;
        let result = run_command(cli.command, settings, printer).await;
        let saved = sandbox.finish().await;
        return result.and(saved);
    }
    run_command(cli.command, settings, printer).await
}

async fn run_command(command: Command, settings: Settings, printer: &Printer) -> Result<()> {
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
    );
    let ctx = Context::new(settings, printer.clone(), api);
    match &command {
        Command::Auth(args) => commands::auth::run(args, &ctx).await,
        Command::Session(args) => commands::session::run(args, &ctx).await,
        Command::Credits(args) => commands::credits::run(args, &ctx).await,
        Command::Chat(args) => commands::chat::run(args, &ctx).await,
        Command::Upload(args) => commands::upload::run(args, &ctx).await,
        Command::State(args) => commands::state::run(args, &ctx).await,
        Command::Export(args) => commands::export::run(args, &ctx).await,
        Command::Sandbox(_) | Command::Completions(_) => Ok(()),
    }
}
