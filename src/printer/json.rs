//! The one place JSON leaves the printer: a command's document, chat's
//! JSON Lines records and the error document, with C1 and bidi controls
//! escaped (`safe_json`), through `--jq` when it is given, or into a
//! [`Capture`](super::Capture) under `nemo mcp`.

use std::io::Write;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::{Printer, safe, safe_json};
use crate::error::{Error, Kind, Result};

impl Printer {
    /// The command's one JSON document on stdout.
    pub(super) fn document<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.json_done.store(true, Ordering::Relaxed);
        self.emit_json(value)
    }

    /// One JSON Lines record on stdout (chat).
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        self.emit_json(value)
    }

    /// One JSON Lines record appended to `out`, for a caller that writes
    /// several at once with [`Printer::out_bytes`] (chat's reply stream).
    pub fn json_line_into<T: Serialize + ?Sized>(
        &self,
        out: &mut Vec<u8>,
        value: &T,
    ) -> Result<()> {
        let Some(jq) = &self.jq else {
            safe_json::to_writer(&mut *out, value)
                .map_err(|e| Error::new(Kind::Io, format!("cannot encode JSON output: {e}")))?;
            out.push(b'\n');
            return Ok(());
        };
        // With --jq the record goes through the filter like every other
        // JSON that leaves the printer.
        let text = safe_json::to_string(value)
            .map_err(|e| Error::new(Kind::Io, format!("cannot encode JSON output: {e}")))?;
        for line in jq.lines(&text)? {
            // A string result prints raw: sanitised like any text.
            out.extend_from_slice(safe(&line).as_bytes());
            out.push(b'\n');
        }
        Ok(())
    }

    /// Bytes of result on stdout, written in one go and flushed.
    pub fn out_bytes(&self, bytes: &[u8]) -> Result<()> {
        self.write_out(bytes)
    }

    /// The one place JSON leaves the printer: documents, JSON Lines records
    /// and the error document alike. Without `--jq` the value is written as
    /// it serialises (key order kept); with it, each result of the filter
    /// on a line of its own (strings raw).
    ///
    /// Without `--jq` the document is encoded straight into stdout's buffer,
    /// not into a string first: a `done` record carries the whole reply.
    fn emit_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let encoding = |e: serde_json::Error| {
            if e.is_io() {
                Error::from(std::io::Error::from(e))
            } else {
                Error::new(Kind::Io, format!("cannot encode JSON output: {e}"))
            }
        };
        if let Some(capture) = &self.capture {
            let mut bytes = serde_json::to_vec(value).map_err(encoding)?;
            bytes.push(b'\n');
            capture.write(&bytes);
            return Ok(());
        }
        let Some(jq) = &self.jq else {
            let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
            safe_json::to_writer(&mut stdout, value).map_err(encoding)?;
            stdout.write_all(b"\n")?;
            stdout.flush()?;
            return Ok(());
        };
        let text = safe_json::to_string(value).map_err(encoding)?;
        let lines = jq.lines(&text)?;
        if lines.is_empty() {
            return Ok(());
        }
        self.out(lines.join("\n"))
    }
}
