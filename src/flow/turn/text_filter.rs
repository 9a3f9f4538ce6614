//! The text rules of a chat reply (`../shared/spec/cli.md` "nemo chat"):
//! control sequences removed (also when one is cut between two pieces, by
//! the one stripper in [`crate::sanitize`]), each message of the agent on
//! lines of its own, and a trailing "I encountered a temporary issue…"
//! after a normal reply dropped.
//!
//! Text in, text out: it must not print, and knows nothing of terminals or
//! JSON.

use crate::sanitize::Stripper;

/// The notice the backend may add after a normal reply (`api.md`).
const NOTICE: &str = "i encountered a temporary issue";
/// Whether `line` (from a line start) is, or may still become, the
/// temporary-issue notice standing alone at the end.
fn notice_candidate(line: &str) -> bool {
    let t = line.trim_start_matches([' ', '\t']).to_lowercase();
    if t.len() <= NOTICE.len() {
        return NOTICE.starts_with(&t);
    }
    t.starts_with(NOTICE)
        && match t.find('\n') {
            None => true,
            Some(i) => t[i..].trim().is_empty(),
        }
}

/// The text pipeline of one reply: pieces in, printable text out.
#[derive(Debug, Default)]
pub struct TextFilter {
    /// Control sequences, also when cut between two pieces.
    stripper: Stripper,
    /// Text held back because it may be the trailing notice; starts at a
    /// line start.
    held: String,
    /// What was let out so far.
    emitted: String,
}

impl TextFilter {
    /// Takes a piece of text; returns what may be shown now.
    pub fn push(&mut self, piece: &str, starts_message: bool) -> String {
        let mut clean = self.stripper.push(piece);
        let so_far_ends_line = match self.held.chars().last().or(self.emitted.chars().last()) {
            None => true,
            Some(c) => c == '\n',
        };
        if starts_message && !so_far_ends_line {
            // Each message of the agent on lines of its own.
            clean.insert(0, '\n');
        }
        let line_start_before =
            self.held.is_empty() && self.emitted.chars().last().is_none_or(|c| c == '\n');
        let held_was_line_start = !self.held.is_empty() || line_start_before;
        let combined = std::mem::take(&mut self.held) + &clean;
        let mut starts = Vec::new();
        if held_was_line_start {
            starts.push(0);
        }
        starts.extend(combined.match_indices('\n').map(|(i, _)| i + 1));
        let cut = starts
            .into_iter()
            .find(|&i| notice_candidate(&combined[i..]))
            .unwrap_or(combined.len());
        self.held = combined[cut..].to_string();
        let out = combined[..cut].to_string();
        self.emitted.push_str(&out);
        out
    }

    /// The end of the reply: what is still to show, and whether a trailing
    /// notice was dropped.
    pub fn finish(&mut self) -> (String, bool) {
        self.stripper.finish();
        let held = std::mem::take(&mut self.held);
        let notice = held.trim_start().to_lowercase().starts_with(NOTICE);
        if notice && !self.emitted.trim().is_empty() {
            return (String::new(), true);
        }
        self.emitted.push_str(&held);
        (held, false)
    }

    /// Everything shown, taken out at the end of the reply (after
    /// [`TextFilter::finish`]): the one copy of the reply nemo keeps.
    pub fn take_text(&mut self) -> String {
        std::mem::take(&mut self.emitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[(&str, bool)]) -> (String, String, bool) {
        let mut f = TextFilter::default();
        let mut live = String::new();
        for (piece, starts) in pieces {
            live.push_str(&f.push(piece, *starts));
        }
        let (rest, dropped) = f.finish();
        live.push_str(&rest);
        (live, f.take_text(), dropped)
    }

    #[test]
    fn messages_go_on_lines_of_their_own() {
        let (live, whole, dropped) = run(&[("Hello", true), (" there.", false), ("Second.", true)]);
        assert_eq!(live, "Hello there.\nSecond.");
        assert_eq!(whole, live);
        assert!(!dropped);
    }

    #[test]
    fn a_trailing_temporary_issue_line_is_dropped_after_a_normal_reply() {
        let (live, _, dropped) = run(&[
            ("Done! ", true),
            ("I trimmed the intro.", false),
            (
                "I encountered a temporary issue. Please try again later.",
                true,
            ),
        ]);
        assert_eq!(live, "Done! I trimmed the intro.\n");
        assert!(dropped);
        // Streamed in pieces, on its own line after a newline.
        let (live, _, dropped) = run(&[
            ("Done.\n\nI enc", true),
            ("ountered a tempor", false),
            ("ary issue.\n", false),
        ]);
        assert_eq!(live, "Done.\n\n");
        assert!(dropped);
    }

    #[test]
    fn the_notice_alone_or_followed_by_more_text_is_kept() {
        let (live, _, dropped) = run(&[("I encountered a temporary issue.", true)]);
        assert_eq!(live, "I encountered a temporary issue.");
        assert!(!dropped);
        let (live, _, dropped) = run(&[
            ("Ok.", true),
            ("I encountered a temporary issue.", true),
            ("But here is the rest.", true),
        ]);
        assert_eq!(
            live,
            "Ok.\nI encountered a temporary issue.\nBut here is the rest."
        );
        assert!(!dropped);
        // Lines that only start like it are shown as they come.
        let mut f = TextFilter::default();
        assert_eq!(f.push("Ok.\n", true), "Ok.\n");
        assert_eq!(f.push("I", false), "");
        assert_eq!(f.push("'ll go on.", false), "I'll go on.");
    }

    #[test]
    fn control_sequences_are_removed_even_when_cut_between_pieces() {
        let (live, _, _) = run(&[
            ("red \u{1b}[3", true),
            ("1mtext\u{1b}[0m and \u{1b}]0;ti", false),
            ("tle\u{7}done\u{7}", false),
        ]);
        assert_eq!(live, "red text and done");
        let (live, _, _) = run(&[("a\u{1b}", true), ("]8;;http://x\u{1b}\\link", false)]);
        assert_eq!(live, "alink");
    }
}
