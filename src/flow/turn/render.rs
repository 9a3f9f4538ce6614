//! Rendering a reply: the events of the agent ([`AgentEvent`]) run through
//! the text rules (`TextFilter`) into a [`Sink`] (the terminal or JSON
//! Lines), with a spinner on stderr while the agent works and `-v` lines for
//! its tools.
//!
//! It decides when the spinner shows and what each event becomes; it must
//! not write to stdout itself (the sinks do) nor ask whether a stream is a
//! terminal (the printer knows).

use indicatif::ProgressBar;
use serde_json::Value;

use super::sink::{Done, JsonLine, Sink};
use super::text_filter::TextFilter;
use crate::api::chat::AgentEvent;
use crate::error::Result;
use crate::printer::Printer;
use crate::sanitize::strip_controls;

/// A spinner that is cleared when dropped (a cancelled reply leaves none).
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(printer: &Printer, label: &str) -> Spinner {
        Spinner(printer.spinner(label))
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Renders one reply to the terminal or as JSON Lines.
pub struct Renderer<'a> {
    printer: &'a Printer,
    sink: Box<dyn Sink + 'a>,
    filter: TextFilter,
    spinner: Option<Spinner>,
    /// One warning per reply for unreadable events.
    warned_unreadable: bool,
    /// When the message went out: the spinner counts from here.
    started: std::time::Instant,
}

impl<'a> Renderer<'a> {
    /// A renderer into a sink of the caller's (`generate` keeps the reply
    /// off stdout).
    pub fn with_sink(printer: &'a Printer, sink: Box<dyn Sink + 'a>) -> Self {
        Renderer {
            printer,
            sink,
            filter: TextFilter::default(),
            spinner: None,
            warned_unreadable: false,
            started: std::time::Instant::now(),
        }
    }

    /// A spinner may be drawn now: progress is shown, and it would not
    /// overwrite a half-written line of reply on the same terminal.
    fn may_spin(&self) -> bool {
        self.printer.shows_progress() && !self.sink.mid_line_on_terminal()
    }

    /// Shows the spinner, or relabels it when `relabel`.
    pub fn waiting(&mut self, label: &str, relabel: bool) {
        if let Some(spinner) = &self.spinner {
            if relabel {
                spinner.0.set_message(label.to_string());
            }
        } else if self.may_spin() {
            let bar = self
                .printer
                .spinner(label)
                .with_elapsed(self.started.elapsed());
            self.spinner = Some(Spinner(bar));
        }
    }

    fn stop_spinner(&mut self) {
        self.spinner = None;
    }

    /// A stderr line that does not tear the spinner.
    fn debug(&self, line: String) {
        match &self.spinner {
            Some(spinner) => spinner.0.suspend(|| self.printer.debug(line)),
            None => self.printer.debug(line),
        }
    }

    /// A `warning:` that does not tear the spinner.
    pub fn warn(&self, line: String) {
        match &self.spinner {
            Some(spinner) => spinner.0.suspend(|| self.printer.warn(line)),
            None => self.printer.warn(line),
        }
    }

    /// An event that could not be read: one warning per reply, details with -v.
    pub fn unreadable(&mut self, message: &str) {
        if !self.warned_unreadable {
            self.warned_unreadable = true;
            self.warn("skipped an event from the agent that cannot be read".into());
        }
        self.debug(message.to_string());
        // Nothing of this event is held; what earlier ones left goes out.
        let _ = self.sink.settle(self.printer, false);
    }

    fn emit_text(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if self.sink.shares_the_terminal() {
            self.stop_spinner();
        }
        self.sink.text(self.printer, text)
    }

    /// Renders one event. Its output may be held while the stream has the
    /// next event ready ([`crate::api::chat::stream::more_ready`]), and is
    /// written once it has not.
    pub fn event(&mut self, event: &AgentEvent) -> Result<()> {
        self.render(event)?;
        self.sink
            .settle(self.printer, crate::api::chat::stream::more_ready())
    }

    fn render(&mut self, event: &AgentEvent) -> Result<()> {
        match event {
            AgentEvent::Text {
                text,
                starts_message,
            } => {
                let out = self.filter.push(text, *starts_message);
                self.emit_text(&out)?;
            }
            AgentEvent::ToolCall { name, args, .. } => {
                let name = strip_controls(name);
                self.debug(format!("tool call: {name} {}", short_json(args)));
                self.sink
                    .record(self.printer, &JsonLine::ToolCall { name: &name, args })?;
                if (self.printer.shows_progress() && self.sink.mid_line_on_terminal())
                    || self.sink.holds_a_line()
                {
                    // A tool may run for minutes: end the line so the spinner
                    // can show meanwhile, and a reader of a pipe gets it now.
                    let out = self.filter.push("\n", false);
                    self.emit_text(&out)?;
                }
                self.waiting(&format!("Working ({name})…"), true);
            }
            AgentEvent::ToolResult { name, response, .. } => {
                let name = strip_controls(name);
                self.debug(format!("tool result: {name} {}", short_json(response)));
                self.sink.record(
                    self.printer,
                    &JsonLine::ToolResult {
                        name: &name,
                        response,
                    },
                )?;
            }
            AgentEvent::Heartbeat => {
                self.sink.record(self.printer, &JsonLine::Heartbeat)?;
                self.waiting("Working…", false);
            }
            AgentEvent::Error { message, .. } => {
                self.sink.record(
                    self.printer,
                    &JsonLine::Error {
                        message: &strip_controls(message),
                    },
                )?;
            }
        }
        Ok(())
    }

    /// The reply is over: the held text, the line ended, the spinner gone.
    /// Returns whether a trailing notice was dropped.
    pub fn finish(&mut self) -> Result<bool> {
        self.stop_spinner();
        let (rest, dropped) = self.filter.finish();
        self.emit_text(&rest)?;
        self.sink.settle(self.printer, false)?;
        self.sink.end_text(self.printer);
        if dropped {
            self.printer
                .debug("dropped the trailing \"I encountered a temporary issue…\" line");
        }
        Ok(dropped)
    }

    /// The result lists the changes in the session even after a reply with
    /// text (JSON's `done` record does).
    pub fn wants_changes(&self) -> bool {
        self.sink.wants_changes()
    }

    /// The result of the turn, after [`Renderer::finish`].
    pub fn done(&mut self, done: &Done<'_>) -> Result<()> {
        self.sink.done(self.printer, done)
    }

    /// The whole reply as shown, taken out after [`Renderer::finish`]
    /// (not copied: it may be megabytes).
    pub fn take_text(&mut self) -> String {
        self.filter.take_text()
    }
}

/// A JSON value on one short line, for `-v`.
fn short_json(value: &Value) -> String {
    let text = strip_controls(&value.to_string());
    let mut short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
