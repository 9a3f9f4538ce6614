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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use serde::Serialize;

use crate::error::{Error, Kind, Result};
use crate::report::{Note, Report, Text};

/// How output is shaped: the printer's own options, filled in from the
/// flags and the environment by the settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--json`: results as JSON on stdout (chat: JSON Lines).
    pub json: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// `--no-color` or a non-empty `NO_COLOR`.
    pub no_color: bool,
    /// Streams to treat as terminals whatever they are (a hidden switch for
    /// tests).
    pub pretend: Terminals,
    /// `--sandbox`: suggested commands carry `--sandbox` ([`crate::suggest`]).
    pub sandbox: bool,
}

/// Which of stdout and stderr are (or are taken for) terminals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminals {
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminals {
    /// Reads a list such as `stdout,stderr` (unknown words are ignored).
    pub fn parse(list: &str) -> Terminals {
        let mut terminals = Terminals::default();
        for word in list.split([',', ' ']).map(str::trim) {
            match word {
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
    pub quiet: bool,
    pub verbose: bool,
    stdout_tty: bool,
    stderr_tty: bool,
    color: bool,
    sandbox: bool,
    /// Set once the command's JSON document is out, so a later failure does
    /// not add a second document to stdout.
    json_done: Arc<AtomicBool>,
}

impl Printer {
    pub fn new(output: Options) -> Self {
        let stdout_tty = output.pretend.stdout || std::io::stdout().is_terminal();
        let stderr_tty = output.pretend.stderr || std::io::stderr().is_terminal();
        Printer {
            json: output.json,
            quiet: output.quiet,
            verbose: output.verbose,
            stdout_tty,
            stderr_tty,
            color: stderr_tty && !output.no_color,
            sandbox: output.sandbox,
            json_done: Arc::new(AtomicBool::new(false)),
        }
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
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{}", line.as_ref())?;
        stdout.flush()?;
        Ok(())
    }

    /// A piece of streamed text on stdout, flushed at once.
    pub fn out_piece(&self, text: &str) -> Result<()> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        Ok(())
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

    /// The one place JSON leaves the printer: documents, JSON Lines records
    /// and the error document alike. A `--jq` filter hooks in here: it would
    /// turn `value` into a `serde_json::Value` (`serde_json::to_value`), run
    /// on it, and print each result on a line of its own. Without a filter
    /// the value is written as it serialises (key order kept).
    fn emit_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value)
            .map_err(|e| Error::new(Kind::Io, format!("cannot encode JSON output: {e}")))?;
        self.out(text)
    }

    /// A plain status line such as `Connecting…` (hidden by `--quiet`).
    pub fn status(&self, message: impl AsRef<str>) {
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

    fn target(&self) -> ProgressDrawTarget {
        if self.shows_progress() {
            ProgressDrawTarget::term_like_with_hz(
                Box::new(NarrowStderr(console::Term::buffered_stderr())),
                20,
            )
        } else {
            ProgressDrawTarget::hidden()
        }
    }

    /// A spinner with elapsed time; hidden unless progress is shown.
    pub fn spinner(&self, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.target());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.into());
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A byte progress bar (bytes, rate, ETA); hidden unless progress is shown.
    pub fn bytes_bar(&self, total: Option<u64>, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(total, self.target());
        let template = if total.is_some() {
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{spinner} {msg} {bytes} {bytes_per_sec}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }

    /// A percent bar (0–100); hidden unless progress is shown.
    pub fn percent_bar(&self, message: impl Into<String>) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(100), self.target());
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {pos}% ({elapsed})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.into());
        bar
    }
}

/// stderr for indicatif, two columns narrower than the terminal. indicatif
/// pads a bar's line to the full width, which leaves the cursor in the last
/// column; the `^C` a terminal echoes on Ctrl-C then wraps onto a new line,
/// and clearing the bar afterwards would clear that line instead, leaving
/// the bar on screen.
#[derive(Debug)]
struct NarrowStderr(console::Term);

impl TermLike for NarrowStderr {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(2).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.0.write_line(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        self.0.write_str(s)
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.flush()
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
                stdout: true,
                stderr: true
            }
        );
        assert_eq!(
            Terminals::parse(" stderr , nonsense"),
            Terminals {
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
