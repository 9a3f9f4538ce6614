//! What jobs of one machine must know of each other: the output path a
//! `generate` claims before its prompt is sent ([`claim_path`]: a second
//! job to the same path is refused before it pays), and the running-jobs
//! marker in the config folder ([`Running`]) that tells whether another
//! job of this config overlapped this one, so `credits_spent` is the job's
//! own balance difference or nothing — never another job's spending.
//!
//! Only local files and locks; nothing here talks to the network.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Kind, Result};
use crate::flow::download::same_file;

/// An output path held by this process until dropped.
pub(crate) struct PathClaim {
    lock: PathBuf,
    _file: File,
}

impl Drop for PathClaim {
    fn drop(&mut self) {
        // Removed while still locked: a job that opened it meanwhile finds
        // it gone when it checks, and tries again on a fresh file.
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// Claims `output` for this job: `.<name>.nemo-claim` beside it, locked.
/// Another job holding it is exit 7, before anything is sent.
pub(crate) fn claim_path(output: &Path) -> Result<PathClaim> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = output.parent().filter(|p| !p.as_os_str().is_empty());
    let lock = dir
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.nemo-claim"));
    for _ in 0..3 {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| Error::io(format!("cannot claim {}", output.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::new(
                    Kind::BadInput,
                    format!(
                        "another job is making {} already; nothing was sent",
                        output.display()
                    ),
                )
                .with_hint("wait for it, or give another path with -o"));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot claim {}", output.display()), e));
            }
        }
        if same_file(&file, &lock) {
            return Ok(PathClaim { lock, _file: file });
        }
    }
    Err(Error::new(
        Kind::BadInput,
        format!(
            "cannot claim {}: other jobs keep taking it",
            output.display()
        ),
    ))
}

/// This job's mark among the running jobs of a config: a locked file in
/// `<config>/jobs/`, and the count of jobs ever started there.
pub(crate) struct Running {
    mark: PathBuf,
    _file: File,
    counter: PathBuf,
    started_as: u64,
    others_at_start: bool,
}

/// Marks made by this process so far (part of each mark's name).
static MARKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A mark left by a job that was killed is removed once it is this old
/// (a younger unlocked one may be a job between creating and locking it).
const STALE_MS: u128 = 60_000;

impl Running {
    /// Marks a job as running in `config_dir`; `None` when that cannot be
    /// done (then nobody can tell whether jobs overlapped).
    pub(crate) fn start(config_dir: &Path) -> Option<Running> {
        let dir = config_dir.join("jobs");
        std::fs::create_dir_all(&dir).ok()?;
        let now = crate::time::unix_millis();
        // Unique within the process too: jobs of one process (`nemo mcp`
        // runs several at once) may start in the same millisecond, and a
        // second lock on the same file would wait for the first forever.
        let seq = MARKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mark = dir.join(format!("run-{now}-{}-{seq}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&mark)
            .ok()?;
        // A new file of this job's own: nobody else holds it.
        file.try_lock().ok()?;
        let counter = dir.join("started");
        let started_as = bump(&counter).ok()?;
        let mut others_at_start = false;
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path == mark || !name.starts_with("run-") {
                continue;
            }
            let Ok(other) = OpenOptions::new().write(true).open(&path) else {
                continue;
            };
            match other.try_lock() {
                Err(_) => others_at_start = true,
                Ok(()) => {
                    let at: u128 = name
                        .split('-')
                        .nth(1)
                        .and_then(|ms| ms.parse().ok())
                        .unwrap_or(0);
                    if now.saturating_sub(at) > STALE_MS {
                        let _ = std::fs::remove_file(&path);
                    } else {
                        others_at_start = true;
                    }
                }
            }
        }
        Some(Running {
            mark,
            _file: file,
            counter,
            started_as,
            others_at_start,
        })
    }

    /// No other job of this config ran at any moment of this one.
    pub(crate) fn alone(&self) -> bool {
        !self.others_at_start && read_count(&self.counter).ok() == Some(self.started_as)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.mark);
    }
}

/// Adds one to the count of jobs started, under its lock; the new count.
fn bump(counter: &Path) -> std::io::Result<u64> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(counter)?;
    file.lock()?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    let count = text.trim().parse::<u64>().unwrap_or(0) + 1;
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(count.to_string().as_bytes())?;
    file.sync_data()?;
    Ok(count)
}

fn read_count(counter: &Path) -> std::io::Result<u64> {
    let file = File::open(counter)?;
    file.lock_shared()?;
    let mut text = String::new();
    (&file).read_to_string(&mut text)?;
    Ok(text.trim().parse().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_claimed_once_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.mp4");
        let held = claim_path(&out).unwrap();
        let err = claim_path(&out).err().unwrap();
        assert!(err.is(Kind::BadInput), "{err}");
        drop(held);
        assert!(claim_path(&out).is_ok());
    }

    #[test]
    fn overlapping_jobs_are_not_alone() {
        let dir = tempfile::tempdir().unwrap();
        let first = Running::start(dir.path()).unwrap();
        assert!(first.alone());
        let second = Running::start(dir.path()).unwrap();
        assert!(!second.alone());
        assert!(!first.alone());
        drop((first, second));
        let third = Running::start(dir.path()).unwrap();
        assert!(third.alone());
    }

    /// Jobs of one process starting in the same millisecond (the MCP
    /// server runs several at once) get marks of their own: none waits on
    /// another's lock. Before, the second waited forever.
    #[test]
    fn jobs_of_one_process_started_at_once_never_wait_on_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for _ in 0..200 {
                let first = Running::start(&path).unwrap();
                let second = Running::start(&path).unwrap();
                assert!(!first.alone() && !second.alone());
            }
            let _ = done.send(());
        });
        ended
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("200 pairs of marks within 20 s");
    }
}
