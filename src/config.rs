//! The config store: `<config-dir>/nemo-cli.json` (token, current and known
//! sessions, recorded renders) and `<config-dir>/client_id`.
//!
//! Every change happens under an exclusive lock on `nemo-cli.json.lock`: the
//! file is re-read under the lock, changed, written to a temp file in the same
//! folder, fsynced and renamed over the old one, so parallel `nemo` processes
//! never lose each other's writes and a reader never sees half a file. The
//! folder is made 0700 and the file 0600. A damaged file is an error that
//! names it; it is never replaced. The file stays bounded (the most recent
//! [`MAX_RENDERS`] renders and [`MAX_SESSIONS`] sessions), and temp files
//! a killed write left behind (they may hold the token) are removed by the
//! next write. nemo never writes `config.json`, which
//! belongs to NemoVideo's Node CLI (see `../shared/spec/cli.md`).

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Kind, Result, io_reason};
use crate::secret::Secret;

mod model;

pub use model::{Config, RenderRecord, SessionRecord, StoredToken};

pub const CONFIG_FILE: &str = "nemo-cli.json";
pub const CLIENT_ID_FILE: &str = "client_id";
/// The official Node CLI's file; read for its `api_key`, never written.
pub const OFFICIAL_CONFIG_FILE: &str = "config.json";
const LOCK_FILE: &str = "nemo-cli.json.lock";
/// Temp files of config writes and of the writability probe: `.nemo-cli.*`.
/// Only a holder of the config lock makes them, so one found by a holder
/// of the lock was left by a process that died.
const TEMP_PREFIX: &str = ".nemo-cli.";
/// Temp files of `client_id` writes, which are not made under the config
/// lock (and hold no secret).
const CLIENT_ID_TEMP_PREFIX: &str = ".nemo-client-id.";
/// Reads and changes the files of one config folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Store { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    pub fn client_id_path(&self) -> PathBuf {
        self.dir.join(CLIENT_ID_FILE)
    }

    /// The config as it is now (an empty one when there is no file yet).
    /// Needs no lock: writers rename whole files into place.
    pub fn load(&self) -> Result<Config> {
        read_config(&self.path())
    }

    /// Changes the config under the lock and returns what `change` returns.
    /// The file is re-read under the lock first, so a change made by another
    /// process since [`Store::load`] is never lost.
    pub fn update<T>(&self, change: impl FnOnce(&mut Config) -> Result<T>) -> Result<T> {
        let lock = self.lock()?;
        self.update_locked(&lock, change)
    }

    /// Holds the exclusive config lock for as long as the guard lives. It
    /// is held only for quick local work, never across a network call.
    pub fn lock(&self) -> Result<ConfigLock> {
        self.lock_file(LOCK_FILE)
    }

    /// A lock of its own for a one-time bootstrap that needs the network
    /// (the first token, the first session), so that processes started
    /// together make one token or session, not one each. Waited for off the
    /// async runtime.
    pub async fn bootstrap_lock(&self, name: &'static str) -> Result<ConfigLock> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.lock_file(name))
            .await
            .map_err(|e| Error::config(format!("cannot wait for the {name} lock: {e}")))?
    }

    fn lock_file(&self, name: &str) -> Result<ConfigLock> {
        self.ensure_dir()?;
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| cannot("open", &path, &e))?;
        file.lock().map_err(|e| cannot("lock", &path, &e))?;
        Ok(ConfigLock { _file: file })
    }

    /// Checks, before anything remote is made that must be recorded here,
    /// that the config can be written: the lock can be taken and a file
    /// with content can be written and synced in the folder (then removed)
    /// — an empty file would pass on a full disk. Exit 1 naming the folder.
    pub fn check_writable(&self) -> Result<()> {
        let _lock = self.lock()?;
        write_probe(&self.dir, TEMP_PREFIX, ".check").map_err(|e| {
            Error::config(format!(
                "the config folder {} is not writable: {e}",
                self.dir.display()
            ))
            .with_hint(
                "make it writable, or point NEMO_CONFIG_DIR (or --config-dir) at one that is",
            )
        })
    }

    /// [`Store::update`] for callers that already hold the lock.
    pub fn update_locked<T>(
        &self,
        _lock: &ConfigLock,
        change: impl FnOnce(&mut Config) -> Result<T>,
    ) -> Result<T> {
        let path = self.path();
        let mut config = read_config(&path)?;
        let result = change(&mut config)?;
        config.bound();
        remove_stale_temp_files(&self.dir);
        let mut text = serde_json::to_vec_pretty(&config)
            .map_err(|e| Error::config(format!("cannot encode {}: {e}", path.display())))?;
        text.push(b'\n');
        write_atomically(&self.dir, TEMP_PREFIX, &path, &text)?;
        Ok(result)
    }

    /// The client id from `<config-dir>/client_id`, if the file exists.
    pub fn read_client_id(&self) -> Result<Option<String>> {
        let path = self.client_id_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                // Used exactly as another NemoVideo tool wrote it, whatever
                // its form (the official skill writes `client-<unix s>-<n>`
                // without uuidgen): the user's anonymous token is tied to it.
                // It only has to be sendable as the X-Client-Id header.
                let id = text.lines().next().unwrap_or("").trim();
                if id.is_empty() {
                    return Ok(None);
                }
                if id.len() > 256 || !id.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Error::new(
                        Kind::Config,
                        format!(
                            "{} does not hold a client id that can be sent (one id of printable ASCII on one line)",
                            path.display()
                        ),
                    )
                    .with_hint("fix the file by hand: the free token you already have is tied to the id in it"));
                }
                Ok(Some(id.to_string()))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(cannot("read", &path, &e)),
        }
    }

    /// The persisted client id, created (under the lock) on first need.
    pub fn client_id(&self) -> Result<String> {
        if let Some(id) = self.read_client_id()? {
            return Ok(id);
        }
        let lock = self.lock()?;
        self.client_id_locked(&lock)
    }

    /// [`Store::client_id`] for callers that already hold the lock.
    pub fn client_id_locked(&self, _lock: &ConfigLock) -> Result<String> {
        if let Some(id) = self.read_client_id()? {
            return Ok(id);
        }
        self.write_client_id(&uuid::Uuid::new_v4().to_string())
    }

    /// Replaces the client id (after the server said HTTP 400 to it).
    pub fn write_client_id(&self, id: &str) -> Result<String> {
        self.ensure_dir()?;
        let path = self.client_id_path();
        write_atomically(
            &self.dir,
            CLIENT_ID_TEMP_PREFIX,
            &path,
            format!("{id}\n").as_bytes(),
        )?;
        Ok(id.to_string())
    }

    /// The `api_key` of the official Node CLI's `config.json`, if any.
    pub fn official_api_key(&self) -> Option<Secret> {
        let text = std::fs::read_to_string(self.dir.join(OFFICIAL_CONFIG_FILE)).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        let key = value.get("api_key")?.as_str()?.trim();
        (!key.is_empty()).then(|| Secret::new(key))
    }

    /// Takes group and other permissions off the folder (0700) and
    /// `nemo-cli.json` (0600) when someone loosened them, and says what it
    /// changed, for the caller to warn about. Best effort: a folder nemo
    /// cannot change is left as it is (the next write reports it).
    pub fn tighten(&self) -> Vec<String> {
        let mut changed = Vec::new();
        #[cfg(unix)]
        for (path, mode) in [(self.dir.clone(), 0o700), (self.path(), 0o600)] {
            use std::os::unix::fs::PermissionsExt;
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let old = meta.permissions().mode() & 0o777;
            if old & 0o077 == 0 || meta.file_type().is_symlink() {
                continue;
            }
            if std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).is_ok() {
                changed.push(format!(
                    "{} was readable by others (mode {old:04o}); nemo set it to {mode:04o}",
                    path.display()
                ));
            }
        }
        changed
    }

    fn ensure_dir(&self) -> Result<()> {
        if self.dir.is_dir() {
            return Ok(());
        }
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&self.dir)
            .map_err(|e| cannot("create", &self.dir, &e))
    }
}

