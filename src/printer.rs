//! The `Printer`: the one place that writes to stdout and stderr.
//!
//! stdout carries results only; stderr carries status, warnings, hints,
//! errors and progress (`../shared/spec/cli.md` "Streams"). Terminal
//! detection and colour are decided once, here: nothing else asks whether
//! stdout or stderr is a terminal.
//!
//! It depends on nothing above it (not settings, not the command line): it
//! is built from its own [`Options`], which the settings fill in.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::jq::Jq;
use crate::report::{Note, Report, Text};

mod progress;

pub use progress::Ticker;

/// How output is shaped: the printer's own options, filled in from the
/// flags and the environment by the settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--json` (or `--jq`): results as JSON on stdout (chat: JSON Lines).
    pub json: bool,
    /// `--jq EXPR`: every JSON value goes through this filter.
    pub jq: Option<Jq>,
    pub quiet: bool,
    pub verbose: bool,
    /// `--color`, `--no-color`, `NO_COLOR`, `CLICOLOR_FORCE`, resolved.
    pub color: Color,
    /// `--no-input`, `NEMO_NO_INPUT` or `CI`: never prompt.
    pub no_input: bool,
    /// `COLUMNS`: the terminal's width, when set.
    pub columns: Option<usize>,
    /// Streams to treat as terminals whatever they are (a hidden switch for
    /// tests).
    pub pretend: Terminals,
    /// `--sandbox`: suggested commands carry `--sandbox` ([`crate::suggest`]).
    pub sandbox: bool,
}

/// When to colour stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Color {
    /// On a terminal only.
    #[default]
    Auto,
    Always,
    Never,
}

/// Which of stdin, stdout and stderr are (or are taken for) terminals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminals {
    /// Reads a list such as `stdout,stderr` (unknown words are ignored).
    pub fn parse(list: &str) -> Terminals {
        let mut terminals = Terminals::default();
        for word in list.split([',', ' ']).map(str::trim) {
            match word {
                "stdin" => terminals.stdin = true,
                "stdout" => terminals.stdout = true,
                "stderr" => terminals.stderr = true,
                _ => {}
            }
        }
        terminals
    }
}

#[derive(Debug, Clone)]
pub struct Printer {
    json: bool,
    jq: Option<Jq>,
    pub quiet: bool,
    pub verbose: bool,
    stdin_tty: bool,
    stdout_tty: bool,
    stderr_tty: bool,
    color: bool,
    no_input: bool,
    columns: Option<usize>,
    sandbox: bool,
    /// Set once the command's JSON document is out, so a later failure does
    /// not add a second document to stdout.
    json_done: Arc<AtomicBool>,
    /// Where stdout goes instead of the process's stdout, if anywhere.
    capture: Option<Capture>,
}

/// Told each status line of a printer with a [`Capture`].
pub type StatusListener = Arc<dyn Fn(&str) + Send + Sync>;

/// A stdout that is not the process's: `nemo mcp`, whose stdout carries
/// only protocol messages, runs each tool with a printer whose results
/// land here, and whose status lines (the phases and progress a command
/// reports) go to a listener as well as to stderr.
#[derive(Clone, Default)]
pub struct Capture {
    out: Arc<Mutex<Vec<u8>>>,
    listener: Option<StatusListener>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").finish_non_exhaustive()
    }
}

impl Capture {
    /// A capture whose status lines are also told to `listener`.
    pub fn new(listener: Option<StatusListener>) -> Capture {
        Capture {
            out: Arc::default(),
            listener,
        }
    }

