//! Every environment variable nemo reads, in one place.
//!
//! Only [`crate::settings`] reads the environment (clap reads none of it);
//! commands get resolved settings.

pub const API_URL: &str = "NEMO_API_URL";
pub const WEB_URL: &str = "NEMO_WEB_URL";
pub const CONFIG_DIR: &str = "NEMO_CONFIG_DIR";
pub const SESSION: &str = "NEMO_SESSION";
pub const SKILL: &str = "NEMO_SKILL";
pub const SKILL_VERSION: &str = "NEMO_SKILL_VERSION";
pub const TOKEN: &str = "NEMO_TOKEN";
pub const CLIENT_ID: &str = "NEMO_CLIENT_ID";
pub const RATE_LIMIT_WAIT: &str = "NEMO_RATE_LIMIT_WAIT";
/// `1`/`true`: the same as `--sandbox`.
pub const SANDBOX: &str = "NEMO_SANDBOX";
/// A faults file (JSON) for the in-process emulator of `--sandbox`.
pub const SANDBOX_FAULTS: &str = "NEMO_SANDBOX_FAULTS";
pub const SKILL_SOURCE: &str = "SKILL_SOURCE";
pub const NO_COLOR: &str = "NO_COLOR";
/// Set and not `0`: colour even when stderr is not a terminal.
pub const CLICOLOR_FORCE: &str = "CLICOLOR_FORCE";
/// `--no-input`.
pub const NO_INPUT: &str = "NEMO_NO_INPUT";
/// Set by CI services; set and not empty, `false` or `0`: never prompt.
pub const CI: &str = "CI";
/// Proxies, read by the HTTP client (reqwest) itself; named here so that
/// `nemo doctor` and the help name the same ones.
pub use nemo_api::{PROXIES, SSL_CERT_FILE};
pub const NO_PROXY: [&str; 2] = ["NO_PROXY", "no_proxy"];
/// Set to a shell's name by the completion scripts: print completions for
/// the command line that follows, and exit.
pub const COMPLETE: &str = "NEMO_COMPLETE";
/// The terminal's width, for drawings.
pub const COLUMNS: &str = "COLUMNS";
/// Hidden, for tests: multiplies the waiting schedules of `nemo chat` (the
/// state watch after a dropped reply, the `Still working…` interval), e.g.
/// `0.01` to run five minutes of watching in three seconds.
pub const CHAT_TIME_SCALE: &str = "NEMO_CHAT_TIME_SCALE";
/// Hidden, for tests: multiplies the network waits (a call's 60 s answer,
/// a body's 10 s stall, a download's and an upload's), e.g. `0.01` to see
/// a server that never answers given up in under a second a try.
pub const HTTP_TIME_SCALE: &str = "NEMO_HTTP_TIME_SCALE";
/// Hidden, for tests: seconds of network errors in a row a render wait
/// tolerates (default 120), for tests that cannot wait two minutes.
pub const POLL_NETWORK_TOLERANCE: &str = "NEMO_POLL_NETWORK_TOLERANCE";
/// Hidden, for tests: set and not `0`, the in-process emulator of
/// `--sandbox` runs its agent and renders in tens of milliseconds instead
/// of seconds (its saved state keeps the pace it had).
pub const SANDBOX_QUICK: &str = "NEMO_SANDBOX_QUICK";
/// Hidden, for tests: streams the printer takes for terminals whatever they
/// are, e.g. `stdout,stderr` (spinners, colour, the chat's terminal layout).
pub const PRETEND_TTY: &str = "NEMO_PRETEND_TTY";
/// Locale variables, in the order POSIX gives them precedence.
pub const LOCALE: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];
