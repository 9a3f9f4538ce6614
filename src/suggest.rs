//! The one place that builds "the command to run" for the mode nemo runs in:
//! under `--sandbox`, every `nemo …` command nemo suggests (hints, warnings,
//! status lines, errors, the interactive prompt's advice) becomes
//! `nemo --sandbox …`, so that running it stays in the sandbox.
//!
//! The printer applies [`for_mode`] to every line it writes on stderr, so
//! hints built anywhere (also in `src/api`, which cannot know the mode)
//! come out right. It only rewrites `nemo` followed by one of nemo's own
//! command names (or a flag), never prose such as "nemo keeps …"; a unit
//! test keeps [`COMMANDS`] equal to the command line's subcommands. It
//! must not print nor depend on anything above it.

use std::borrow::Cow;

/// nemo's subcommands, as the command line names them.
pub const COMMANDS: [&str; 15] = [
    "generate",
    "batch",
    "auth",
    "session",
    "chat",
    "upload",
    "state",
    "export",
    "credits",
    "doctor",
    "mcp",
    "sandbox",
    "completions",
    "man",
    "help",
];

const FLAG: &str = "--sandbox";

/// `text` with `--sandbox` added to every suggested `nemo …` command when
/// `sandbox` is on; `text` unchanged otherwise.
pub fn for_mode(text: &str, sandbox: bool) -> Cow<'_, str> {
    // A build without the emulator has no sandbox to stay in (its
    // `--sandbox` is a usage error saying so): nothing to rewrite.
    if !sandbox || !cfg!(feature = "sandbox") || !text.contains("nemo ") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut prev: Option<char> = None;
    while let Some(at) = rest.find("nemo ") {
        let before = prev_char(&rest[..at]).or(if at == 0 { prev } else { None });
        let (head, tail) = rest.split_at(at + "nemo ".len());
        out.push_str(head);
        if starts_word(before) && is_command(tail) {
            out.push_str(FLAG);
            out.push(' ');
        }
        prev = Some(' ');
        rest = tail;
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn prev_char(text: &str) -> Option<char> {
    text.chars().next_back()
}

/// `nemo` starts a word: at the start, or after a space, quote, backtick,
/// bracket, pipe or similar; not inside a name (`nemo-cli`, `~/.nemo`).
fn starts_word(before: Option<char>) -> bool {
    match before {
        None => true,
        Some(c) => !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '\\')),
    }
}

/// What follows `nemo ` is one of nemo's commands or a flag, not already
/// `--sandbox`.
fn is_command(tail: &str) -> bool {
    let word: &str = tail
        .split(|c: char| c.is_whitespace() || matches!(c, '`' | '\'' | '"' | ')' | ','))
        .next()
        .unwrap_or("");
    if word == FLAG {
        return false;
    }
    if word.starts_with('-') && word.len() > 1 {
        return true;
    }
    COMMANDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "sandbox")]
    #[test]
    fn commands_get_the_flag_in_the_sandbox() {
        let cases = [
            (
                "run `nemo export resume render_1` to download it",
                "run `nemo --sandbox export resume render_1` to download it",
            ),
            (
                "to export the video here → nemo export",
                "to export the video here → nemo --sandbox export",
            ),
            (
                "pipe it in: `echo \"hi\" | nemo chat -`, or `nemo auth login`",
                "pipe it in: `echo \"hi\" | nemo --sandbox chat -`, or `nemo --sandbox auth login`",
            ),
            ("nemo state", "nemo --sandbox state"),
            ("nemo --json credits", "nemo --sandbox --json credits"),
            (
                "already `nemo --sandbox state`",
                "already `nemo --sandbox state`",
            ),
            (
                "export, download  nemo export\n  credits  nemo credits",
                "export, download  nemo --sandbox export\n  credits  nemo --sandbox credits",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(for_mode(text, true), want, "{text}");
            assert_eq!(for_mode(text, false), text);
        }
    }

    #[test]
    fn prose_and_names_are_left_alone() {
        for text in [
            "nemo left it untouched; fix it by hand",
            "more than nemo reads), so nemo stopped reading",
            "the nemo-cli skill",
            "~/.config/nemovideo is mine",
            "see /usr/bin/nemo state",
            "nemo exports nothing",
        ] {
            assert_eq!(for_mode(text, true), text);
        }
    }

    #[test]
    fn the_list_is_the_command_line_s() {
        use clap::CommandFactory;
        let mut names: Vec<String> = crate::cli::Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect();
        names.sort();
        let mut ours: Vec<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
        ours.sort();
        assert_eq!(ours, names, "suggest::COMMANDS must list every subcommand");
    }
}
