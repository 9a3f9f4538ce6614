//! The emulator linked in: `nemo sandbox` serving in the foreground, its
//! `reset`, and the faults it is started with. `credits` and the
//! in-process emulator of `--sandbox` have files of their own.

use std::path::Path;

use nemo_emulator::{EmuState, Emulator, Ports, merge_faults, read_scenario};
use serde_json::json;

use super::credits::set_credits;
use super::{Action, ServerArgs};
use crate::config::Store;
use crate::error::{Error, Result};
use crate::interrupt::Interrupt;
use crate::printer::Printer;
use crate::report::Shown;
use crate::settings::Settings;

pub(super) const SANDBOX_DIR: &str = "sandbox";
pub(super) const STATE_FILE: &str = "emulator.json";
pub(super) const LOCK_FILE: &str = "emulator.lock";
pub(super) const PAGES_DIR: &str = "pages";

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
pub(super) fn use_faults_file(state: &mut EmuState, path: Option<&Path>, what: &str) -> Result<()> {
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
        let entry = entry.map_err(|e| Error::io(format!("cannot read {}", dir.display()), e))?;
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
        std::io::ErrorKind::AddrInUse => {
            format!("cannot listen on 127.0.0.1 ({what}): the port is in use by another program")
        }
        _ => format!("cannot listen on 127.0.0.1 ({what})"),
    };
    Error::io(sentence, err)
        .with_hint("pick another port with --port, or leave it out for a free one")
}
