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
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// CDN port on 127.0.0.1 [default: a free one]
    #[arg(long, default_value_t = 0)]
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

/// Under `--sandbox` every request goes to the in-process emulator on
/// loopback, which a proxy from the environment (`HTTP_PROXY`, `ALL_PROXY`,
/// …) cannot reach: the proxy variables are dropped for this process.
///
/// # Safety
/// Changes the environment: call it before any other thread exists.
pub unsafe fn bypass_proxies() {
    for name in crate::env::PROXIES {
        // SAFETY: the caller guarantees no other thread reads the environment.
        unsafe { std::env::remove_var(name) };
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
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    use nemo_emulator::{EmuState, Emulator, Options, Persist, Ports, merge_faults, read_scenario};
    use reqwest::Url;
    use serde_json::json;

    use super::{Action, ServerArgs};
    use crate::config::Store;
    use crate::error::{Error, Kind, Result};
    use crate::interrupt::Interrupt;
    use crate::printer::Printer;
    use crate::report::Shown;
    use crate::settings::Settings;

    const SANDBOX_DIR: &str = "sandbox";
    const STATE_FILE: &str = "emulator.json";
    const LOCK_FILE: &str = "emulator.lock";
    const PAGES_DIR: &str = "pages";

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

    /// `nemo sandbox credits N`: of the running emulator `NEMO_API_URL`
    /// points at (a loopback URL: `nemo sandbox` listens nowhere else),
    /// else of the current `--sandbox` user (made now when there is none).
    async fn set_credits(credits: u32, settings: &Settings, printer: &Printer) -> Result<()> {
        if !settings.sandbox && is_loopback(&settings.api_url) {
            return set_running_credits(credits, &settings.api_url, printer).await;
        }
        let mut settings = settings.clone();
        settings.sandbox = true;
        let sandbox = InProcess::start(&mut settings, printer).await?;
        let api_url = settings.api_url.clone();
        let ctx = crate::context(settings, printer)?;
        let answer = match ctx.ensure_token().await {
            Ok(token) => post_credits(&api_url, Some(token.token.expose()), credits).await,
            Err(err) => Err(err),
        };
        sandbox.finish().await?;
        let answer = answer?;
        let user = answer["users"][0].clone();
        printer.report(
            &Shown::new(json!({ "user_id": user, "available": credits }))
                .line(format!("Sandbox balance: {credits} credits")),
        )
    }

    /// The balance of every user of the emulator at `api_url`, and of the
    /// anonymous users it makes from now on.
    async fn set_running_credits(credits: u32, api_url: &Url, printer: &Printer) -> Result<()> {
        let answer = post_credits(api_url, None, credits).await?;
        let host = api_url.as_str().trim_end_matches('/');
        printer.report(
            &Shown::new(json!({
                "api_url": host,
                "available": credits,
                "users": answer["users"],
            }))
            .line(format!(
                "Balance of the sandbox at {host}: {credits} credits"
            )),
        )
    }

    /// Whether `url` is plain http to this machine.
    fn is_loopback(url: &Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        url.scheme() == "http"
            && (host.eq_ignore_ascii_case("localhost")
                || bare
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()))
    }

    /// `POST /_sandbox/credits` to the emulator at `api_url` (directly,
    /// never through a proxy: it is on this machine).
    async fn post_credits(
        api_url: &Url,
        token: Option<&str>,
        credits: u32,
    ) -> Result<serde_json::Value> {
        let host = api_url.as_str().trim_end_matches('/');
        let not_there = || {
            // No `nemo sandbox` in the advice: the printer would add
            // `--sandbox` to it, which is not what runs an emulator.
            Error::network(format!(
                "no sandbox emulator answers at {host} (NEMO_API_URL)"
            ))
            .with_hint(
                "start the emulator again (its first line gives the URL to set), or unset NEMO_API_URL to set the balance of the --sandbox state",
            )
        };
        let endpoint = api_url.join("_sandbox/credits").map_err(|_| not_there())?;
        // reqwest is built without a TLS provider of its own; none is used
        // here, but building a client needs one installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only(std::iter::empty())
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| Error::network(format!("cannot set up HTTP: {e}")))?;
        let mut request = client.post(endpoint).json(&json!({ "available": credits }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| not_there().with_source(e))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if status.is_success() && body["available"].is_number() {
            return Ok(body);
        }
        if status == reqwest::StatusCode::NOT_FOUND {
            return Err(Error::new(
                Kind::BadAnswer,
                format!("{host} (NEMO_API_URL) answers, but it is not a sandbox emulator"),
            )
            .with_hint("point NEMO_API_URL at the URL the emulator printed first, or unset it"));
        }
        let detail = body["detail"].as_str().unwrap_or("no reason given");
        Err(Error::new(
            Kind::BadAnswer,
            format!(
                "the sandbox at {host} did not set the balance (HTTP {}): {}",
                status.as_u16(),
                crate::sanitize::strip_controls(detail)
            ),
        ))
    }

    /// `nemo sandbox` in the foreground until Ctrl-C (exit 130), SIGTERM
    /// (143) or SIGHUP (129).
    async fn serve(args: &ServerArgs, printer: &Printer) -> Result<()> {
        let mut state = match &args.state {
            Some(path) => EmuState::load(path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?,
            None => EmuState::default(),
        };
        use_faults_file(&mut state, args.faults_file.as_deref(), "--faults")?;
        state.faults = merge_faults(&state.faults, &fault_patch(&args.faults)?)
            .map_err(|e| Error::usage(format!("--fault: {e}")))?;
        // Caught from before the first line, so a quick Ctrl-C is too.
        let mut interrupt = Interrupt::new();
        let emulator = Emulator::start(
            state,
            Ports {
                api: args.port,
                cdn: args.cdn_port,
            },
        )
        .await
        .map_err(|e| listen_error(args, e))?;
        printer.out(format!("NEMO_API_URL={}", emulator.api_url))?;
        printer.status(format!("CDN at {}", emulator.cdn_url));
        printer.status("Emulating the NemoVideo API; press Ctrl-C to stop");
        interrupt.recv().await;
        printer.status("Stopping…");
        let state = emulator.shutdown().await;
        if let Some(path) = &args.state {
            state
                .save(path)
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        Err(Error::interrupted().with_message("stopped"))
    }

    /// A port that cannot be listened on, named.
    fn listen_error(args: &ServerArgs, err: std::io::Error) -> Error {
        let ports = [("--port", args.port), ("--cdn-port", args.cdn_port)];
        let asked: Vec<String> = ports
            .iter()
            .filter(|(_, port)| *port != 0)
            .map(|(flag, port)| format!("{flag} {port}"))
            .collect();
        let what = if asked.is_empty() {
            "a free port".to_string()
        } else {
            asked.join(" or ")
        };
        let sentence = match err.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "cannot listen on 127.0.0.1 ({what}): the port is in use by another program"
            ),
            _ => format!("cannot listen on 127.0.0.1 ({what})"),
        };
        Error::io(sentence, err)
            .with_hint("pick another port with --port, or leave it out for a free one")
    }

    /// The emulator behind `--sandbox`: started on port 0 before the
    /// command, its state in `<config-dir>/sandbox/`, read and written back
    /// under a lock **per request** (`nemo_emulator::persist`), so several
    /// `--sandbox` commands on one config run side by side and a command
    /// killed between requests has lost nothing. The pages of the links it
    /// makes are files in `<config-dir>/sandbox/pages/`.
    pub struct InProcess {
        emulator: Emulator,
        path: std::path::PathBuf,
        /// The last failure to lock, read or write the state.
        failed: Arc<Mutex<Option<std::io::Error>>>,
    }

    impl InProcess {
        /// Starts it and points `settings` at it, with a config folder of its
        /// own and none of the real credentials.
        pub async fn start(settings: &mut Settings, printer: &Printer) -> Result<InProcess> {
            let dir = std::path::absolute(settings.config_dir.join(SANDBOX_DIR))
                .map_err(|e| Error::io("cannot find the config folder", e))?;
            make_private_dir(&dir)?;
            let path = dir.join(STATE_FILE);
            let waiting = printer.clone();
            let failed = Arc::new(Mutex::new(None));
            let failure = failed.clone();
            let persist = Persist::new(&path, dir.join(LOCK_FILE))
                .on_wait(Arc::new(move |lock| {
                    waiting.status(format!(
                        "Waiting for another `nemo --sandbox` command to let go of the sandbox state ({})…",
                        lock.display()
                    ));
                }))
                .on_error(Arc::new(move |err| {
                    let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                    *slot = Some(std::io::Error::new(err.kind(), err.to_string()));
                }));
            let persist = Arc::new(persist);
            // The faults file is put in force (or out of it) once, under
            // the lock every request of every process takes.
            persist
                .update(|state| {
                    use_faults_file(
                        state,
                        settings.sandbox_faults.as_deref(),
                        crate::env::SANDBOX_FAULTS,
                    )
                })
                .await
                .map_err(|e| damaged(&path, e))??;
            let pages = dir.join(PAGES_DIR);
            let emulator = Emulator::start_with(
                EmuState::default(),
                Options {
                    persist: Some(persist),
                    pages_dir: Some(pages.clone()),
                    ..Options::default()
                },
            )
            .await
            .map_err(|e| Error::io("cannot start the sandbox on 127.0.0.1", e))?;
            settings.api_url = Url::parse(&emulator.api_url)
                .map_err(|e| Error::config(format!("the sandbox URL is invalid: {e}")))?;
            // Links open the pages the emulator writes as files: it is gone
            // once the command ends.
            settings.web_url = Url::from_directory_path(&pages).map_err(|()| {
                Error::config(format!("{} is not a usable folder", pages.display()))
            })?;
            settings.config_dir = dir;
            settings.env_token = None;
            settings.env_client_id = None;
            Ok(InProcess {
                emulator,
                path,
                failed,
            })
        }

        /// Stops it (its state is saved after every request). The state
        /// that could not be locked, read or written is the error, the
        /// cause of what the command reported (a 503 from the emulator).
        pub async fn finish(self) -> Result<()> {
            self.emulator.shutdown().await;
            let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner()).take();
            match failed {
                Some(err) => Err(Error::io(
                    format!("the sandbox state {} cannot be used", self.path.display()),
                    err,
                )),
                None => Ok(()),
            }
        }
    }

    /// `dir` and its parents, the new ones 0700 as the config's own folder.
    fn make_private_dir(dir: &Path) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
    }

    /// The state file could not be read: damaged, or a local limit.
    fn damaged(path: &Path, err: std::io::Error) -> Error {
        if err.kind() == std::io::ErrorKind::InvalidData {
            Error::new(
                Kind::Config,
                format!("{} is damaged: {err}", path.display()),
            )
            .with_hint("remove it, or run `nemo sandbox reset`, to start the sandbox afresh")
        } else {
            Error::io(format!("cannot read {}", path.display()), err)
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
        pub async fn start(_settings: &mut Settings, _printer: &Printer) -> Result<InProcess> {
            Err(no_emulator())
        }

        pub async fn finish(self) -> Result<()> {
            Ok(())
        }
    }
}
