//! Where a reply goes: [`TerminalSink`] (text streamed to stdout as it
//! comes, the changes as sentences) or [`JsonLinesSink`] (a JSON Lines
//! record per event, then a `done` record), behind one [`Sink`] trait. The
//! printer chooses which ([`sink_for`]).
//!
//! Sinks only write what they are given; the text rules (`text_filter`),
//! spinners and timing (`render`, `send`) are not theirs. JSON records are
//! encoded by the printer ([`Printer::json_line_into`]) and held until
//! [`Sink::settle`] says the stream has nothing more ready, then written
//! with one `write` (not one per record; BENCHMARKS.md, SSE).

use std::cell::Cell;
use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;
use crate::printer::Printer;
use crate::timeline::Change;

/// One record of `--json` output (JSON Lines, `type` first).
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JsonLine<'a> {
    Text {
        text: &'a str,
    },
    ToolCall {
        name: &'a str,
        args: &'a Value,
    },
    ToolResult {
        name: &'a str,
        response: &'a Value,
    },
    Heartbeat,
    Error {
        message: &'a str,
    },
    /// The last line: the whole reply, whether it had no text, and what
    /// changed on the timeline.
    Done {
        text: &'a str,
        silent: bool,
        changes: &'a [Change],
    },
}

/// The end of a turn: the reply as shown, and what changed in the session.
#[derive(Debug)]
pub struct Done<'a> {
    pub text: &'a str,
    pub changes: &'a [Change],
    /// Whether anything in the state changed at all.
    pub any: bool,
    /// The connection dropped and the changes were found by watching.
    pub after_drop: bool,
}

/// A destination for one reply. What a sink that writes nothing to the
/// terminal need not say has a default.
pub trait Sink {
    /// Reply text, already filtered, as it may be shown now.
    fn text(&mut self, printer: &Printer, text: &str) -> Result<()>;
    /// Anything but text: tool calls and results, heartbeats, errors.
    fn record(&mut self, _printer: &Printer, _record: &JsonLine<'_>) -> Result<()> {
        Ok(())
    }
    /// Text goes to the terminal the spinner is drawn on.
    fn shares_the_terminal(&self) -> bool {
        false
    }
    /// A line of text is open on that terminal (a spinner would tear it).
    fn mid_line_on_terminal(&self) -> bool {
        false
    }
    /// The start of a line is held back until the line ends (stdout is not
    /// a terminal): a tool that may run for minutes should end it first.
    fn holds_a_line(&self) -> bool {
        false
    }
    /// The reply's text is over.
    fn end_text(&mut self, _printer: &Printer) {}
    /// The result lists the changes even after a reply with text.
    fn wants_changes(&self) -> bool;
    /// The result of the turn.
    fn done(&mut self, printer: &Printer, done: &Done<'_>) -> Result<()>;
    /// Called after each event: writes out what the sink holds, unless
    /// `more_ready` (another event is already at hand and will follow at
    /// once).
    fn settle(&mut self, _printer: &Printer, _more_ready: bool) -> Result<()> {
        Ok(())
    }
}

/// The sink for this printer's output format.
pub fn sink_for<'a>(printer: &Printer, line: &'a StdoutLine) -> Box<dyn Sink + 'a> {
    printer.pick(
        || -> Box<dyn Sink + 'a> {
            Box::new(TerminalSink {
                line,
                stdout_tty: printer.stdout_is_terminal(),
                held: String::new(),
            })
        },
        || -> Box<dyn Sink + 'a> { Box::new(JsonLinesSink::default()) },
    )
}

/// Whether the last thing written to stdout ended its line; shared with
/// the caller so it can end the line after a cancelled reply.
#[derive(Debug, Default)]
pub struct StdoutLine {
    mid_line: Cell<bool>,
}

impl StdoutLine {
    /// Ends a line left open (after Ctrl-C or a failure).
    pub fn end(&self, printer: &Printer) {
        if self.mid_line.replace(false) {
            let _ = printer.out_piece("\n");
        }
    }
}

/// Text on stdout as it streams; the changes as sentences. On a terminal
/// each piece shows as it comes; elsewhere (a pipe, a file) the text is
/// written a whole line at a time, each line with its newline in one
/// write, so processes sharing a pipe never glue their lines together.
pub struct TerminalSink<'a> {
    line: &'a StdoutLine,
    stdout_tty: bool,
    /// The start of a line not yet ended (not on a terminal).
    held: String,
}

impl TerminalSink<'_> {
    /// Writes the held start of a line, ended, in one write.
    fn end_held(&mut self, printer: &Printer) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let mut rest = std::mem::take(&mut self.held);
        rest.push('\n');
        printer.out_piece(&rest)
    }
}

