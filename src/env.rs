//! Every environment variable nemo reads, in one place.
//!
//! Only [`crate::settings`] (and clap, through the `env` attributes of the
//! global flags) reads the environment; commands get resolved settings.

pub const API_URL: &str = "NEMO_API_URL";
pub const WEB_URL: &str = "NEMO_WEB_URL";
pub const CONFIG_DIR: &str = "NEMO_CONFIG_DIR";
pub const SESSION: &str = "NEMO_SESSION";
pub const SKILL: &str = "NEMO_SKILL";
pub const SKILL_VERSION: &str = "NEMO_SKILL_VERSION";
pub const TOKEN: &str = "NEMO_TOKEN";
pub const CLIENT_ID: &str = "NEMO_CLIENT_ID";
pub const RATE_LIMIT_WAIT: &str = "NEMO_RATE_LIMIT_WAIT";
/// A faults file (JSON) for the in-process emulator of `--sandbox`.
pub const SANDBOX_FAULTS: &str = "NEMO_SANDBOX_FAULTS";
pub const SKILL_SOURCE: &str = "SKILL_SOURCE";
pub const NO_COLOR: &str = "NO_COLOR";
/// Hidden, for tests: multiplies the waiting schedules of `nemo chat` (the
/// state watch after a dropped reply, the `Still working…` interval), e.g.
/// `0.01` to run five minutes of watching in three seconds.
pub const CHAT_TIME_SCALE: &str = "NEMO_CHAT_TIME_SCALE";
/// Hidden, for tests: streams the printer takes for terminals whatever they
/// are, e.g. `stdout,stderr` (spinners, colour, the chat's terminal layout).
pub const PRETEND_TTY: &str = "NEMO_PRETEND_TTY";
/// Locale variables, in the order POSIX gives them precedence.
pub const LOCALE: [&str; 3] = ["LC_ALL", "LC_MESSAGES", "LANG"];
