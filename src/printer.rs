//! The `Printer`: the one place that writes to stdout and stderr.
//!
//! stdout carries results only; stderr carries status, warnings, hints,
//! errors and progress (`../shared/spec/cli.md` "Streams"). Terminal
//! detection and colour are decided once, here: nothing else asks whether
//! stdout or stderr is a terminal.
//!
//! It depends on nothing above it (not settings, not the command line): it
//! is built from its own [`Options`], which the settings fill in.
//!
//! Whatever passes through it as text is sanitised on the way out (terminal
//! control sequences, C0/C1 controls but newline and tab, bidi controls:
//! [`crate::sanitize`]), and its JSON escapes C1 and bidi controls
//! (`safe_json`): server text cannot drive the terminal through a report,
//! a status line or an error, on stdout or stderr. Streamed reply text
//! (`out_piece`, `out_bytes`) is sanitised by its producer, which keeps a
//! sequence cut between pieces whole.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Kind, Result};
use crate::jq::Jq;
use crate::report::{Note, Report, Text};

mod capture;
mod json;
mod progress;
mod safe_json;

pub use capture::{Capture, StatusListener};

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

    /// Whether spinners and progress bars are drawn (stderr is a terminal and
    /// not `--quiet`).
    pub fn shows_progress(&self) -> bool {
        self.stderr_tty && !self.quiet
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

    /// One line of result on stdout (sanitised).
    pub fn out(&self, line: impl AsRef<str>) -> Result<()> {
        // The text and its newline in one write: parallel processes on one
        // pipe never glue lines together.
        self.write_out(format!("{}\n", safe(line.as_ref())).as_bytes())
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
            self.labelled("warning:", "1;33", message.as_ref());
        }
    }

    /// `hint: …` on stderr (hidden by `--quiet`).
    pub fn hint(&self, message: impl AsRef<str>) {
        if !self.quiet {
            self.labelled("hint:", "1;36", message.as_ref());
        }
    }

    /// A `-v` line on stderr.
    pub fn debug(&self, message: impl AsRef<str>) {
        if self.verbose {
            self.labelled("debug:", "2", message.as_ref());
        }
    }

    /// `label message` on stderr: the message sanitised, then the label
    /// painted (its colour is nemo's own escape sequence).
    fn labelled(&self, label: &str, sgr: &str, message: &str) {
        let label = self.paint(label, sgr);
        self.write_err(&format!("{label} {}", safe(message)));
    }

    /// Reports a failure: `error: …` and `hint: …` on stderr, and with
    /// `--json` the error document on stdout. Broken pipes report nothing.
    pub fn error(&self, err: &Error) {
        if err.is(Kind::BrokenPipe) {
            return;
        }
        self.labelled("error:", "1;31", &one_line(&err.to_string()));
        if let Some(hint) = err.hint() {
            self.labelled("hint:", "1;36", &one_line(&hint));
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

    /// A line on stderr, sanitised; write errors are ignored (stderr is
    /// the last resort). Every `nemo …` command in it is one to run in this
    /// mode.
    pub fn err_line(&self, line: &str) {
        self.write_err(&safe(line));
    }

    /// A line on stderr as it is (already sanitised, or nemo's own colour).
    fn write_err(&self, line: &str) {
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
            "exit_code": crate::interrupt::exit_code_of(err),
            "api_code": err.api_code(),
        }
    })
}

/// `text` with terminal control sequences and controls removed (newline and
/// tab kept); borrowed when there is nothing to remove.
fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(crate::sanitize::is_unsafe) {
        std::borrow::Cow::Owned(crate::sanitize::strip_controls(text))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
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
