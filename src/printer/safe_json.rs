//! JSON that is safe on a terminal: serde_json escapes C0 controls in
//! strings, but writes C1 controls (U+0080–U+009F, an 8-bit CSI or OSC to
//! many terminals), DEL and the bidirectional controls as raw characters.
//! This formatter writes those as `\uXXXX` escapes too, so the document
//! means exactly the same to a JSON reader and nothing in it can drive the
//! terminal it is printed on (`../shared/spec/cli.md` "Streams").

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

use crate::sanitize::is_bidi_control;

/// Compact JSON with C1, DEL and bidi controls escaped in strings.
struct SafeFormatter;

impl Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // Everything else as serde_json's compact formatter writes it.
}

fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7f}'..='\u{9f}') || is_bidi_control(c)
}

/// Writes `value` as compact, terminal-safe JSON.
pub fn to_writer<W: Write, T: Serialize + ?Sized>(writer: W, value: &T) -> serde_json::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(writer, SafeFormatter);
    value.serialize(&mut serializer)
}

/// [`to_writer`] into a string.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    to_writer(&mut out, value)?;
    // Only valid UTF-8 is written: whole fragments and ASCII escapes.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn c1_del_and_bidi_are_escaped_and_read_back_the_same() {
        let value = serde_json::json!({"t": "a\u{9b}2Jb\u{202e}c\u{7f}d\u{1b}e中"});
        let text = to_string(&value).unwrap();
        assert_eq!(text, r#"{"t":"a\u009b2Jb\u202ec\u007fd\u001be中"}"#);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    proptest! {
        #[test]
        fn any_string_comes_out_terminal_safe_and_the_same(s in any::<String>()) {
            let text = to_string(&serde_json::json!({ "k": s.clone() })).unwrap();
            prop_assert!(!text.chars().any(crate::sanitize::is_unsafe));
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back["k"].as_str(), Some(s.as_str()));
        }
    }
}
