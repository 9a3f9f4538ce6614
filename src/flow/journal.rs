//! The batch journal, `DIR/.nemo-batch.jsonl`: one JSON record a line,
//! appended as each job moves (created, sent, rendering, saved, failed,
//! unknown) and fsynced per record, so a re-run knows which prompts went
//! out and which renders to resume.
//!
//! One process works in a folder at a time: `DIR/.nemo-batch.lock` is held
//! exclusively for the whole run (a second `nemo batch` on the folder is
//! refused at once). A torn last line from a crash is ignored, and the next
//! record starts on a line of its own. Nothing here talks to the network.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Kind, Result};

pub(crate) const JOURNAL_FILE: &str = ".nemo-batch.jsonl";
const LOCK_FILE: &str = ".nemo-batch.lock";

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    /// Its session exists; the prompt has not gone out.
    Created,
    /// The prompt went out (or was about to): never sent again on its own.
    Sent,
    /// A render was accepted.
    Rendering,
    Saved,
    Failed,
    /// The prompt went out and nothing showed up in the session.
    Unknown,
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

/// The last record of each job; lines that cannot be read (a torn last
/// line) are skipped.
pub(crate) fn read(bytes: &[u8]) -> HashMap<String, Record> {
    let mut records = HashMap::new();
    for line in bytes.split(|b| *b == b'\n') {
        if let Ok(record) = serde_json::from_slice::<Record>(line) {
            records.insert(record.output.clone(), record);
        }
    }
    records
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
