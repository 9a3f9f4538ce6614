//! `nemo help [COMMAND…|TOPIC]`: a command's help, or a help topic —
//! `exit-codes` (the table of `../shared/spec/cli.md` "Exit codes") and
//! `environment` (every variable nemo reads, and what wins over what).
//!
//! Replaces clap's own `help` subcommand so topics sit beside commands.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
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

/// Exit codes and what each means (`../shared/spec/cli.md` "Exit codes"),
/// for `nemo help exit-codes` and the man pages' EXIT STATUS.
pub const EXIT_CODES: [(&str, &str); 13] = [
    ("0", "success"),
    ("1", "unexpected error"),
    (
        "2",
        "usage error: a bad flag, argument or environment value; nothing was sent",
    ),
    (
        "3",
        "authentication: no token, or one that is rejected and cannot be renewed (1001)",
    ),
    ("4", "credits: none left (2001), or `credits --min` not met"),
    ("5", "plan: export blocked by the plan (HTTP 402)"),
    (
        "6",
        "rate limited, still after one retry (HTTP 429, whatever code its body carries)",
    ),
    (
        "7",
        "bad input: missing/unsupported/too large file (4001, 4002), nothing to export, output file exists",
    ),
    (
        "8",
        "the job failed: render failed, reply or render timed out, agent error in the stream",
    ),
    (
        "9",
        "network or server: unreachable, TLS, 5xx after retries, an answer that cannot be read",
    ),
    (
        "10",
        "session: none, or not found (1002) where it cannot be recovered",
    ),
    ("130", "interrupted (Ctrl-C)"),
    (
        "143, 129",
        "terminated (SIGTERM, SIGHUP): handled as Ctrl-C, with the same cleanup and resume hint",
    ),
];

/// What follows the table in `nemo help exit-codes`.
pub const EXIT_CODES_JSON: &str = "With --json, a failure also prints one document on stdout:
  {\"error\":{\"kind\":\"credits\",\"message\":\"…\",\"exit_code\":4,\"api_code\":2001}}";

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

pub const ENVIRONMENT: &str = "\
Environment variables nemo reads. A flag wins over its variable; a variable
wins over nemo's config (<config-dir>/nemo-cli.json); that wins over the default.
An empty variable counts as unset; one that is not UTF-8 is a usage error (exit 2).
Only commands that talk to the API read the API's variables: `help`, `man`,
`completions` and `sandbox reset` run whatever they hold.

  NEMO_API_URL          API base URL (--api-url) [https://mega-api-prod.nemovideo.ai]
  NEMO_WEB_URL          web app URL for claim and registration links (--web-url)
                        [https://nemovideo.com]
  NEMO_CONFIG_DIR       where nemo keeps its settings (--config-dir)
                        [$XDG_CONFIG_HOME/nemovideo, else ~/.config/nemovideo]
  NEMO_SESSION          session to work in (--session) [the config's current session]
  NEMO_TOKEN            bearer token; wins over the stored token, which wins over the
                        api_key of the official CLI's config.json
  NEMO_CLIENT_ID        client id for free anonymous tokens; wins over
                        <config-dir>/client_id
  NEMO_SKILL            sent as X-Skill-Source (--skill) [nemo-cli]
  NEMO_SKILL_VERSION    sent as X-Skill-Version (--skill-version) [1.0.0 for the five
                        NemoVideo seed skills, else nemo's version]
  SKILL_SOURCE          sent as X-Skill-Platform [detected from the install path, else unknown]
  NEMO_RATE_LIMIT_WAIT  seconds to wait after an HTTP 429 without Retry-After [30]
  NEMO_SANDBOX          1 or true: run against the built-in emulator, as --sandbox;
                        0, false or empty: off. With --api-url: a usage error
  NEMO_SANDBOX_FAULTS   a faults file (JSON) for --sandbox, as `nemo sandbox --faults`
  NEMO_NO_INPUT         set and not 0/false: never prompt (--no-input)
  CI                    set and not empty, 0 or false: never prompt, as --no-input;
                        a stdin that is not a terminal does the same
  NO_COLOR              set and not empty: no colours (--color never, --no-color)
  CLICOLOR_FORCE        set and not empty or 0: colours even when not on a terminal
                        (--color always); --color wins over both, NO_COLOR over this
  NEMO_COMPLETE         set by the completion scripts (`source <(NEMO_COMPLETE=bash nemo)`):
                        print completions for the words that follow, and exit
  COLUMNS               the width `nemo state` draws the timeline in [the terminal's]
  LC_ALL, LC_MESSAGES, LANG
                        the first one set gives `session new` its default language
  XDG_CONFIG_HOME       the platform config folder (Linux)
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (or lower case)
                        proxy for https:// and http:// requests, as curl reads them
                        (http://host:port, with user:password@ if it needs them)
  NO_PROXY              hosts that skip the proxy: comma-separated names, domains
                        (.example.com), IPs or CIDRs; * for all
  SSL_CERT_FILE         a PEM file of CA certificates to trust (a company proxy's own
                        CA, a local server); on Linux it replaces the system's roots,
                        as OpenSSL's does; elsewhere it adds to them
";

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
