//! What a command returns: a [`Report`], a value that can be shown as text
//! or serialised; the printer chooses which ([`crate::printer::Printer::report`]).
//!
//! A report only describes its result. It must not print, nor know whether
//! `--json` was given or a stream is a terminal.

use serde::{Serialize, Serializer};
use serde_json::Value;

/// A command's result.
pub trait Report: Serialize {
    /// The text form: lines of result for stdout, and the notes (status,
    /// hints) on stderr that come with the text form only.
    fn human(&self, text: &mut Text);
}

/// The text form of a report, as it is built.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Text {
    pub(crate) lines: Vec<String>,
    pub(crate) notes: Vec<Note>,
}

/// A stderr line that comes with the text form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A plain status line (hidden by `--quiet`).
    Status(String),
    /// `hint: …` (hidden by `--quiet`).
    Hint(String),
}

impl Text {
    /// A line of result (several lines may come in one string).
    pub fn line(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// A status line on stderr.
    pub fn status(&mut self, line: impl Into<String>) {
        self.notes.push(Note::Status(line.into()));
    }

    /// A hint on stderr.
    pub fn hint(&mut self, line: impl Into<String>) {
        self.notes.push(Note::Hint(line.into()));
    }
}

/// A report made of its two forms side by side: a JSON value and the text.
/// For results whose JSON is built with `json!` rather than a type.
#[derive(Debug, Clone)]
pub struct Shown {
    value: Value,
    text: Text,
}

impl Shown {
    /// `value` as the JSON form; the text form starts empty.
    pub fn new(value: Value) -> Shown {
        Shown {
            value,
            text: Text::default(),
        }
    }

    /// Adds a line of result to the text form.
    pub fn line(mut self, line: impl Into<String>) -> Shown {
        self.text.line(line);
        self
    }

    /// Adds a status line to the text form.
    pub fn status(mut self, line: impl Into<String>) -> Shown {
        self.text.status(line);
        self
    }

    /// Adds a hint to the text form.
    // Only `nemo sandbox reset` adds one, in builds that have the emulator.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub fn hint(mut self, line: impl Into<String>) -> Shown {
        self.text.hint(line);
        self
    }
}

impl Serialize for Shown {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl Report for Shown {
    fn human(&self, text: &mut Text) {
        text.lines.extend(self.text.lines.iter().cloned());
        text.notes.extend(self.text.notes.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_has_both_forms() {
        let report = Shown::new(serde_json::json!({"b": 1, "a": [true]}))
            .line("one")
            .line("two\nthree")
            .hint("try this");
        assert_eq!(
            serde_json::to_string(&report).unwrap(),
            r#"{"a":[true],"b":1}"#
        );
        let mut text = Text::default();
        report.human(&mut text);
        assert_eq!(text.lines, ["one", "two\nthree"]);
        assert_eq!(text.notes, vec![Note::Hint("try this".into())]);
    }
}