/// The held config lock; released when dropped.
pub struct ConfigLock {
    _file: File,
}

fn cannot(verb: &str, path: &Path, err: &std::io::Error) -> Error {
    Error::new(
        Kind::Config,
        format!("cannot {verb} {}: {}", path.display(), io_reason(err)),
    )
}

fn read_config(path: &Path) -> Result<Config> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Config::default()),
        Err(e) => return Err(cannot("read", path, &e)),
    };
    serde_json::from_slice(&text).map_err(|e| {
        Error::new(Kind::Config, format!("{} is damaged: {e}", path.display()))
            .with_hint("nemo left it untouched; fix it by hand, or remove it to start afresh")
    })
}

/// Removes the temp files of config writes (and probes) that a killed
/// process left in `dir`; called under the config lock, so none of them is
/// in use. Best effort: one that cannot be removed is left for the next.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(TEMP_PREFIX) && (name.ends_with(".tmp") || name.ends_with(".check")) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a temp file `<prefix>*.tmp` in `dir` (0600), fsyncs
/// it, renames it to `path` and fsyncs the folder.
fn write_atomically(dir: &Path, prefix: &str, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| cannot("write a temp file in", dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| cannot("set permissions of", temp.path(), &e))?;
    }
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| cannot("write", temp.path(), &e))?;
    temp.persist(path)
        .map_err(|e| cannot("replace", path, &e.error))?;
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Whether `dir` takes a real write: a 4 KiB file (named `prefix…suffix`)
/// written, synced to disk and removed. An empty file would pass on a full
/// disk; this one does not. Checked before anything remote is made that
/// must then be written there.
pub(crate) fn write_probe(dir: &Path, prefix: &str, suffix: &str) -> std::io::Result<()> {
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(suffix)
        .tempfile_in(dir)
        .and_then(|mut probe| {
            probe.write_all(&[0u8; 4096])?;
            probe.as_file().sync_all()?;
            probe.close()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_keeps_unknown_fields_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("cfg"));
        std::fs::create_dir_all(store.dir()).unwrap();
        std::fs::write(store.path(), r#"{"future_field":{"a":1},"sessions":[]}"#).unwrap();
        store
            .update(|c| {
                c.current_session = Some("42".into());
                Ok(())
            })
            .unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("future_field"));
        assert_eq!(store.load().unwrap().current_session.as_deref(), Some("42"));
    }

    #[test]
    fn damaged_file_is_an_error_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::write(store.path(), "{not json").unwrap();
        let err = store.update(|_| Ok(())).unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
        assert_eq!(std::fs::read_to_string(store.path()).unwrap(), "{not json");
    }

    #[test]
    fn client_id_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let a = store.client_id().unwrap();
        let b = store.client_id().unwrap();
        assert_eq!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
