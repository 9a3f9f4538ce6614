//! The command line: global options (`../shared/spec/cli.md` "Global
//! options") and the subcommands, each of which owns its own `Args`.

pub mod complete;
pub mod render;
pub mod topics;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCandidates;

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "nemo",
    version,
    about = "Describe a video in words; NemoVideo's AI agent makes it",
    long_about = "nemo talks to NemoVideo's AI video agent: chat with it to generate and edit a \
                  video on a timeline, upload media, check credits, and export the result as an MP4.",
    after_help = "Examples:\n  nemo chat \"generate a 10-second video of a panda walking through a bamboo forest\"\n  nemo export -o panda.mp4\n  nemo credits --min 100\n  nemo --sandbox chat \"hello\"   # offline, against the built-in emulator\n\nHelp topics: `nemo help exit-codes`, `nemo help environment`",
    max_term_width = 100,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes, before or after its name. Shown under
/// their own heading, after a command's own options (gh's "inherited
/// flags").
///
/// Their environment variables are read by [`crate::settings`], not by
/// clap: only the commands that talk to the API read them (a bad
/// `NEMO_API_URL` cannot stop `nemo help`), an error names the variable a
/// bad value came from, and clap's usage lines never show a variable's
/// option as if it had been typed.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// API base URL [env: NEMO_API_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub api_url: Option<String>,

    /// Web app URL (for claim and registration links) [env: NEMO_WEB_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub web_url: Option<String>,

    /// Where nemo keeps its settings [default: the platform config dir of `nemovideo`] [env: NEMO_CONFIG_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Session to work in [default: the current session] [env: NEMO_SESSION]
    #[arg(long, global = true, value_name = "ID",
          add = ArgValueCandidates::new(complete::session_ids))]
    pub session: Option<String>,

    /// Client name sent as X-Skill-Source [default: nemo-cli] [env: NEMO_SKILL]
    #[arg(long, global = true, value_name = "NAME")]
    pub skill: Option<String>,

    /// Client version sent as X-Skill-Version [default: 1.0.0 for the seed skills, else nemo's version] [env: NEMO_SKILL_VERSION]
    #[arg(long, global = true, value_name = "V")]
    pub skill_version: Option<String>,

    /// Print results as JSON on stdout (chat: JSON Lines)
    #[arg(long, global = true)]
    pub json: bool,

    /// Print nothing but results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log requests and timings on stderr (secrets redacted)
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Run against the built-in emulator, offline (state in <config-dir>/sandbox/) [env: NEMO_SANDBOX=1]
    // clap's help text, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// Filter the JSON output with a jq expression (implies --json); strings print raw
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,

    /// When to use colours: auto (on terminals), always, never [also: NO_COLOR, CLICOLOR_FORCE]
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        value_enum,
        hide_possible_values = true
    )]
    pub color: Option<ColorWhen>,

    /// The same as --color never
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Never prompt; fail instead (implied by CI and by a stdin that is not a terminal) [env: NEMO_NO_INPUT]
    #[arg(long, global = true)]
    pub no_input: bool,
}

/// `--language LANG`: a BCP 47-like tag (`en`, `zh-CN`, `pt_BR`): 2 to 35
/// letters, digits, `-` or `_`. Checked before anything is sent, so a typo
/// never names a session's language.
pub fn parse_language(text: &str) -> Result<String, String> {
    let tag = text.trim();
    let ok = (2..=35).contains(&tag.len())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(tag.to_string())
    } else {
        Err("expected a language tag such as en, zh-CN or pt_BR (2 to 35 letters, digits, '-' or '_')".into())
    }
}

/// `--color WHEN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colour on terminals only
    Auto,
    /// Always colour
    Always,
    /// Never colour
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in, show the login, print or forget the token
    Auth(commands::auth::Args),
    /// Create, show, list, pick and open sessions
    Session(commands::session::Args),
    /// Send a message to the agent and stream its reply (no message: interactive)
    Chat(commands::chat::Args),
    /// Upload media files or URLs to the session
    Upload(commands::upload::Args),
    /// Show the session's timeline and media
    State(commands::state::Args),
    /// Render the timeline in the cloud and download the MP4
    Export(commands::export::Args),
    /// From a prompt to a video file in one command (for scripts)
    Generate(commands::generate::Args),
    /// Run many generations from a file, resumably, a few at a time
    Batch(commands::batch::Args),
    /// Show the credit balance; fail below a minimum
    Credits(commands::credits::Args),
    /// Serve NemoVideo to AI agents: an MCP server on stdin/stdout
    Mcp(commands::mcp::Args),
    /// Run the built-in emulator of the API on loopback
    Sandbox(commands::sandbox::Args),
    /// Show what nemo will use and whether it works (for bug reports)
    Doctor(commands::doctor::Args),
    /// Print a shell completion script
    Completions(commands::completions::Args),
    /// Print man pages, or write one per command into a folder
    Man(commands::man::Args),
    /// Help for a command, or a topic: exit-codes, environment
    Help(commands::help::Args),
}
