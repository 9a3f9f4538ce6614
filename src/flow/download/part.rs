//! Whose `PATH.part` is it: a `.part` is nemo's own only when its sidecar
//! `PATH.part.json` (written atomically before the first byte) names the
//! render and, when known, the size it belongs to. Anything else — no
//! sidecar, another render, another size, a symlink, not a file — is
//! foreign: it is never resumed into; it is removed (the name is nemo's
//! convention for this output) and the download starts afresh.
//!
//! And who is downloading to `PATH`: one process at a time, by an
//! exclusive lock on `PATH.part.lock` taken without waiting; the loser
//! exits 7. The lock file is removed by its holder at the end.
//!
//! It must not download anything (that is `download`).

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::api::download::Identity;
use crate::error::{Error, Result};

/// `PATH` + `suffix`.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `PATH.part.json`.
pub(super) fn sidecar_path(path: &Path) -> PathBuf {
    beside(path, ".part.json")
}

/// What a `.part` belongs to.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub(super) struct Owner {
    pub(super) render_id: String,
    pub(super) size: Option<u64>,
    /// The server's validator and length for the bytes in it, once known:
    /// a resume in another process sends it as `If-Range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) identity: Option<Identity>,
}

impl Owner {
    /// Whether `recorded` (read from a sidecar) is this same download.
    fn matches(&self, recorded: &Owner) -> bool {
        self.render_id == recorded.render_id
            && match (self.size, recorded.size) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// Whether the `.part` at `part` may be resumed for `owner`: a regular file
/// (not a symlink) whose sidecar names the same render and size.
pub(super) fn is_own(part: &Path, sidecar: &Path, owner: &Owner) -> bool {
    let regular = std::fs::symlink_metadata(part).is_ok_and(|m| m.file_type().is_file());
    regular && recorded(sidecar).is_some_and(|r| owner.matches(&r))
}

/// What the sidecar records, when it can be read.
pub(super) fn recorded(sidecar: &Path) -> Option<Owner> {
    std::fs::read(sidecar)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Owner>(&bytes).ok())
}

/// Writes the sidecar atomically (temp file, fsync, rename), before the
/// first byte goes into the `.part`.
pub(super) fn claim(sidecar: &Path, owner: &Owner) -> Result<()> {
    let dir = match sidecar.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let cannot = |e: std::io::Error| Error::io(format!("cannot write {}", sidecar.display()), e);
    let mut temp = tempfile::Builder::new()
        .prefix(".nemo-part.")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(cannot)?;
    let bytes = serde_json::to_vec(owner).map_err(|e| cannot(std::io::Error::other(e)))?;
    std::io::Write::write_all(&mut temp, &bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(cannot)?;
    temp.persist(sidecar).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// Removes a file or a symlink (never what it points at); one that is not
/// there is fine.
pub(super) fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot remove {}", path.display()), e)),
    }
}

/// The exclusive right to download to one path, held while it lives.
pub(super) struct Writer {
    file: File,
    path: PathBuf,
}

impl Writer {
    /// Takes the lock of `PATH`'s download without waiting: another nemo
    /// downloading to `PATH` is exit 7.
    pub(super) fn take(path: &Path, id: &str) -> Result<Writer> {
        let lock = beside(path, ".part.lock");
        // A holder removes the lock file when done; a lock taken on a file
        // removed meanwhile is no lock, so it is taken again on the new one.
        for _ in 0..5 {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock)
                .map_err(|e| Error::io(format!("cannot open {}", lock.display()), e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::bad_input(
                        format!("another nemo is downloading to {}", path.display()),
                        Some(format!(
                            "wait for it to finish, or run `nemo export resume {id}` afterwards"
                        )),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::io(format!("cannot lock {}", lock.display()), e));
                }
            }
            if same_file(&file, &lock) {
                return Ok(Writer { file, path: lock });
            }
        }
        Err(Error::bad_input(
            format!("another nemo is downloading to {}", path.display()),
            None,
        ))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Removed while still held, so a waiting process re-checks.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Whether the open `file` is still the one at `path` (not removed by its
/// last holder between an open and a lock): the check of every lock file
/// nemo takes and removes.
#[cfg(unix)]
pub(crate) fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
pub(crate) fn same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_own_only_with_a_matching_sidecar() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("a.mp4.part");
        let sidecar = sidecar_path(&dir.path().join("a.mp4"));
        let owner = Owner {
            render_id: "render_1".into(),
            size: Some(10),
            identity: None,
        };
        std::fs::write(&part, b"abc").unwrap();
        assert!(!is_own(&part, &sidecar, &owner), "no sidecar");
        claim(&sidecar, &owner).unwrap();
        assert!(is_own(&part, &sidecar, &owner));
        let other = Owner {
            render_id: "render_2".into(),
            size: Some(10),
            identity: None,
        };
        assert!(!is_own(&part, &sidecar, &other), "another render");
        let resized = Owner {
            render_id: "render_1".into(),
            size: Some(11),
            identity: None,
        };
        assert!(!is_own(&part, &sidecar, &resized), "another size");
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.mp4");
        let first = Writer::take(&path, "render_1").unwrap();
        let second = Writer::take(&path, "render_1");
        assert!(second.is_err_and(|e| e.to_string().contains("another nemo")));
        drop(first);
        assert!(Writer::take(&path, "render_1").is_ok());
    }
}
