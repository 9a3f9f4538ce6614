//! `nemo completions SHELL`: a completion script on stdout; and the values
//! the dynamic completer (`NEMO_COMPLETE=bash nemo`, clap_complete's
//! `CompleteEnv`) offers: session and render ids from the config,
//! `--format` and `--quality` names.
//!
//! Completing runs before the settings exist, so the candidate functions
//! find the config folder themselves (`NEMO_CONFIG_DIR`, else the default)
//! and never fail: a missing or damaged config offers nothing.

use clap::CommandFactory;
use clap_complete::Shell;
use clap_complete::engine::CompletionCandidate;

use crate::cli::Cli;
use crate::config::{Config, Store};
use crate::error::Result;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Completions that also offer session and render ids from your config, --format and --quality
values (the script asks nemo as you type):
  bash:  echo 'source <(NEMO_COMPLETE=bash nemo)' >> ~/.bashrc
  zsh:   echo 'source <(NEMO_COMPLETE=zsh nemo)' >> ~/.zshrc
  fish:  echo 'NEMO_COMPLETE=fish nemo | source' >> ~/.config/fish/config.fish

Examples:
  nemo completions bash > ~/.local/share/bash-completion/completions/nemo
  nemo completions zsh > ~/.zfunc/_nemo")]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &Args) -> Result<()> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(args.shell, &mut command, "nemo", &mut buffer);
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&buffer)?;
    stdout.flush()?;
    Ok(())
}

/// Formats `nemo export --format` offers.
pub const FORMATS: [&str; 4] = ["mp4", "mov", "webm", "gif"];
/// Qualities `nemo export --quality` offers.
pub const QUALITIES: [&str; 3] = ["low", "medium", "high"];

pub fn formats() -> Vec<CompletionCandidate> {
    FORMATS.iter().map(CompletionCandidate::new).collect()
}

pub fn qualities() -> Vec<CompletionCandidate> {
    QUALITIES.iter().map(CompletionCandidate::new).collect()
}

/// The config as completion finds it; `None` when there is none to read.
fn config() -> Option<Config> {
    let dir = match std::env::var_os(crate::env::CONFIG_DIR).filter(|d| !d.is_empty()) {
        Some(dir) => dir.into(),
        None => crate::settings::default_config_dir().ok()?,
    };
    Store::new(dir).load().ok()
}

/// Sessions the config knows, the current one first, named when they have one.
pub fn session_ids() -> Vec<CompletionCandidate> {
    let Some(config) = config() else {
        return Vec::new();
    };
    let mut sessions: Vec<_> = config.sessions.iter().collect();
    sessions.sort_by_key(|s| Some(&s.session_id) != config.current_session.as_ref());
    sessions
        .into_iter()
        .map(|s| {
            let help = s
                .name
                .as_deref()
                .map(|n| crate::sanitize::strip_controls(n).into());
            CompletionCandidate::new(&s.session_id).help(help)
        })
        .collect()
}

/// Renders the config recorded, newest first, with their last status.
pub fn render_ids() -> Vec<CompletionCandidate> {
    let Some(config) = config() else {
        return Vec::new();
    };
    config
        .renders
        .iter()
        .rev()
        .map(|r| {
            let help = Some(crate::sanitize::strip_controls(&r.status).into());
            CompletionCandidate::new(&r.render_id).help(help)
        })
        .collect()
}