    /// Everything written to stdout so far, taken out.
    pub fn take(&self) -> Vec<u8> {
        match self.out.lock() {
            Ok(mut out) => std::mem::take(&mut *out),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    fn write(&self, bytes: &[u8]) {
        match self.out.lock() {
            Ok(mut out) => out.extend_from_slice(bytes),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
        }
    }
}

impl Printer {
    pub fn new(output: Options) -> Self {
        let stdin_tty = output.pretend.stdin || std::io::stdin().is_terminal();
        let stdout_tty = output.pretend.stdout || std::io::stdout().is_terminal();
        let stderr_tty = output.pretend.stderr || std::io::stderr().is_terminal();
        let color = match output.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => stderr_tty,
        };
        Printer {
            json: output.json || output.jq.is_some(),
            jq: output.jq,
            quiet: output.quiet,
            verbose: output.verbose,
            stdin_tty,
            stdout_tty,
            stderr_tty,
            color,
            no_input: output.no_input,
            columns: output.columns,
            sandbox: output.sandbox,
            json_done: Arc::new(AtomicBool::new(false)),
            capture: None,
        }
    }

    /// This printer with its results captured (as one JSON document) in
    /// `capture` rather than written to stdout: no terminal, no prompt, no
    /// `--jq`. stderr is still stderr.
    pub fn captured(&self, capture: Capture) -> Printer {
        Printer {
            json: true,
            jq: None,
            stdin_tty: false,
            stdout_tty: false,
            stderr_tty: false,
            no_input: true,
            json_done: Arc::new(AtomicBool::new(false)),
            capture: Some(capture),
            ..self.clone()
        }
    }

    /// `bytes` on stdout (or into the capture), flushed.
    fn write_out(&self, bytes: &[u8]) -> Result<()> {
        if let Some(capture) = &self.capture {
            capture.write(bytes);
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(bytes)?;
        stdout.flush()?;
        Ok(())
    }

    /// Whether someone can answer a prompt: stdin is a terminal and neither
    /// `--no-input`, `NEMO_NO_INPUT` nor `CI` says otherwise.
    pub fn can_prompt(&self) -> bool {
        self.stdin_tty && !self.no_input
    }

    /// Whether stdin is a terminal (else a message may be read from it).
    pub fn stdin_is_terminal(&self) -> bool {
        self.stdin_tty
    }

    /// The width to draw in when stdout is a terminal (`COLUMNS`, else the
    /// terminal's, else 80); `None` when it is not.
    pub fn stdout_width(&self) -> Option<usize> {
        if !self.stdout_tty {
            return None;
        }
        let terminal = || {
            console::Term::stdout()
                .size_checked()
                .map(|(_, cols)| usize::from(cols))
        };
        Some(self.columns.or_else(terminal).unwrap_or(80))
    }

    /// Whether results are JSON (`--json` or `--jq`).
    pub fn wants_json(&self) -> bool {
        self.json
    }

    /// Whether stderr lines are coloured.
    pub fn colors(&self) -> bool {
        self.color
    }

    /// Whether spinners and progress bars are drawn (stderr is a terminal and
    /// not `--quiet`).
    pub fn shows_progress(&self) -> bool {
        self.stderr_tty && !self.quiet
    }

    pub fn stderr_is_terminal(&self) -> bool {
        self.stderr_tty
    }

    /// Whether stdout is a terminal (streamed text then shares the screen
    /// with the spinner on stderr).
    pub fn stdout_is_terminal(&self) -> bool {
        self.stdout_tty
    }

    /// The printer's choice between the text form and the JSON form of
    /// something: `text` without `--json`, `json` with it.
    pub fn pick<T>(&self, text: impl FnOnce() -> T, json: impl FnOnce() -> T) -> T {
        if self.json { json() } else { text() }
    }

    /// One line of result on stdout.
    pub fn out(&self, line: impl AsRef<str>) -> Result<()> {
        if let Some(capture) = &self.capture {
            capture.write(line.as_ref().as_bytes());
            capture.write(b"\n");
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", line.as_ref())?;
        stdout.flush()?;
        Ok(())
    }

    /// A piece of streamed text on stdout, flushed at once.
    pub fn out_piece(&self, text: &str) -> Result<()> {
        self.write_out(text.as_bytes())
    }

    /// A command's result: its text form, or with `--json` its one JSON
    /// document.
    pub fn report<R: Report + ?Sized>(&self, report: &R) -> Result<()> {
        if self.json {
            self.document(report)
        } else {
            self.human(report)
        }
    }

    /// Part of a result, shown to a person as it comes (a file uploaded, a
    /// balance below the gate); nothing with `--json`, where the command's
    /// one document (or its error) stands alone.
    pub fn human<R: Report + ?Sized>(&self, report: &R) -> Result<()> {
        if self.json {
            return Ok(());
        }
        let mut text = Text::default();
        report.human(&mut text);
        if !text.lines.is_empty() {
            self.out(text.lines.join("\n"))?;
        }
        for note in text.notes {
            match note {
                Note::Status(line) => self.status(line),
                Note::Hint(line) => self.hint(line),
            }
        }
        Ok(())
    }

    /// The command's one JSON document on stdout.
    fn document<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
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
            serde_json::to_writer(&mut *out, value)
                .map_err(|e| Error::new(Kind::Io, format!("cannot encode JSON output: {e}")))?;
            out.push(b'\n');
            return Ok(());
        };
        // With --jq the record goes through the filter like every other
        // JSON that leaves the printer.
        let text = serde_json::to_string(value)
            .map_err(|e| Error::new(Kind::Io, format!("cannot encode JSON output: {e}")))?;
        for line in jq.lines(&text)? {
            out.extend_from_slice(line.as_bytes());
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
            serde_json::to_writer(&mut stdout, value).map_err(encoding)?;
            stdout.write_all(b"\n")?;
            stdout.flush()?;
            return Ok(());
        };
        let text = serde_json::to_string(value).map_err(encoding)?;
        let lines = jq.lines(&text)?;
        if lines.is_empty() {
            return Ok(());
        }
        self.out(lines.join("\n"))
    }

    /// A plain status line such as `Connecting…` (hidden by `--quiet`).
    pub fn status(&self, message: impl AsRef<str>) {
        if let Some(listener) = self.capture.as_ref().and_then(|c| c.listener.as_ref()) {
            listener(message.as_ref());
        }
        if !self.quiet {
            self.err_line(message.as_ref());
        }
    }

    /// `warning: …` on stderr (hidden by `--quiet`).
    pub fn warn(&self, message: impl AsRef<str>) {
        if !self.quiet {
            let label = self.paint("warning:", "1;33");
            self.err_line(&format!("{label} {}", message.as_ref()));
        }
    }

    /// `hint: …` on stderr (hidden by `--quiet`).
    pub fn hint(&self, message: impl AsRef<str>) {
        if !self.quiet {
            let label = self.paint("hint:", "1;36");
            self.err_line(&format!("{label} {}", message.as_ref()));
        }
    }

    /// A `-v` line on stderr.
    pub fn debug(&self, message: impl AsRef<str>) {
        if self.verbose {
            let label = self.paint("debug:", "2");
            self.err_line(&format!("{label} {}", message.as_ref()));
        }
    }

    /// Reports a failure: `error: …` and `hint: …` on stderr, and with
    /// `--json` the error document on stdout. Broken pipes report nothing.
    pub fn error(&self, err: &Error) {
        if err.is(Kind::BrokenPipe) {
            return;
        }
        let label = self.paint("error:", "1;31");
        self.err_line(&format!("{label} {}", one_line(&err.to_string())));
        if let Some(hint) = err.hint() {
            let label = self.paint("hint:", "1;36");
            self.err_line(&format!("{label} {}", one_line(&hint)));
        }
        if self.verbose {
            for cause in err.causes() {
                self.err_line(&format!("Caused by: {}", one_line(&cause.to_string())));
            }
        }
        if self.json && !self.json_done.load(Ordering::Relaxed) {
            let _ = self.document(&error_document(err));
        }
    }

    /// A line on stderr; write errors are ignored (stderr is the last resort).
    /// Every `nemo …` command in it is one to run in this mode.
    pub fn err_line(&self, line: &str) {
        let line = self.suggest(line);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }

    /// `text` with its `nemo …` commands as they run in this mode (under
    /// `--sandbox`: `nemo --sandbox …`), for advice printed on stdout.
    pub fn suggest<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        crate::suggest::for_mode(text, self.sandbox)
    }

    fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// `{"error":{"kind","message","exit_code","api_code"}}`.
pub fn error_document(err: &Error) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "kind": err.kind().name(),
            "message": one_line(&err.to_string()),
            "exit_code": err.exit_code(),
            "api_code": err.api_code(),
        }
    })
}

/// Folds a message onto one line so `error:` stays one line.
fn one_line(text: &str) -> String {
    crate::sanitize::strip_controls(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pretend_switch_names_streams() {
        assert_eq!(Terminals::parse(""), Terminals::default());
        assert_eq!(
            Terminals::parse("stdout,stderr"),
            Terminals {
                stdin: false,
                stdout: true,
                stderr: true
            }
        );
        assert_eq!(
            Terminals::parse(" stderr , nonsense"),
            Terminals {
                stdin: false,
                stdout: false,
                stderr: true
            }
        );
    }

    #[test]
    fn a_pretended_terminal_is_one() {
        let printer = Printer::new(Options {
            pretend: Terminals::parse("stdout,stderr"),
            ..Options::default()
        });
        assert!(printer.stdout_is_terminal());
        assert!(printer.stderr_is_terminal());
        assert!(printer.shows_progress());
        let quiet = Printer::new(Options {
            quiet: true,
            pretend: Terminals::parse("stderr"),
            ..Options::default()
        });
        assert!(!quiet.shows_progress());
    }

    #[test]
    fn the_printer_picks_the_form() {
        let text = Printer::new(Options::default());
        let json = Printer::new(Options {
            json: true,
            ..Options::default()
        });
        assert_eq!(text.pick(|| "text", || "json"), "text");
        assert_eq!(json.pick(|| "text", || "json"), "json");
    }
}
