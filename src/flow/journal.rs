//! The job journals: `DIR/.nemo-batch.jsonl` for `batch`, and one
//! `.nemo-generate-<hash>.jsonl` per unfinished job beside `generate`'s
//! output. One JSON record a
//! line, appended as each job moves and fsynced per record — the intent
//! before an irreversible step (the prompt about to go out, the render
//! about to be submitted), the outcome after it — so a re-run knows which
//! prompts went out, which were paid for and which renders to resume.
//! A job is known by its content ([`job_key`]: prompt, files, output as
//! given, name), not by its line.
//!
//! One `batch` works in a folder at a time: `DIR/.nemo-batch.lock` is held
//! exclusively for the whole run (a second `nemo batch` on the folder is
//! refused at once). `generate`s share their journal: each appends whole
//! lines (one write each) and claims its output path on its own. A torn
//! last line from a crash is ignored, and the next record starts on a line
//! of its own. Nothing here talks to the network.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Kind, Result};

pub(crate) const JOURNAL_FILE: &str = ".nemo-batch.jsonl";
const LOCK_FILE: &str = ".nemo-batch.lock";
/// The journal of one `generate` job, in the folder of its output:
/// `.nemo-generate-<hash of its key>.jsonl`, removed once the job is over
/// (saved, or failed for good), so a folder keeps only unfinished jobs.
pub(crate) fn generate_journal(key: &str) -> String {
    format!(".nemo-generate-{:016x}.jsonl", fnv1a(key.as_bytes()))
}

/// FNV-1a, 64 bits: a stable hash for the same bytes on every run and
/// platform (std's hashers promise no such thing).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Where a job is: planned → sent → replied → rendering → saved, or
/// refused / failed / unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    /// Its session exists; the prompt has not gone out.
    Created,
    /// The prompt is going out (the intent, recorded first): never sent
    /// again on its own; the session is read to learn what became of it.
    Sent,
    /// The server refused the prompt before any work started (2001, 429,
    /// another error answer): not sent, nothing paid; sent on a re-run.
    Refused,
    /// The reply ended: the prompt is paid for. The rest is finished from
    /// the session's state, never by prompting again.
    Replied,
    /// A render was submitted (recorded before the submit).
    Rendering,
    Saved,
    Failed,
    /// The prompt went out and nothing showed up in the session.
    Unknown,
}

/// A job's identity: its prompt, files, output as written (none for the
/// default name) and name — never its line number.
pub(crate) fn job_key(
    prompt: &str,
    files: &[String],
    output: Option<&str>,
    name: Option<&str>,
) -> String {
    serde_json::json!([prompt, files, output, name]).to_string()
}

/// One line of the journal: the job's state after a move.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Record {
    pub line: usize,
    /// The output path: with the prompt, what names the job.
    pub output: String,
    pub prompt: String,
    pub state: State,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub render_id: Option<String>,
    /// Whether the prompt went out (or may have).
    #[serde(default)]
    pub sent: bool,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub exit_code: Option<u8>,
    #[serde(default)]
    pub at: String,
    /// The job's identity ([`job_key`]); empty in journals written before.
    #[serde(default)]
    pub key: String,
    /// The size of the saved file: a file of another size is not the job's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The render ended without a file (failed, cancelled): it is
    /// submitted again from the same draft, never by prompting again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub render_ended: bool,
    /// The fingerprint of the session's draft before the prompt, recorded
    /// with the prompt's intent: a re-run takes only a draft that differs
    /// from it as the prompt's work (a session may have held a video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_before: Option<String>,
}

/// The open journal of a folder, with its lock held.
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    _lock: File,
}

