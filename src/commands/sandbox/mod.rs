//! `nemo sandbox`: the built-in emulator in the foreground; and the
//! in-process emulator behind the global `--sandbox`, whose state lives in
//! `<config-dir>/sandbox/` apart from the real credentials.
//!
//! The emulator is the `nemo-emulator` crate, linked only with the cargo
//! feature `sandbox` (on by default). This folder is the one place that
//! knows whether it is there: `linked` (serving, `reset`), `credits` and
//! `in_process` (`--sandbox`) use it; `missing` (a build without it)
//! answers every entry point with a usage error (exit 2) saying so.

use std::path::PathBuf;

use crate::error::{Error, Kind};

#[cfg(feature = "sandbox")]
mod credits;
#[cfg(feature = "sandbox")]
mod in_process;
#[cfg(feature = "sandbox")]
mod linked;

#[cfg(feature = "sandbox")]
pub use in_process::InProcess;
#[cfg(feature = "sandbox")]
pub use linked::run;
#[cfg(not(feature = "sandbox"))]
pub use missing::{InProcess, run};

const EXAMPLES: &str = "Examples:\n  nemo sandbox --port 8787 &\n  NEMO_API_URL=http://127.0.0.1:8787 nemo chat \"make a 5-second clip of waves\"\n  nemo sandbox --fault no_credits --fault rate_limit_next=2\n  echo '{\"render_fail_on\": [3]}' > faults.json; nemo sandbox --faults faults.json\n  NEMO_SANDBOX_FAULTS=faults.json nemo --sandbox export   # the same, for --sandbox\n  nemo sandbox reset\n  nemo sandbox credits 500";

#[derive(Debug, clap::Args)]
#[command(
    after_help = EXAMPLES,
    after_long_help = format!("{EXAMPLES}{}", fault_help()),
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// What `nemo sandbox` does besides serving: look after the `--sandbox` state.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Forget the `--sandbox` state (its token, sessions, renders, credits)
    #[command(
        after_help = "Examples:\n  nemo sandbox reset\n  nemo --sandbox credits   # a fresh sandbox user, 100 credits"
    )]
    Reset,
    /// Set the credit balance of the current `--sandbox` user
    // With NEMO_API_URL at a running `nemo sandbox` (a loopback URL): the
    // balance of that emulator's users, said in the examples below (a long
    // help here would change `-h`'s own description everywhere).
    #[command(
        after_help = "Examples:\n  nemo sandbox credits 500\n  nemo sandbox credits 0   # rehearse running out of credits\n  NEMO_API_URL=http://127.0.0.1:8787 nemo sandbox credits 1000   # a running `nemo sandbox --port 8787`"
    )]
    Credits(CreditsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreditsArgs {
    /// The new balance
    #[arg(value_name = "N")]
    pub credits: u32,
}

/// `nemo sandbox` serving the emulator in the foreground.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// API port on 127.0.0.1 [default: a free one]
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub port: u16,
    /// CDN port on 127.0.0.1 [default: a free one]
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub cdn_port: u16,
    /// Keep the emulator's state in FILE between runs
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Switch a fault on: NAME, or NAME=VALUE (repeatable)
    #[arg(long = "fault", value_name = "NAME[=VALUE]")]
    pub faults: Vec<String>,
    /// Faults from a JSON file (the same names; scenario steps such as {"render_fail_on": [3]})
    // The doc comment is clap's help text, not rustdoc's: `[3]` is JSON.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(long = "faults", value_name = "FILE.json")]
    pub faults_file: Option<PathBuf>,
}

/// What works in the sandbox when a login fails there: it ignores
/// `NEMO_TOKEN` and registered tokens.
const SANDBOX_LOGIN_HINT: &str = "the sandbox ignores NEMO_TOKEN and registered tokens: `nemo auth login` gets a free sandbox token, and `nemo sandbox reset` starts the sandbox afresh";

/// What works when the sandbox's one free token a week is used up.
const SANDBOX_RESET_HINT: &str = "the sandbox keeps that limit too: `nemo sandbox reset` starts it afresh (a new client id, 100 credits)";

/// An error of a `--sandbox` command, with a hint that works there when
/// its own points at what the sandbox ignores (`NEMO_TOKEN`, a registered
/// token). The printer adds `--sandbox` to the commands in it.
pub fn explain(err: Error) -> Error {
    let Some(hint) = err.hint() else {
        return err;
    };
    if err.is(Kind::RateLimited) && hint.contains("--with-token") {
        err.with_hint(SANDBOX_RESET_HINT)
    } else if hint.contains("NEMO_TOKEN") || hint.contains("--with-token") {
        err.with_hint(SANDBOX_LOGIN_HINT)
    } else {
        err
    }
}

/// The fault switches for `--help`, when there is an emulator.
fn fault_help() -> String {
    #[cfg(feature = "sandbox")]
    return format!("\n\n{}", nemo_emulator::fault_help());
    #[cfg(not(feature = "sandbox"))]
    return String::new();
}

#[cfg(not(feature = "sandbox"))]
mod missing {
    use super::Args;
    use crate::error::{Error, Result};
    use crate::printer::Printer;
    use crate::settings::Settings;

    fn no_emulator() -> Error {
        Error::usage("this build of nemo has no emulator (built without the `sandbox` feature)")
            .with_hint("use a build with default features for --sandbox and `nemo sandbox`")
    }

    /// `nemo sandbox` and its `reset` and `credits`: all need the emulator.
    pub async fn run(_args: &Args, _settings: &Settings, _printer: &Printer) -> Result<()> {
        Err(no_emulator())
    }

    /// Without the emulator there is nothing to start.
    pub struct InProcess;

    impl InProcess {
        pub async fn start(_settings: &mut Settings, _printer: &Printer) -> Result<InProcess> {
            Err(no_emulator())
        }

        pub async fn finish(self) -> Result<()> {
            Ok(())
        }
    }
}
