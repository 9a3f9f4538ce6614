//! `nemo sandbox`: the built-in emulator in the foreground; and the
//! in-process emulator behind the global `--sandbox`, whose state lives in
//! `<config-dir>/sandbox/` apart from the real credentials.
//!
//! The emulator is the `nemo-emulator` crate, linked only with the cargo
//! feature `sandbox` (on by default). This file is the one place that knows
//! whether it is there: `linked` runs it; `missing` (a build without it)
//! answers both entry points with a usage error (exit 2) saying so.

use std::path::PathBuf;

use crate::error::{Error, Kind};

#[cfg(feature = "sandbox")]
pub use linked::{InProcess, run};
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
    #[command(
        after_help = "Examples:\n  nemo sandbox credits 500\n  nemo sandbox credits 0   # rehearse running out of credits"
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

#[cfg(feature = "sandbox")]
mod linked {
    use std::path::PathBuf;

    use std::path::Path;

    use nemo_emulator::{EmuState, Emulator, Pace, Ports, merge_faults, read_scenario};

    use serde_json::json;

    use super::{Action, ServerArgs};
    use crate::config::{ConfigLock, Store};
    use crate::error::{Error, Kind, Result};
    use crate::printer::Printer;
    use crate::report::Shown;
    use crate::settings::Settings;

    const SANDBOX_DIR: &str = "sandbox";
    const STATE_FILE: &str = "emulator.json";
    const LOCK_FILE: &str = "emulator.lock";

    /// Parses `--fault` words into a patch of fault fields.
    fn fault_patch(words: &[String]) -> Result<serde_json::Value> {
        let mut patch = serde_json::Map::new();
        for word in words {
            let (name, value) = match word.split_once('=') {
                Some((name, value)) => {
                    let value = serde_json::from_str(value)
                        .unwrap_or_else(|_| serde_json::Value::String(value.into()));
                    (name, value)
                }
                None => (word.as_str(), serde_json::Value::Bool(true)),
            };
            patch.insert(name.replace('-', "_"), value);
        }
        Ok(serde_json::Value::Object(patch))
    }

    /// Puts the faults file at `path` (or none) in force; a bad file is a
    /// usage error naming it.
    fn use_faults_file(state: &mut EmuState, path: Option<&Path>, what: &str) -> Result<()> {
        let patch = path
            .map(|p| {
                read_scenario(p).map_err(|e| {
                    Error::usage(format!("{what} {}: {e}", p.display()))
                        .with_hint("see `nemo sandbox --help` for the fault names")
                })
            })
            .transpose()?;
        state
            .use_scenario(patch.as_ref())
            .map_err(|e| Error::usage(format!("{what}: {e}")))
    }

    /// `nemo sandbox`: serve, or look after the `--sandbox` state.
    pub async fn run(args: &super::Args, settings: &Settings, printer: &Printer) -> Result<()> {
        match &args.action {
            None => serve(&args.server, printer).await,
            Some(Action::Reset) => reset(settings, printer).await,
            Some(Action::Credits(credits)) => set_credits(credits.credits, settings, printer).await,
        }
    }

