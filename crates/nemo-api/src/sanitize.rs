//! Removes terminal control sequences from server text before it is printed
//! (`../shared/spec/cli.md` "Streams"): whole CSI, OSC, DCS, SOS, PM and APC
//! sequences in their 7-bit (`ESC [`, `ESC ]`, `ESC P`, `ESC X`, `ESC ^`,
//! `ESC _`) and 8-bit C1 forms (U+009B, U+009D, U+0090, U+0098, U+009E,
//! U+009F), payload included, then any other C0 or C1 control except
//! newline and tab (and DEL), and the bidirectional controls U+202A–202E
//! and U+2066–2069 (the "Trojan Source" reordering, CVE-2021-42574).
//!
//! One state machine, [`Stripper`], does it for whole strings
//! ([`strip_controls`]) and for text that arrives in pieces (a chat reply),
//! where a sequence may be cut between two pieces: the state carries over,
//! so how the text is cut never changes the result. It only removes; it must
//! not reflow, trim or otherwise change the text it keeps.

/// Where the stripper is in the escape-sequence grammar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    /// Plain text.
    #[default]
    Ground,
    /// Just after ESC.
    Escape,
    /// In a CSI sequence (`ESC [` or the 8-bit `0x9B`): up to a final byte
    /// 0x40–0x7E.
    Csi,
    /// In an OSC, DCS, SOS, PM or APC string (7- or 8-bit introducer): up
    /// to BEL, ST (`ESC \`) or the 8-bit ST (U+009C).
    Text,
    /// In such a string, just after an ESC.
    TextEscape,
}

/// Whether `c` is a bidirectional control that can reorder what is shown.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may not reach a terminal: a control other than newline and
/// tab, or a bidirectional control.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
}

/// A streaming control-sequence stripper: feed it pieces with [`push`],
/// in order; a sequence cut between two pieces is removed whole.
///
/// [`push`]: Stripper::push
#[derive(Debug, Clone, Default)]
pub struct Stripper {
    state: State,
}

impl Stripper {
    /// Strips `piece`, appending what is kept to `out`.
    pub fn push_into(&mut self, piece: &str, out: &mut String) {
        let is_final = |c: char| ('\x40'..='\x7e').contains(&c);
        for c in piece.chars() {
            self.state = match (self.state, c) {
                (State::Ground, '\x1b') => State::Escape,
                (State::Ground, '\u{9b}') => State::Csi,
                (State::Ground, '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}') => {
                    State::Text
                }
                (State::Ground, '\n' | '\t') => {
                    out.push(c);
                    State::Ground
                }
                (State::Ground, c) if is_unsafe(c) => State::Ground,
                (State::Ground, c) => {
                    out.push(c);
                    State::Ground
                }
                (State::Escape, '[') => State::Csi,
                (State::Escape, ']' | 'P' | 'X' | '^' | '_') => State::Text,
                // Any other escape: ESC and the one character after it go.
                (State::Escape, _) => State::Ground,
                (State::Csi, c) if is_final(c) => State::Ground,
                (State::Csi, _) => State::Csi,
                (State::Text | State::TextEscape, '\x07' | '\u{9c}') => State::Ground,
                (State::Text | State::TextEscape, '\x1b') => State::TextEscape,
                (State::TextEscape, '\\') => State::Ground,
                (State::Text | State::TextEscape, _) => State::Text,
            };
        }
    }

    /// Strips `piece`; returns what is kept.
    pub fn push(&mut self, piece: &str) -> String {
        let mut out = String::with_capacity(piece.len());
        self.push_into(piece, &mut out);
        out
    }

    /// The text is over: an unfinished sequence is dropped, and the next
    /// text starts fresh.
    pub fn finish(&mut self) {
        self.state = State::Ground;
    }
}

/// Strips escape sequences and control characters; keeps `\n` and `\t`.
pub fn strip_controls(text: &str) -> String {
    Stripper::default().push(text)
}

