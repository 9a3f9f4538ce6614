//! The values the dynamic completer (`NEMO_COMPLETE=bash nemo`,
//! clap_complete's `CompleteEnv`) offers for an argument: session and
//! render ids from the config. `--format` and `--quality` names come from
//! their value enums ([`crate::cli::render`]).
//!
//! Completing runs before the settings exist, so the candidate functions
//! find the config folder themselves (`--config-dir` among the words,
//! `NEMO_CONFIG_DIR`, else the default; its `sandbox/` under `--sandbox`)
//! and never fail: a missing or damaged config offers nothing. They sit
//! here, beside the command line, because several commands' arguments
//! (and the global `--session`) use them.

use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;

use crate::config::{Config, Store};

/// The config as completion finds it; `None` when there is none to read.
/// The words being completed are read for `--config-dir` and `--sandbox`
/// (or `NEMO_SANDBOX`): under the sandbox its own config, in
/// `<config-dir>/sandbox/`, holds the ids worth offering.
fn config() -> Option<Config> {
    let words: Vec<String> = std::env::args_os()
        .skip_while(|w| w != "--")
        .filter_map(|w| w.into_string().ok())
        .collect();
    let given = words.iter().enumerate().find_map(|(i, w)| {
        if w == "--config-dir" {
            words.get(i + 1).cloned()
        } else {
            w.strip_prefix("--config-dir=").map(str::to_string)
        }
    });
    let dir = match given
        .map(PathBuf::from)
        .or_else(|| crate::settings::env_config_dir().map(PathBuf::from))
    {
        Some(dir) => dir,
        None => crate::settings::default_config_dir().ok()?,
    };
    let sandbox = words.iter().any(|w| w == "--sandbox") || crate::settings::sandbox_var_on();
    let dir = if sandbox { dir.join(SANDBOX_DIR) } else { dir };
    Store::new(dir).load().ok()
}

/// Where `--sandbox` keeps its own config, inside the config folder.
const SANDBOX_DIR: &str = "sandbox";

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
