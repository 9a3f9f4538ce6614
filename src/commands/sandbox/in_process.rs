//! The in-process emulator behind the global `--sandbox`: its state in
//! `<config-dir>/sandbox/`, shared with other processes request by request
//! (`nemo_emulator::persist`), its pages written as files, the settings
//! pointed at it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use nemo_emulator::{EmuState, Emulator, Options, Pace, Persist};
use reqwest::Url;

use super::linked::{LOCK_FILE, PAGES_DIR, SANDBOX_DIR, STATE_FILE, use_faults_file};
use crate::error::{Error, Kind, Result};
use crate::printer::Printer;
use crate::settings::Settings;

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
    /// The state under the lock, to put the saved pace back at the end.
    persist: Arc<Persist>,
    /// The pace the saved state had, while the tests' quick one is in
    /// force (hidden `NEMO_SANDBOX_QUICK`): it is not saved with the state.
    saved_pace: Option<Pace>,
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
        let quick = settings.sandbox_quick;
        let saved_pace = persist
            .update(|state| {
                use_faults_file(
                    state,
                    settings.sandbox_faults.as_deref(),
                    crate::env::SANDBOX_FAULTS,
                )?;
                // After the faults file: the quick pace wins over its timings.
                Ok::<_, Error>(quick.then(|| state.faults.set_pace(Pace::QUICK)))
            })
            .await
            .map_err(|e| damaged(&path, e))??;
        let pages = dir.join(PAGES_DIR);
        let emulator = Emulator::start_with(
            EmuState::default(),
            Options {
                persist: Some(persist.clone()),
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
        settings.web_url = Url::from_directory_path(&pages)
            .map_err(|()| Error::config(format!("{} is not a usable folder", pages.display())))?;
        settings.config_dir = dir;
        settings.env_token = None;
        settings.env_client_id = None;
        Ok(InProcess {
            emulator,
            path,
            failed,
            persist,
            saved_pace,
        })
    }

    /// Stops it (its state is saved after every request). The state
    /// that could not be locked, read or written is the error, the
    /// cause of what the command reported (a 503 from the emulator).
    pub async fn finish(self) -> Result<()> {
        self.emulator.shutdown().await;
        if let Some(pace) = self.saved_pace {
            let _ = self
                .persist
                .update(|state| {
                    state.faults.set_pace(pace);
                })
                .await;
        }
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
