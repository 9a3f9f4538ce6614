//! The one error type: every failure a user can act on, its exit code
//! (`../shared/spec/cli.md` "Exit codes"), its JSON `kind` and its hint.
//!
//! Messages are single sentences meant for `error: …`; they never hold a
//! token, a raw HTTP body or a `Debug` dump.

use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Registration/upgrade sentence required by the spec for HTTP 402.
pub const PLAN_HINT: &str = "Register or upgrade your plan to unlock export";
pub const FORMATS_HINT: &str = "accepted formats: mp4 mov avi webm mkv (video), jpg jpeg png gif webp (image), mp3 wav m4a aac (audio)";
pub const SIZE_HINT: &str = "files are limited to 500 MB; compress or trim the file and try again";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad command line (exit 2).
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },

    /// No token, or one that cannot be used or renewed (exit 3).
    #[error("{message}")]
    Auth {
        message: String,
        hint: Option<String>,
    },

    /// API code 1001: the server rejected the token (exit 3 unless renewed).
    #[error("{message}")]
    TokenRejected { message: String },

    /// API code 2001 (exit 4).
    #[error("{message}")]
    NoCredits {
        message: String,
        hint: Option<String>,
    },

    /// `credits --min` not met (exit 4).
    #[error("only {available} credits available, {min} required")]
    CreditsBelow { available: i64, min: i64 },

    /// HTTP 402 on export (exit 5): the plan, not the credits.
    #[error("{message}")]
    Plan { message: String },

    /// HTTP 429, still after the one retry (exit 6).
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
        hint: Option<String>,
    },

    /// Missing, unsupported or too large file; nothing to export; output
    /// exists (exit 7).
    #[error("{message}")]
    BadInput {
        message: String,
        hint: Option<String>,
        api_code: Option<i64>,
    },

    /// Render failed, agent error, or a reply/render timed out (exit 8).
    #[error("{message}")]
    JobFailed {
        message: String,
        hint: Option<String>,
    },

    /// Unreachable, TLS, timeout (exit 9).
    #[error("{message}")]
    Network { message: String },

    /// 5xx after retries (exit 9).
    #[error("{message}")]
    Server { status: u16, message: String },

    /// An answer that cannot be read (exit 9).
    #[error("{message}")]
    BadAnswer { message: String },

    /// The reply's connection dropped and no result showed up in the
    /// session afterwards (exit 9). Its hint must not say "try again": the
    /// message may still be at work.
    #[error("{message}")]
    ReplyLost {
        message: String,
        hint: Option<String>,
    },

    /// No session where one is needed and none can be made (exit 10).
    #[error("{message}")]
    NoSession {
        message: String,
        hint: Option<String>,
    },

    /// API code 1002 or HTTP 404 "Session not found" (exit 10 unless
    /// recovered).
    #[error("{message}")]
    SessionNotFound { message: String },

    /// An API code this client does not know (exit 1).
    #[error("{message}")]
    Api { code: i64, message: String },

    /// An HTTP error status with no more specific meaning (exit 1).
    #[error("{message}")]
    Http { status: u16, message: String },

    /// The config file or folder cannot be read or written (exit 1).
    #[error("{message}")]
    Config {
        message: String,
        hint: Option<String>,
    },

    /// Local I/O failure (exit 1).
    #[error("{message}")]
    Io { message: String },

    /// Ctrl-C (exit 130).
    #[error("interrupted")]
    Interrupted { hint: Option<String> },

    /// stdout was closed by the reader (`nemo … | head`): not an error, exit 0
    /// and print nothing.
    #[error("broken pipe")]
    BrokenPipe,
}

impl Error {
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// No token anywhere (exit 3).
    pub fn not_logged_in() -> Self {
        Error::Auth {
            message: "not logged in".into(),
            hint: Some("run `nemo auth login`, or set NEMO_TOKEN".into()),
        }
    }

    pub fn bad_input(message: impl Into<String>, hint: Option<String>) -> Self {
        Error::BadInput {
            message: message.into(),
            hint,
            api_code: None,
        }
    }

    pub fn job_failed(message: impl Into<String>) -> Self {
        Error::JobFailed {
            message: message.into(),
            hint: None,
        }
    }

    pub fn bad_answer(message: impl Into<String>) -> Self {
        Error::BadAnswer {
            message: message.into(),
        }
    }

    pub fn io(context: impl std::fmt::Display, err: std::io::Error) -> Self {
        Error::Io {
            message: format!("{context}: {}", io_reason(&err)),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            hint: None,
        }
    }

