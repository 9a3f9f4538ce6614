//! Rendering a reply: the terminal (text streamed to stdout, a spinner or
//! `⏳ Still working…` on stderr, `-v` tool lines) and JSON Lines, both fed
//! the same [`AgentEvent`]s.
//!
//! Also the text rules of `../shared/spec/cli.md` "nemo chat": control
//! sequences removed (also when one is cut between two pieces), messages
//! put on lines of their own, a trailing "I encountered a temporary
//! issue…" after a normal reply dropped, and GUI talk mapped to commands.

use std::cell::Cell;
use std::io::IsTerminal;

use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use crate::api::chat::AgentEvent;
use crate::error::Result;
use crate::printer::Printer;
use crate::sanitize::strip_controls;
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

/// The notice the backend may add after a normal reply (`api.md`).
const NOTICE: &str = "i encountered a temporary issue";
/// An escape sequence held back for its end longer than this is not one.
const MAX_HELD_ESCAPE: usize = 256;

/// Where the start of an escape sequence that `text` does not finish is.
fn unfinished_escape(text: &str) -> Option<usize> {
    let mut chars = text.char_indices().peekable();
    let is_final = |c: char| ('\x40'..='\x7e').contains(&c);
    while let Some((pos, c)) = chars.next() {
        match c {
            '\x1b' => match chars.peek().map(|(_, c)| *c) {
                None => return Some(pos),
                Some('[') => {
                    chars.next();
                    loop {
                        match chars.next() {
                            None => return Some(pos),
                            Some((_, c)) if is_final(c) => break,
                            Some(_) => {}
                        }
                    }
                }
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    chars.next();
                    loop {
                        match chars.next() {
                            None => return Some(pos),
                            Some((_, '\x07')) => break,
                            Some((_, '\x1b')) => match chars.peek() {
                                None => return Some(pos),
                                Some((_, '\\')) => {
                                    chars.next();
                                    break;
                                }
                                Some(_) => {}
                            },
                            Some(_) => {}
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
            },
            '\u{9b}' => loop {
                match chars.next() {
                    None => return Some(pos),
                    Some((_, c)) if is_final(c) => break,
                    Some(_) => {}
                }
            },
            _ => {}
        }
    }
    None
}

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
    /// An escape sequence cut at the end of the last piece.
    escape: String,
    /// Text held back because it may be the trailing notice; starts at a
    /// line start.
    held: String,
    /// What was let out so far.
    emitted: String,
}

impl TextFilter {
    /// Takes a piece of text; returns what may be shown now.
    pub fn push(&mut self, piece: &str, starts_message: bool) -> String {
        let mut raw = std::mem::take(&mut self.escape);
        raw.push_str(piece);
        if let Some(at) = unfinished_escape(&raw)
            && raw.len() - at <= MAX_HELD_ESCAPE
        {
            self.escape = raw.split_off(at);
        }
        let mut clean = strip_controls(&raw);
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
        self.escape.clear();
        let held = std::mem::take(&mut self.held);
        let notice = held.trim_start().to_lowercase().starts_with(NOTICE);
        if notice && !self.emitted.trim().is_empty() {
            return (String::new(), true);
        }
        self.emitted.push_str(&held);
        (held, false)
    }

    /// Everything shown so far.
    pub fn text(&self) -> &str {
        &self.emitted
    }
}

/// A GUI action the agent talks about, and the command that does it here.
struct GuiRule {
    targets: &'static [&'static str],
    command: &'static str,
    what: &'static str,
}

/// Words that say "do this in the app" (`api.md`: the backend talks as if
/// the user had a GUI).
const GUI_VERBS: &[&str] = &[
    "click",
    "tap ",
    "press ",
    "open ",
    "drag",
    "preview",
    "check your",
    "go to",
    "select the",
    "button",
    "panel",
    "点击",
    "打开",
    "拖拽",
    "拖动",
    "预览",
    "查看",
    "按钮",
    "面板",
    "前往",
];

const GUI_RULES: &[GuiRule] = &[
    GuiRule {
        targets: &["export", "download", "导出", "下载"],
        command: "nemo export",
        what: "to export the video here",
    },
    GuiRule {
        targets: &["balance", "credits", "余额", "积分"],
        command: "nemo credits",
        what: "to check your credits here",
    },
    GuiRule {
        targets: &[
            "timeline",
            "preview",
            "track",
            "时间线",
            "时间轴",
            "预览",
            "轨道",
        ],
        command: "nemo state",
        what: "to see the timeline here",
    },
    GuiRule {
        targets: &[
            "upload",
            "drag",
            "drop ",
            "media library",
            "上传",
            "拖拽",
            "拖动",
            "素材",
        ],
        command: "nemo upload FILE",
        what: "to add your own media here",
    },
];

/// When none of the rules matched an "open the … panel/editor" sentence.
const OPEN_RULE: GuiRule = GuiRule {
    targets: &[
        "open",
        "panel",
        "editor",
        "workspace",
        "打开",
        "面板",
        "编辑器",
    ],
    command: "nemo session open",
    what: "to open the project in the web app",
};