/// Reads a server string that may be printed (a user id, a date, a name)
/// with its controls already removed: it can be stored and shown as it is.
/// Absent or `null` is `None`; another type is an error, as any field of
/// the wrong type.
pub fn opt_clean<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(d)?.map(|s| strip_controls(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn removes_csi_osc_and_c0() {
        assert_eq!(strip_controls("\x1b[31mred\x1b[0m"), "red");
        assert_eq!(strip_controls("a\x1b]0;title\x07b"), "ab");
        assert_eq!(
            strip_controls("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"),
            "alinkb"
        );
        assert_eq!(strip_controls("bell\x07 back\x08 cr\r"), "bell back cr");
        assert_eq!(strip_controls("keep\nthis\ttab"), "keep\nthis\ttab");
        assert_eq!(strip_controls("中文 ok"), "中文 ok");
        assert_eq!(strip_controls("trailing\x1b"), "trailing");
        assert_eq!(strip_controls("\x1b[2J\x1b[Hclear"), "clear");
        assert_eq!(strip_controls("a\u{9b}31mb"), "ab");
        assert_eq!(strip_controls("a\x1bMb"), "ab");
        // An ESC inside a string that does not start ST stays inside it.
        assert_eq!(strip_controls("a\x1b]x\x1bx\x1b\x1b\\b"), "ab");
        assert_eq!(strip_controls("a\x1b]x\x1b\x07b"), "ab");
    }

    #[test]
    fn a_sequence_cut_between_pieces_is_removed_whole() {
        let mut s = Stripper::default();
        let pieces = [
            "red \x1b[3",
            "1mtext\x1b[0m and \x1b]0;ti",
            "tle\x07done\x07",
        ];
        let out: String = pieces.iter().map(|p| s.push(p)).collect();
        assert_eq!(out, "red text and done");
        let mut s = Stripper::default();
        assert_eq!(s.push("a\x1b"), "a");
        assert_eq!(s.push("]8;;http://x\x1b"), "");
        assert_eq!(s.push("\\link"), "link");
        // `finish` forgets an unfinished sequence.
        let mut s = Stripper::default();
        assert_eq!(s.push("a\x1b[12"), "a");
        s.finish();
        assert_eq!(s.push("b"), "b");
    }

    /// The 8-bit (C1) string introducers take their payload with them, up
    /// to BEL, `ESC \\` or the 8-bit ST; bidi controls go too.
    #[test]
    fn c1_strings_go_whole_and_bidi_controls_go() {
        assert_eq!(strip_controls("a\u{9d}52;c;ZXZpbA==\u{7}b"), "ab");
        assert_eq!(strip_controls("a\u{9d}0;title\u{9c}b"), "ab");
        assert_eq!(strip_controls("a\u{90}1$r0m\x1b\\b"), "ab");
        assert_eq!(strip_controls("a\u{98}sos text\u{9c}b"), "ab");
        assert_eq!(strip_controls("a\u{9e}pm\u{9c}b"), "ab");
        assert_eq!(strip_controls("a\u{9f}apc\u{9c}b"), "ab");
        // 7-bit strings may end with the 8-bit ST too.
        assert_eq!(strip_controls("a\x1b]0;t\u{9c}b"), "ab");
        assert_eq!(strip_controls("a\x1bXsos\x1b\\b"), "ab");
        assert_eq!(
            strip_controls("access = \u{202e}\u{2066}user\u{2069}\u{2066}admin\u{202c}"),
            "access = useradmin"
        );
        for c in ['\u{202a}', '\u{202b}', '\u{202d}', '\u{2067}', '\u{2068}'] {
            assert_eq!(strip_controls(&format!("x{c}y")), "xy");
        }
        // Other format characters that do not reorder text are kept.
        assert_eq!(strip_controls("a\u{200d}b"), "a\u{200d}b");
    }

    /// Text rich in escape-sequence material, cut anywhere.
    fn pieces() -> impl Strategy<Value = (String, Vec<usize>)> {
        let alphabet = prop::sample::select(vec![
            "\x1b", "[", "]", "P", "\\", "\x07", "\u{9b}", "m", "3", ";", "a", "中", "\n", "\t",
            "\r", "\u{85}", "_", "^", "X", "~", "\u{9d}", "\u{90}", "\u{98}", "\u{9c}", "\u{9e}",
            "\u{9f}", "\u{202e}", "\u{2066}",
        ]);
        (
            prop::collection::vec(alphabet, 0..60).prop_map(|v| v.concat()),
            prop::collection::vec(0usize..80, 0..8),
        )
    }

    proptest! {
        #[test]
        fn chunking_never_changes_the_result((text, cuts) in pieces()) {
            let whole = strip_controls(&text);
            let mut bounds: Vec<usize> = cuts
                .into_iter()
                .map(|c| c.min(text.len()))
                .filter(|c| text.is_char_boundary(*c))
                .collect();
            bounds.push(0);
            bounds.push(text.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut stripper = Stripper::default();
            let mut streamed = String::new();
            for pair in bounds.windows(2) {
                stripper.push_into(&text[pair[0]..pair[1]], &mut streamed);
            }
            prop_assert_eq!(&streamed, &whole);
            // What is kept has no control character but newline and tab.
            prop_assert!(!whole.chars().any(is_unsafe));
        }
    }
}
