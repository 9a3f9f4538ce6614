//! `nemo help [COMMAND…|TOPIC]`: a command's help, or a help topic —
//! `exit-codes` (the table of `../shared/spec/cli.md` "Exit codes") and
//! `environment` (every variable nemo reads, and what wins over what).
//!
//! Replaces clap's own `help` subcommand so topics sit beside commands.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::cli::topics::{ENVIRONMENT, EXIT_CODES, EXIT_CODES_JSON};
use crate::error::{Error, Result};

const TOPICS: [(&str, &str); 2] = [
    ("exit-codes", "what each exit code means"),
    (
        "environment",
        "every environment variable nemo reads, and precedence",
    ),
];

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo help export resume\n  nemo help exit-codes\n  nemo help environment"
)]
pub struct Args {
    /// A command (and subcommand), or a topic: exit-codes, environment
    #[arg(value_name = "COMMAND|TOPIC")]
    pub words: Vec<String>,
}

/// `nemo help exit-codes`: the table, wrapped under its meaning column.
fn exit_codes_text() -> String {
    let mut text = String::from("Exit codes (stable; scripts may rely on them):\n\n");
    for (code, meaning) in EXIT_CODES {
        let mut line = format!("  {code:<9}");
        let mut width = line.len();
        for word in meaning.split(' ') {
            if width + word.len() + 1 > 92 && width > 11 {
                line.push_str("\n           ");
                width = 11;
            } else if width > 11 {
                line.push(' ');
                width += 1;
            }
            line.push_str(word);
            width += word.chars().count();
        }
        text.push_str(&line);
        text.push('\n');
    }
    text.push('\n');
    text.push_str(EXIT_CODES_JSON);
    text.push('\n');
    text
}

pub fn run(args: &Args) -> Result<()> {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let text = match words.as_slice() {
        [] => Cli::command().render_long_help().to_string(),
        ["exit-codes"] => exit_codes_text(),
        ["environment"] => ENVIRONMENT.to_string(),
        path => command_help(path)?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The long help of `nemo <path…>`; an unknown word gets a "did you
/// mean" from the commands at its place (and, first, the topics).
fn command_help(path: &[&str]) -> Result<String> {
    let mut command = Cli::command().name("nemo");
    command.build();
    let mut current = &mut command;
    for (depth, word) in path.iter().enumerate() {
        let names: Vec<String> = current
            .get_subcommands()
            .filter(|sub| !sub.is_hide_set())
            .map(|sub| sub.get_name().to_string())
            .collect();
        current = match current.find_subcommand_mut(word) {
            Some(sub) if !sub.is_hide_set() => sub,
            _ => {
                let topics = TOPICS.iter().map(|(name, _)| *name);
                let mut candidates: Vec<&str> = Vec::new();
                if depth == 0 {
                    candidates.extend(topics.clone());
                }
                candidates.extend(names.iter().map(String::as_str));
                let hint = match closest(word, &candidates) {
                    Some(name) => {
                        let mut fixed: Vec<&str> = path[..depth].to_vec();
                        fixed.push(name);
                        format!("did you mean `nemo help {}`?", fixed.join(" "))
                    }
                    None => format!(
                        "topics: {}; commands: `nemo --help`",
                        topics.collect::<Vec<_>>().join(", ")
                    ),
                };
                return Err(
                    Error::usage(format!("no command or help topic {:?}", path.join(" ")))
                        .with_hint(hint),
                );
            }
        };
    }
    Ok(current.render_long_help().to_string())
}

/// The candidate `word` most likely meant: one it begins (`env` →
/// `environment`), else the nearest within a couple of typos.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    if word.len() >= 2
        && let Some(found) = candidates.iter().find(|c| c.starts_with(&word))
    {
        return Some(found);
    }
    let limit = (word.chars().count() / 3).clamp(1, 2);
    candidates
        .iter()
        .map(|c| (distance(&word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_words_find_their_topic_or_command() {
        let names = ["exit-codes", "environment", "export", "credits"];
        assert_eq!(closest("env", &names), Some("environment"));
        assert_eq!(closest("exit-code", &names), Some("exit-codes"));
        assert_eq!(closest("exprot", &names), Some("export"));
        assert_eq!(closest("credit", &names), Some("credits"));
        assert_eq!(closest("zzz", &names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