/// The hints for GUI talk in `text`: `to export the video here → nemo export`.
pub fn gui_hints(text: &str) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let lower = text.to_lowercase();
    for sentence in lower.split(['.', '!', '?', '\n', '。', '！', '？', ';', '；']) {
        let sentence = format!("{sentence} ");
        if !GUI_VERBS.iter().any(|v| sentence.contains(v)) {
            continue;
        }
        let mut matched = false;
        for rule in GUI_RULES {
            if rule.targets.iter().any(|t| sentence.contains(t)) {
                matched = true;
                let hint = format!("{} → {}", rule.what, rule.command);
                if !hints.contains(&hint) {
                    hints.push(hint);
                }
            }
        }
        if !matched && OPEN_RULE.targets.iter().any(|t| sentence.contains(t)) {
            let hint = format!("{} → {}", OPEN_RULE.what, OPEN_RULE.command);
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
    }
    hints
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
    line: &'a StdoutLine,
    filter: TextFilter,
    spinner: Option<Spinner>,
    stdout_tty: bool,
    /// One warning per reply for unreadable events.
    warned_unreadable: bool,
    /// When the message went out: the spinner counts from here.
    started: std::time::Instant,
}

impl<'a> Renderer<'a> {
    pub fn new(printer: &'a Printer, line: &'a StdoutLine) -> Self {
        Renderer {
            printer,
            line,
            filter: TextFilter::default(),
            spinner: None,
            stdout_tty: std::io::stdout().is_terminal(),
            warned_unreadable: false,
            started: std::time::Instant::now(),
        }
    }

    /// A spinner may be drawn now: progress is shown, and it would not
    /// overwrite a half-written line of reply on the same terminal.
    fn may_spin(&self) -> bool {
        self.printer.shows_progress() && (!self.stdout_tty || !self.line.mid_line.get())
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
    }

    fn emit_text(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        if self.printer.json {
            return self.printer.json_line(&JsonLine::Text { text });
        }
        if self.stdout_tty {
            self.stop_spinner();
        }
        self.printer.out_piece(text)?;
        self.line.mid_line.set(!text.ends_with('\n'));
        Ok(())
    }

    /// Renders one event.
    pub fn event(&mut self, event: &AgentEvent) -> Result<()> {
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
                if self.printer.json {
                    self.printer
                        .json_line(&JsonLine::ToolCall { name: &name, args })?;
                }
                if self.printer.shows_progress() && self.stdout_tty && self.line.mid_line.get() {
                    // A tool may run for minutes: end the line so the spinner
                    // can show meanwhile.
                    let out = self.filter.push("\n", false);
                    self.emit_text(&out)?;
                }
                self.waiting(&format!("Working ({name})…"), true);
            }
            AgentEvent::ToolResult { name, response, .. } => {
                let name = strip_controls(name);
                self.debug(format!("tool result: {name} {}", short_json(response)));
                if self.printer.json {
                    self.printer.json_line(&JsonLine::ToolResult {
                        name: &name,
                        response,
                    })?;
                }
            }
            AgentEvent::Heartbeat => {
                if self.printer.json {
                    self.printer.json_line(&JsonLine::Heartbeat)?;
                }
                self.waiting("Working…", false);
            }
            AgentEvent::Error { message, .. } => {
                if self.printer.json {
                    self.printer.json_line(&JsonLine::Error {
                        message: &strip_controls(message),
                    })?;
                }
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
        if !self.printer.json {
            self.line.end(self.printer);
        }
        if dropped {
            self.printer
                .debug("dropped the trailing \"I encountered a temporary issue…\" line");
        }
        Ok(dropped)
    }

    /// The whole reply as shown.
    pub fn text(&self) -> &str {
        self.filter.text()
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
        (live, f.text().to_string(), dropped)
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

    #[test]
    fn gui_talk_in_english_and_chinese() {
        assert_eq!(
            gui_hints(
                "Preview it in the timeline panel, then click the Export button in the top right corner."
            ),
            vec![
                "to export the video here → nemo export",
                "to see the timeline here → nemo state"
            ]
        );
        assert_eq!(
            gui_hints("请点击右上角的「导出」按钮下载视频。"),
            vec!["to export the video here → nemo export"]
        );
        assert_eq!(
            gui_hints("You can check your balance in settings."),
            vec!["to check your credits here → nemo credits"]
        );
        assert_eq!(
            gui_hints("Drag your clip onto the media library."),
            vec!["to add your own media here → nemo upload FILE"]
        );
        assert_eq!(
            gui_hints("打开编辑器看看。"),
            vec!["to open the project in the web app → nemo session open"]
        );
        assert!(gui_hints("Your video of a panda is ready; the export will be free.").is_empty());
        assert!(gui_hints("I added a title.").is_empty());
    }
}