/// A reply cut short (Ctrl-C drops the turn) still shows its last line.
impl Drop for TerminalSink<'_> {
    fn drop(&mut self) {
        if !self.held.is_empty() {
            self.held.push('\n');
            let mut stdout = std::io::stdout().lock();
            let _ = stdout
                .write_all(self.held.as_bytes())
                .and_then(|()| stdout.flush());
        }
    }
}

impl Sink for TerminalSink<'_> {
    fn text(&mut self, printer: &Printer, text: &str) -> Result<()> {
        if self.stdout_tty {
            printer.out_piece(text)?;
            self.line.mid_line.set(!text.ends_with('\n'));
            return Ok(());
        }
        self.held.push_str(text);
        if let Some(end) = self.held.rfind('\n') {
            printer.out_piece(&self.held[..=end])?;
            self.held.drain(..=end);
        }
        Ok(())
    }

    fn record(&mut self, _: &Printer, _: &JsonLine<'_>) -> Result<()> {
        Ok(())
    }

    fn shares_the_terminal(&self) -> bool {
        self.stdout_tty
    }

    fn mid_line_on_terminal(&self) -> bool {
        self.stdout_tty && self.line.mid_line.get()
    }

    fn holds_a_line(&self) -> bool {
        !self.held.is_empty()
    }

    fn end_text(&mut self, printer: &Printer) {
        let _ = self.end_held(printer);
        self.line.end(printer);
    }

    fn wants_changes(&self) -> bool {
        false
    }

    /// Text is written and flushed as it comes: nothing is held.
    fn settle(&mut self, _: &Printer, _: bool) -> Result<()> {
        Ok(())
    }

    /// After a reply with text, nothing; without text (or after a drop),
    /// what changed.
    fn done(&mut self, printer: &Printer, done: &Done<'_>) -> Result<()> {
        if !done.after_drop {
            if !done.text.trim().is_empty() {
                return Ok(());
            }
            printer.status("The agent answered without text; what changed in the session:");
        }
        if done.changes.is_empty() {
            return printer.out(if done.any {
                "The session changed, but nothing visible on the timeline."
            } else {
                "No visible change on the timeline."
            });
        }
        let lines: Vec<String> = done.changes.iter().map(ToString::to_string).collect();
        printer.out(lines.join("\n"))
    }
}

/// A JSON Lines record per event, then `done`. Records are held in `held`
/// while more events are ready, and written together.
#[derive(Default)]
pub struct JsonLinesSink {
    held: Vec<u8>,
}

/// Held records are written once they reach this size, even if more are
/// ready.
const HOLD_AT_MOST: usize = 64 * 1024;

impl JsonLinesSink {
    fn hold(&mut self, printer: &Printer, record: &JsonLine<'_>) -> Result<()> {
        printer.json_line_into(&mut self.held, record)?;
        if self.held.len() >= HOLD_AT_MOST {
            self.flush(printer)?;
        }
        Ok(())
    }

    fn flush(&mut self, printer: &Printer) -> Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let result = printer.out_bytes(&self.held);
        self.held.clear();
        if self.held.capacity() > 4 * HOLD_AT_MOST {
            self.held.shrink_to(HOLD_AT_MOST);
        }
        result
    }
}

/// A reply cut short (Ctrl-C drops the turn) still shows the records it
/// had received.
impl Drop for JsonLinesSink {
    fn drop(&mut self) {
        if !self.held.is_empty() {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&self.held).and_then(|()| stdout.flush());
        }
    }
}

impl Sink for JsonLinesSink {
    fn text(&mut self, printer: &Printer, text: &str) -> Result<()> {
        self.hold(printer, &JsonLine::Text { text })
    }

    fn record(&mut self, printer: &Printer, record: &JsonLine<'_>) -> Result<()> {
        self.hold(printer, record)
    }

    fn shares_the_terminal(&self) -> bool {
        false
    }

    fn mid_line_on_terminal(&self) -> bool {
        false
    }

    fn end_text(&mut self, _: &Printer) {}

    fn wants_changes(&self) -> bool {
        true
    }

    /// Written straight to stdout, not held: it carries the whole reply.
    fn done(&mut self, printer: &Printer, done: &Done<'_>) -> Result<()> {
        self.flush(printer)?;
        printer.json_line(&JsonLine::Done {
            text: done.text,
            silent: done.text.trim().is_empty(),
            changes: done.changes,
        })
    }

    fn settle(&mut self, printer: &Printer, more_ready: bool) -> Result<()> {
        if more_ready {
            return Ok(());
        }
        self.flush(printer)
    }
}

/// A sink that shows nothing: the caller keeps the [`super::Turn`]
/// (`generate`, `batch`).
pub struct Quiet;

impl Sink for Quiet {
    fn text(&mut self, _: &Printer, _: &str) -> Result<()> {
        Ok(())
    }
    fn wants_changes(&self) -> bool {
        false
    }
    fn done(&mut self, _: &Printer, _: &Done<'_>) -> Result<()> {
        Ok(())
    }
}
