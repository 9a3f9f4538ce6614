//! What a message asks for: its [`Intent`] (generate, music volume, a
//! title, BGM, the duration, a trim, a question…) read from the shape of
//! the request in English or Chinese — a verb and its object, a number
//! with its unit — never from a word found anywhere in the text; and the
//! [`Marker`]s (`[[sandbox:crash]]` …) that switch on a simulated failure
//! for one reply. Nothing about what to answer or the wire.

/// A simulated failure or oddity for one reply, asked for by a marker that
/// cannot occur in ordinary text: `[[sandbox:NAME]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A partial reply, then `data: {"error": …}` and the end.
    Crash,
    /// A partial reply, then an `errorCode` event (RESOURCE_EXHAUSTED).
    Quota,
    /// The connection drops after the first event (the work goes on).
    Drop,
    /// The reply keeps its tool calls and loses its text.
    Silent,
    /// An event that is not JSON in the middle of the reply.
    Garbled,
    /// Text with terminal control sequences.
    Escape,
    /// "I encountered a temporary issue…" after the reply.
    Temporary,
    /// Nothing but keep-alives, for ten minutes (a lost run).
    Heartbeats,
}

impl Marker {
    /// Every marker with its name, for the help text.
    pub const ALL: [(&'static str, Marker); 8] = [
        ("crash", Marker::Crash),
        ("quota", Marker::Quota),
        ("drop", Marker::Drop),
        ("silent", Marker::Silent),
        ("garbled", Marker::Garbled),
        ("escape", Marker::Escape),
        ("temporary", Marker::Temporary),
        ("heartbeats", Marker::Heartbeats),
    ];
}

/// The markers in a message (`error` is another name for `quota`), and the
/// message without them.
pub fn markers(message: &str) -> (Vec<Marker>, String) {
    let mut found = Vec::new();
    let mut rest = String::new();
    let mut text = message;
    while let Some(start) = text.find("[[sandbox:") {
        let after = &text[start + "[[sandbox:".len()..];
        let Some(end) = after.find("]]") else { break };
        let name = after[..end].trim().to_ascii_lowercase();
        let marker = match name.as_str() {
            "error" => Some(Marker::Quota),
            _ => Marker::ALL
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, m)| *m),
        };
        rest.push_str(&text[..start]);
        match marker {
            Some(m) => found.push(m),
            // An unknown marker stays in the text.
            None => rest.push_str(&text[start..start + "[[sandbox:".len() + end + 2]),
        }
        text = &after[end + 2..];
    }
    rest.push_str(text);
    let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
    (found, rest)
}

/// Which way the music goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Volume {
    Quieter,
    Louder,
    Mute,
    /// A level from 0 to 1.
    Set(f64),
}

/// Which end a trim cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Start,
    End,
}

/// What the agent cannot tell without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Question {
    /// A title change without the new text ("fix the typo in the title").
    TitleText,
    /// A trim without how much or which end.
    TrimHowMuch,
    /// A duration change without a number.
    HowLong,
    /// A request it does not understand.
    Unclear,
}

/// What a message asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    Generate {
        subject: String,
        seconds: u32,
    },
    MusicVolume(Volume),
    AddMusic {
        style: String,
    },
    SetTitle {
        text: String,
    },
    RemoveTitle,
    SetDuration {
        seconds: u32,
    },
    Trim {
        end: End,
        seconds: u32,
    },
    /// Looks at the video: changes the state, nothing visible.
    Analyse,
    /// Asks to leave the video as it is.
    NoChange,
    /// How to export or download (the agent talks as if there were a GUI).
    Export,
    /// Asks for ideas (the agent thinks first).
    Ideas,
    /// "What can you do?"
    Help,
    /// A greeting, or asking to speak Chinese.
    Greeting,
    Ask(Question),
}

/// Does the text contain Chinese characters?
pub fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The intent of a message (markers already removed).
pub fn intent_of(message: &str) -> Intent {
    if has_cjk(message)
        && let Some(intent) = super::lang::zh_intent(message)
    {
        return intent;
    }
    super::english::english_intent(message)
}

