//! Removes terminal control sequences from server text before it is printed
//! (`../shared/spec/cli.md` "Streams"): whole CSI and OSC sequences first,
//! then any other C0 control byte except newline and tab (and DEL).

/// Strips escape sequences and control characters; keeps `\n` and `\t`.
pub fn strip_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                // CSI: ESC [ parameters/intermediates, then a final byte 0x40–0x7E.
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (ESC ]), and DCS/SOS/PM/APC strings: up to BEL or ST (ESC \).
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                // Any other escape: drop ESC and the one character after it.
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            // The 8-bit CSI introducer.
            '\u{9b}' => {
                for c in chars.by_ref() {
                    if ('\x40'..='\x7e').contains(&c) {
                        break;
                    }
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