impl Journal {
    /// Locks the folder's journal and reads it: the last record of each
    /// job, by output path.
    pub(crate) fn open(dir: &Path) -> Result<(Journal, HashMap<String, Record>)> {
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(format!("cannot open {}", lock_path.display()), e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::new(
                    Kind::BadInput,
                    format!("another `nemo batch` is working in {}", dir.display()),
                )
                .with_hint(
                    "wait for it to end (then run this again), or use another folder with -o",
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", lock_path.display()), e));
            }
        }
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        let records = read(&bytes);
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            // A torn last line: the next record starts on a line of its own.
            file.seek(SeekFrom::End(0))
                .and_then(|_| file.write_all(b"\n"))
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        }
        Ok((
            Journal {
                file,
                path,
                _lock: lock,
            },
            records,
        ))
    }

    /// Appends one record, whole, and makes it durable.
    pub(crate) fn append(&self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)
            .map_err(|e| Error::config(format!("cannot encode a journal record: {e}")))?;
        line.push(b'\n');
        let mut file = &self.file;
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))
    }
}

/// The last record of each job, by its key (by output path for records
/// written before keys); lines that cannot be read (a torn last line) are
/// skipped.
pub(crate) fn read(bytes: &[u8]) -> HashMap<String, Record> {
    let mut records = HashMap::new();
    for line in bytes.split(|b| *b == b'\n') {
        if let Ok(record) = serde_json::from_slice::<Record>(line) {
            let key = if record.key.is_empty() {
                record.output.clone()
            } else {
                record.key.clone()
            };
            records.insert(key, record);
        }
    }
    records
}

/// The journal of one `generate` job: read whole, appended a line at a
/// time without a lock (each line is one write to a file opened for
/// appending: two runs of the same command append whole lines).
pub(crate) struct Shared {
    path: PathBuf,
}

impl Shared {
    /// The journal `name` in `dir`, and the last record of each job.
    pub(crate) fn open(dir: &Path, name: &str) -> (Shared, HashMap<String, Record>) {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap_or_default();
        (Shared { path }, read(&bytes))
    }

    /// The job is over: its journal goes.
    pub(crate) fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Appends one record, whole, and makes it durable.
    pub(crate) fn append(&self, record: &Record) -> Result<()> {
        let mut line = b"\n".to_vec();
        serde_json::to_writer(&mut line, record)
            .map_err(|e| Error::config(format!("cannot encode a journal record: {e}")))?;
        line.push(b'\n');
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(format!("cannot open {}", self.path.display()), e))?;
        let mut file = &file;
        // The leading newline ends a line torn by a crash; blank lines are
        // skipped when read.
        file.write_all(&line)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(output: &str, state: State) -> Record {
        Record {
            line: 1,
            output: output.into(),
            prompt: "p".into(),
            state,
            session_id: Some("1".into()),
            render_id: None,
            sent: state != State::Created,
            error: None,
            exit_code: None,
            at: String::new(),
            key: String::new(),
            bytes: None,
            render_ended: false,
            draft_before: None,
        }
    }

    #[test]
    fn the_last_record_wins_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, before) = Journal::open(dir.path()).unwrap();
            assert!(before.is_empty());
            journal.append(&record("a.mp4", State::Created)).unwrap();
            journal.append(&record("a.mp4", State::Sent)).unwrap();
            journal.append(&record("b.mp4", State::Created)).unwrap();
        }
        // A crash mid-write leaves half a line.
        let path = dir.path().join(JOURNAL_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"line\":1,\"output\":\"b.mp4\",\"pro")
            .unwrap();
        drop(file);
        let (journal, records) = Journal::open(dir.path()).unwrap();
        assert_eq!(records["a.mp4"].state, State::Sent);
        assert_eq!(records["b.mp4"].state, State::Created);
        journal.append(&record("b.mp4", State::Saved)).unwrap();
        drop(journal);
        let (_journal, records) = Journal::open(dir.path()).unwrap();
        assert_eq!(records["b.mp4"].state, State::Saved);
    }

    #[test]
    fn one_process_per_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (_held, _) = Journal::open(dir.path()).unwrap();
        let err = Journal::open(dir.path()).err().unwrap();
        assert!(err.message().contains("another `nemo batch`"));
    }
}