/// Lowercase words: letters, digits, `%` and `'` inside them.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '%' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A number of seconds in the text: `10-second`, `10 seconds`, `10s`,
/// `five seconds`, `10秒`.
pub fn seconds_in(text: &str) -> Option<u32> {
    let lower = text.to_lowercase().replace('-', " ");
    let tokens = number_tokens(&lower);
    tokens.windows(2).find_map(|pair| {
        let (n, unit) = (&pair[0], &pair[1]);
        let unit_ok = matches!(
            unit.as_str(),
            "s" | "sec" | "secs" | "second" | "seconds" | "秒" | "秒钟"
        );
        if unit_ok { number(n) } else { None }
    })
}

/// Splits into words, digits apart from what follows them (`10s` → `10`,
/// `s`; `5秒` → `5`, `秒`).
fn number_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    for c in text.chars() {
        let is_digit = c.is_ascii_digit();
        if c.is_whitespace() || (!c.is_alphanumeric() && c != '%') {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            continue;
        }
        if !current.is_empty() && is_digit != digits {
            tokens.push(std::mem::take(&mut current));
        }
        digits = is_digit;
        // Chinese characters are words of their own, but 秒钟 stays one.
        if has_cjk(&c.to_string()) && !current.is_empty() && !(current == "秒" && c == '钟') {
            tokens.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn number(word: &str) -> Option<u32> {
    if let Ok(n) = word.parse::<u32>() {
        return Some(n);
    }
    let names = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen",
    ];
    if let Some(n) = names.iter().position(|n| *n == word) {
        return Some(n as u32);
    }
    match word {
        "twenty" => Some(20),
        "thirty" => Some(30),
        _ => None,
    }
}

/// A percentage in the text: `20%`, `20 percent`, `百分之20`.
pub fn percent_in(text: &str) -> Option<f64> {
    let lower = text.to_lowercase();
    let tokens = number_tokens(&lower.replace('%', " % "));
    let as_pct = |n: u32| Some(f64::from(n.min(100)) / 100.0);
    for pair in tokens.windows(2) {
        if matches!(pair[1].as_str(), "%" | "percent")
            && let Some(n) = number(&pair[0])
        {
            return as_pct(n);
        }
    }
    let i = lower.find("百分之")?;
    let digits: String = lower[i + "百分之".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    as_pct(digits.parse().ok()?)
}

/// Text in quotes of any kind.
pub fn quoted(message: &str) -> Option<String> {
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('『', '』')] {
        let Some(start) = message.find(open) else {
            continue;
        };
        let rest = &message[start + open.len_utf8()..];
        if let Some(end) = rest.find(close) {
            let text = rest[..end].trim();
            if !text.is_empty() {
                return Some(text.to_string());
            }
        }
    }
    // Single quotes only around words: not the apostrophe of "don't".
    let starts = message
        .char_indices()
        .filter(|(i, c)| *c == '\'' && (*i == 0 || message[..*i].ends_with(char::is_whitespace)));
    for (start, _) in starts {
        let rest = &message[start + 1..];
        let end = rest.char_indices().find(|(i, c)| {
            *c == '\''
                && rest[i + 1..]
                    .chars()
                    .next()
                    .is_none_or(|n| !n.is_alphanumeric())
        });
        if let Some((end, _)) = end {
            let text = rest[..end].trim();
            if !text.is_empty() {
                return Some(text.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_come_out_of_the_text() {
        let (found, rest) = markers("hello [[sandbox:crash]] there [[sandbox:nope]]");
        assert_eq!(found, vec![Marker::Crash]);
        assert_eq!(rest, "hello there [[sandbox:nope]]");
        assert_eq!(markers("[[sandbox:error]]").0, vec![Marker::Quota]);
        assert!(
            markers("generate waves crashing, a terror movie")
                .0
                .is_empty()
        );
    }

    #[test]
    fn numbers_and_percentages() {
        assert_eq!(seconds_in("a 10-second video"), Some(10));
        assert_eq!(seconds_in("make it 5 seconds"), Some(5));
        assert_eq!(seconds_in("make it 5s long"), Some(5));
        assert_eq!(seconds_in("trim the first two seconds"), Some(2));
        assert_eq!(seconds_in("生成一个10秒的熊猫视频"), Some(10));
        assert_eq!(seconds_in("a panda"), None);
        assert_eq!(percent_in("set the music to 20%"), Some(0.2));
        assert_eq!(percent_in("music at 30 percent"), Some(0.3));
        assert_eq!(percent_in("音量调到百分之20"), Some(0.2));
    }
}