    /// The process exit code of `../shared/spec/cli.md`.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage { .. } => 2,
            Error::Auth { .. } | Error::TokenRejected { .. } => 3,
            Error::NoCredits { .. } | Error::CreditsBelow { .. } => 4,
            Error::Plan { .. } => 5,
            Error::RateLimited { .. } => 6,
            Error::BadInput { .. } => 7,
            Error::JobFailed { .. } => 8,
            Error::Network { .. }
            | Error::Server { .. }
            | Error::BadAnswer { .. }
            | Error::ReplyLost { .. } => 9,
            Error::NoSession { .. } | Error::SessionNotFound { .. } => 10,
            Error::Api { .. } | Error::Http { .. } | Error::Config { .. } | Error::Io { .. } => 1,
            Error::Interrupted { .. } => 130,
            Error::BrokenPipe => 0,
        }
    }

    /// The `kind` of the JSON error document.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage { .. } => "usage",
            Error::Auth { .. } | Error::TokenRejected { .. } => "auth",
            Error::NoCredits { .. } | Error::CreditsBelow { .. } => "credits",
            Error::Plan { .. } => "plan",
            Error::RateLimited { .. } => "rate_limit",
            Error::BadInput { .. } => "input",
            Error::JobFailed { .. } => "job",
            Error::Network { .. }
            | Error::Server { .. }
            | Error::BadAnswer { .. }
            | Error::ReplyLost { .. } => "network",
            Error::NoSession { .. } | Error::SessionNotFound { .. } => "session",
            Error::Api { .. } | Error::Http { .. } => "api",
            Error::Config { .. } => "config",
            Error::Io { .. } => "io",
            Error::Interrupted { .. } => "interrupted",
            Error::BrokenPipe => "broken_pipe",
        }
    }

    /// The API's numeric code behind this error, when there was one.
    pub fn api_code(&self) -> Option<i64> {
        match self {
            Error::TokenRejected { .. } => Some(1001),
            Error::SessionNotFound { .. } => Some(1002),
            Error::NoCredits { .. } => Some(2001),
            Error::BadInput { api_code, .. } => *api_code,
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Usage { hint, .. }
            | Error::Auth { hint, .. }
            | Error::NoCredits { hint, .. }
            | Error::RateLimited { hint, .. }
            | Error::BadInput { hint, .. }
            | Error::JobFailed { hint, .. }
            | Error::NoSession { hint, .. }
            | Error::ReplyLost { hint, .. }
            | Error::Config { hint, .. }
            | Error::Interrupted { hint } => hint.clone(),
            Error::TokenRejected { .. } => {
                Some("run `nemo auth login` for a new token, or set a valid NEMO_TOKEN".into())
            }
            Error::Plan { .. } => Some(PLAN_HINT.into()),
            Error::SessionNotFound { .. } => Some(
                "start a new one with `nemo session new`, or pick one with `nemo session use ID`"
                    .into(),
            ),
            Error::Network { .. } | Error::Server { .. } => {
                Some("check your connection, or try again in a moment".into())
            }
            _ => None,
        }
    }

    /// Replaces the hint, for errors whose best advice depends on context.
    pub fn with_hint(mut self, new: impl Into<String>) -> Self {
        let new = Some(new.into());
        match &mut self {
            Error::Usage { hint, .. }
            | Error::Auth { hint, .. }
            | Error::NoCredits { hint, .. }
            | Error::RateLimited { hint, .. }
            | Error::BadInput { hint, .. }
            | Error::JobFailed { hint, .. }
            | Error::NoSession { hint, .. }
            | Error::ReplyLost { hint, .. }
            | Error::Config { hint, .. }
            | Error::Interrupted { hint } => *hint = new,
            _ => {}
        }
        self
    }

    /// Whether a read may be tried again after this error.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Network { .. } | Error::Server { .. })
    }
}

/// An `io::Error` as a short lowercase reason, without Rust's `(os error N)`.
pub fn io_reason(err: &std::io::Error) -> String {
    let text = err.to_string();
    let text = match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return Error::BrokenPipe;
        }
        Error::Io {
            message: io_reason(&err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(Error::usage("x").exit_code(), 2);
        assert_eq!(
            Error::TokenRejected {
                message: "x".into()
            }
            .exit_code(),
            3
        );
        assert_eq!(
            Error::CreditsBelow {
                available: 1,
                min: 2
            }
            .exit_code(),
            4
        );
        assert_eq!(
            Error::Plan {
                message: "x".into()
            }
            .exit_code(),
            5
        );
        assert_eq!(
            Error::RateLimited {
                message: "x".into(),
                retry_after: None,
                hint: None
            }
            .exit_code(),
            6
        );
        assert_eq!(Error::bad_input("x", None).exit_code(), 7);
        assert_eq!(Error::job_failed("x").exit_code(), 8);
        assert_eq!(Error::bad_answer("x").exit_code(), 9);
        assert_eq!(
            Error::SessionNotFound {
                message: "x".into()
            }
            .exit_code(),
            10
        );
        assert_eq!(Error::Interrupted { hint: None }.exit_code(), 130);
        assert_eq!(Error::BrokenPipe.exit_code(), 0);
    }

    #[test]
    fn io_reasons_are_short() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&err), "no such file or directory");
    }
}