    /// `nemo sandbox reset`: forgets everything in `<config-dir>/sandbox/`
    /// (but the lock file it holds meanwhile) and says what it removed.
    async fn reset(settings: &Settings, printer: &Printer) -> Result<()> {
        let dir = settings.config_dir.join(SANDBOX_DIR);
        let _lock = Store::new(&dir).bootstrap_lock(LOCK_FILE).await?;
        let mut removed = Vec::new();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == LOCK_FILE {
                continue;
            }
            let path = entry.path();
            let gone = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            gone.map_err(|e| Error::io(format!("cannot remove {}", path.display()), e))?;
            if !name.ends_with(".lock") {
                removed.push(name);
            }
        }
        removed.sort();
        let text = if removed.is_empty() {
            format!(
                "The sandbox in {} was empty; nothing to remove",
                dir.display()
            )
        } else {
            format!(
                "Removed the sandbox state in {}: {}",
                dir.display(),
                removed.join(", ")
            )
        };
        printer.report(
            &Shown::new(json!({ "dir": dir, "removed": removed }))
                .line(text)
                .hint("the next `nemo --sandbox …` command starts with a fresh sandbox user and 100 credits"),
        )
    }

    /// `nemo sandbox credits N`: the current sandbox user (made now when
    /// there is none) gets a balance of N.
    async fn set_credits(credits: u32, settings: &Settings, printer: &Printer) -> Result<()> {
        let mut settings = settings.clone();
        settings.sandbox = true;
        let sandbox = InProcess::start(&mut settings).await?;
        let ctx = crate::context(settings, printer)?;
        let token = ctx.api.credential().await;
        let user = sandbox
            .finish_with(|state| {
                let token = token?;
                let user = state
                    .tokens
                    .get(token.token.expose())
                    .map(|t| t.user_id.clone())
                    .and_then(|id| state.users.get_mut(&id))
                    .ok_or_else(|| {
                        Error::new(Kind::Config, "the sandbox does not know its own token")
                            .with_hint("run `nemo sandbox reset` to start the sandbox afresh")
                    })?;
                user.available = i64::from(credits);
                Ok(user.user_id.clone())
            })
            .await?;
        printer.report(
            &Shown::new(json!({ "user_id": user, "available": credits }))
                .line(format!("Sandbox balance: {credits} credits")),
        )
    }

    /// `nemo sandbox` in the foreground until Ctrl-C.
    async fn serve(args: &ServerArgs, printer: &Printer) -> Result<()> {
        let mut state = match &args.state {
            Some(path) => EmuState::load(path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?,
            None => EmuState::default(),
        };
        use_faults_file(&mut state, args.faults_file.as_deref(), "--faults")?;
        state.faults = merge_faults(&state.faults, &fault_patch(&args.faults)?)
            .map_err(|e| Error::usage(format!("--fault: {e}")))?;
        let emulator = Emulator::start(
            state,
            Ports {
                api: args.port,
                cdn: args.cdn_port,
            },
        )
        .await
        .map_err(|e| Error::io("cannot listen on 127.0.0.1", e))?;
        printer.out(format!("NEMO_API_URL={}", emulator.api_url))?;
        printer.status(format!("CDN at {}", emulator.cdn_url));
        printer.status("Emulating the NemoVideo API; press Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        printer.status("Stopping…");
        let state = emulator.shutdown().await;
        if let Some(path) = &args.state {
            state
                .save(path)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        Ok(())
    }

    /// The emulator behind `--sandbox`: started on port 0 before the command,
    /// its state read from and written back to `<config-dir>/sandbox/`. One
    /// sandboxed command runs at a time (a lock), so none loses another's state.
    pub struct InProcess {
        emulator: Emulator,
        path: PathBuf,
        /// The pace the saved state had, while a quick one is in force.
        saved_pace: Option<Pace>,
        _lock: ConfigLock,
    }

    impl InProcess {
        /// Starts it and points `settings` at it, with a config folder of its own
        /// and none of the real credentials.
        pub async fn start(settings: &mut Settings) -> Result<InProcess> {
            let dir = settings.config_dir.join(SANDBOX_DIR);
            let store = Store::new(&dir);
            let lock = store.bootstrap_lock(LOCK_FILE).await?;
            let path = dir.join(STATE_FILE);
            let mut state = EmuState::load(&path).map_err(|e| {
                Error::new(Kind::Config, format!("{} is damaged: {e}", path.display()))
                    .with_hint("remove it to start the sandbox afresh")
            })?;
            use_faults_file(
                &mut state,
                settings.sandbox_faults.as_deref(),
                crate::env::SANDBOX_FAULTS,
            )?;
            let saved_pace = settings
                .sandbox_quick
                .then(|| state.faults.set_pace(Pace::QUICK));
            let emulator = Emulator::start(state, Ports::default())
                .await
                .map_err(|e| Error::io("cannot start the sandbox on 127.0.0.1", e))?;
            settings.api_url = reqwest::Url::parse(&emulator.api_url)
                .map_err(|e| Error::config(format!("the sandbox URL is invalid: {e}")))?;
            // Claim and registration links point at the emulator's own pages.
            settings.web_url = settings.api_url.clone();
            settings.config_dir = dir;
            settings.env_token = None;
            settings.env_client_id = None;
            Ok(InProcess {
                emulator,
                path,
                saved_pace,
                _lock: lock,
            })
        }

        /// Stops it and saves its state.
        pub async fn finish(self) -> Result<()> {
            self.finish_with(|_| Ok(())).await
        }

        /// Stops it, applies `change` to its state, and saves the state
        /// (also when `change` fails).
        async fn finish_with<T>(
            self,
            change: impl FnOnce(&mut EmuState) -> Result<T>,
        ) -> Result<T> {
            let mut state = self.emulator.shutdown().await;
            if let Some(pace) = self.saved_pace {
                state.faults.set_pace(pace);
            }
            let result = change(&mut state);
            state
                .save(&self.path)
                .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))?;
            result
        }
    }
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
        pub async fn start(_settings: &mut Settings) -> Result<InProcess> {
            Err(no_emulator())
        }

        pub async fn finish(self) -> Result<()> {
            Ok(())
        }
    }
}
