//! The one error type: every failure a user can act on, as data — its
//! [`Kind`] (exit code of `../shared/spec/cli.md` "Exit codes", JSON `kind`),
//! a one-sentence message, a hint, the API code behind it and its cause.
//!
//! Messages are single sentences meant for `error: …`; they never hold a
//! token, a raw HTTP body or a `Debug` dump. Causes (`source`) are kept for
//! `-v`, which prints them as `Caused by:` lines.

use std::fmt;
use std::time::Duration;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed cause, kept for `-v`.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Registration/upgrade sentence required by the spec for HTTP 402.
pub const PLAN_HINT: &str = "Register or upgrade your plan to unlock export";
pub const FORMATS_HINT: &str = "accepted formats: mp4 mov avi webm mkv (video), jpg jpeg png gif webp (image), mp3 wav m4a aac (audio)";
pub const SIZE_HINT: &str = "files are limited to 500 MB; compress or trim the file and try again";

/// What went wrong, as far as a user or a script can act on it. Decides the
/// exit code and the JSON `kind`; the finer kinds let callers tell apart
/// failures that share an exit code (a 5xx is retried, an unreadable answer
/// is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad command line (exit 2).
    Usage,
    /// No token, or one that cannot be used or renewed (exit 3).
    Auth,
    /// API code 1001: the server rejected the token (exit 3 unless renewed).
    TokenRejected,
    /// API code 2001 (exit 4).
    NoCredits,
    /// `credits --min` not met (exit 4).
    CreditsBelow,
    /// HTTP 402 on export (exit 5): the plan, not the credits.
    Plan,
    /// HTTP 429, still after the one retry (exit 6).
    RateLimited,
    /// Missing, unsupported or too large file; nothing to export; output
    /// exists (exit 7).
    BadInput,
    /// Render failed, agent error, or a reply/render timed out (exit 8).
    JobFailed,
    /// Unreachable, TLS, timeout, a cut connection (exit 9).
    Network,
    /// 5xx after retries (exit 9).
    Server,
    /// An answer that cannot be read (exit 9).
    BadAnswer,
    /// An answer over nemo's limits (one SSE event over 16 MiB): refused
    /// at once, not watched for like a dropped stream (exit 9).
    TooLarge,
    /// The reply's connection dropped and no result showed up in the
    /// session afterwards (exit 9). Its hint must not say "try again": the
    /// message may still be at work.
    ReplyLost,
    /// No session where one is needed and none can be made (exit 10).
    NoSession,
    /// API code 1002 or HTTP 404 "Session not found" (exit 10 unless
    /// recovered).
    SessionNotFound,
    /// An API code this client does not know (exit 1).
    Api,
    /// An HTTP error status with no more specific meaning (exit 1).
    Http,
    /// The config file or folder cannot be read or written (exit 1).
    Config,
    /// Local I/O failure (exit 1).
    Io,
    /// Ctrl-C (exit 130).
    Interrupted,
    /// stdout was closed by the reader (`nemo … | head`): not an error,
    /// exit 0 and print nothing.
    BrokenPipe,
}

impl Kind {
    /// The process exit code of `../shared/spec/cli.md`.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Usage => 2,
            Kind::Auth | Kind::TokenRejected => 3,
            Kind::NoCredits | Kind::CreditsBelow => 4,
            Kind::Plan => 5,
            Kind::RateLimited => 6,
            Kind::BadInput => 7,
            Kind::JobFailed => 8,
            Kind::Network | Kind::Server | Kind::BadAnswer | Kind::TooLarge | Kind::ReplyLost => 9,
            Kind::NoSession | Kind::SessionNotFound => 10,
            Kind::Api | Kind::Http | Kind::Config | Kind::Io => 1,
            Kind::Interrupted => 130,
            Kind::BrokenPipe => 0,
        }
    }

    /// The `kind` of the JSON error document.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Usage => "usage",
            Kind::Auth | Kind::TokenRejected => "auth",
            Kind::NoCredits | Kind::CreditsBelow => "credits",
            Kind::Plan => "plan",
            Kind::RateLimited => "rate_limit",
            Kind::BadInput => "input",
            Kind::JobFailed => "job",
            Kind::Network | Kind::Server | Kind::BadAnswer | Kind::TooLarge | Kind::ReplyLost => {
                "network"
            }
            Kind::NoSession | Kind::SessionNotFound => "session",
            Kind::Api | Kind::Http => "api",
            Kind::Config => "config",
            Kind::Io => "io",
            Kind::Interrupted => "interrupted",
            Kind::BrokenPipe => "broken_pipe",
        }
    }

    /// The hint an error of this kind gets when nobody gave it a better one.
    fn default_hint(self) -> Option<&'static str> {
        match self {
            Kind::TokenRejected => {
                Some("run `nemo auth login` for a new token, or set a valid NEMO_TOKEN")
            }
            Kind::Plan => Some(PLAN_HINT),
            Kind::SessionNotFound => Some(
                "start a new one with `nemo session new`, or pick one with `nemo session use ID`",
            ),
            Kind::Network | Kind::Server => Some("check your connection, or try again in a moment"),
            _ => None,
        }
    }
}

/// A failure: what kind, what happened, what to do, and why.
#[derive(thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: Kind,
    message: String,
    hint: Option<String>,
    api_code: Option<i64>,
    status: Option<u16>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<Cause>,
}

impl Error {
    /// An error of `kind` saying `message` (one sentence).
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        let api_code = match kind {
            Kind::TokenRejected => Some(1001),
            Kind::SessionNotFound => Some(1002),
            Kind::NoCredits => Some(2001),
            _ => None,
        };
        Error {
            kind,
            message: message.into(),
            hint: None,
            api_code,
            status: None,
            retry_after: None,
            source: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(Kind::Usage, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Error::new(Kind::Auth, message)
    }

    /// No token anywhere (exit 3).
    pub fn not_logged_in() -> Self {
        Error::auth("not logged in").with_hint("run `nemo auth login`, or set NEMO_TOKEN")
    }

    pub fn bad_input(message: impl Into<String>, hint: Option<String>) -> Self {
        let err = Error::new(Kind::BadInput, message);
        match hint {
            Some(hint) => err.with_hint(hint),
            None => err,
        }
    }

    pub fn job_failed(message: impl Into<String>) -> Self {
        Error::new(Kind::JobFailed, message)
    }

    pub fn network(message: impl Into<String>) -> Self {
        Error::new(Kind::Network, message)
    }

    pub fn bad_answer(message: impl Into<String>) -> Self {
        Error::new(Kind::BadAnswer, message)
    }

    /// `credits --min` not met.
    pub fn credits_below(available: i64, min: i64) -> Self {
        Error::new(
            Kind::CreditsBelow,
            format!("only {available} credits available, {min} required"),
        )
    }

    pub fn interrupted() -> Self {
        Error::new(Kind::Interrupted, "interrupted")
    }

    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::new(Kind::Io, format!("{context}: {}", io_reason(&err))).with_source(err)
    }

    pub fn config(message: impl Into<String>) -> Self {
        Error::new(Kind::Config, message)
    }

    /// Replaces the hint, for errors whose best advice depends on context.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The API's numeric code behind this error.
    pub fn with_api_code(mut self, code: i64) -> Self {
        self.api_code = Some(code);
        self
    }

    /// The HTTP status behind this error.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// How long the server asked to wait (HTTP 429).
    pub fn with_retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
        self
    }

    /// Keeps the error that caused this one, for `-v`.
    pub fn with_source(mut self, source: impl Into<Cause>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The same error with another message (the kind, hint, code and cause
    /// stay).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether this error is of `kind`.
    pub fn is(&self, kind: Kind) -> bool {
        self.kind == kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The process exit code of `../shared/spec/cli.md`.
    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The API's numeric code behind this error, when there was one.
    pub fn api_code(&self) -> Option<i64> {
        self.api_code
    }

    /// The HTTP status behind this error, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// How long the server asked to wait, when it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// What the user can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        self.hint
            .clone()
            .or_else(|| self.kind.default_hint().map(str::to_string))
    }

    /// The chain of causes, outermost first (for `-v`'s `Caused by:`).
    pub fn causes(&self) -> impl Iterator<Item = &(dyn std::error::Error + 'static)> {
        let first = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        std::iter::successors(first, |e| e.source())
    }

    /// Whether a read may be tried again after this error.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, Kind::Network | Kind::Server)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("hint", &self.hint)
            .field("api_code", &self.api_code)
            .field("status", &self.status)
            .finish_non_exhaustive()
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
            return Error::new(Kind::BrokenPipe, "broken pipe");
        }
        Error::new(Kind::Io, io_reason(&err)).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_contract() {
        let code = |kind| Error::new(kind, "x").exit_code();
        assert_eq!(code(Kind::Usage), 2);
        assert_eq!(code(Kind::TokenRejected), 3);
        assert_eq!(Error::credits_below(1, 2).exit_code(), 4);
        assert_eq!(code(Kind::Plan), 5);
        assert_eq!(code(Kind::RateLimited), 6);
        assert_eq!(Error::bad_input("x", None).exit_code(), 7);
        assert_eq!(Error::job_failed("x").exit_code(), 8);
        assert_eq!(Error::bad_answer("x").exit_code(), 9);
        assert_eq!(code(Kind::SessionNotFound), 10);
        assert_eq!(Error::interrupted().exit_code(), 130);
        assert_eq!(code(Kind::BrokenPipe), 0);
    }

    #[test]
    fn api_codes_and_default_hints_follow_the_kind() {
        assert_eq!(
            Error::new(Kind::SessionNotFound, "x").api_code(),
            Some(1002)
        );
        assert_eq!(Error::new(Kind::NoCredits, "x").api_code(), Some(2001));
        assert_eq!(
            Error::new(Kind::Plan, "x").hint().as_deref(),
            Some(PLAN_HINT)
        );
        let custom = Error::new(Kind::Plan, "x").with_hint("other");
        assert_eq!(custom.hint().as_deref(), Some("other"));
    }

    #[test]
    fn causes_are_kept_in_order() {
        let inner = std::io::Error::other("disk on fire");
        let err = Error::io("cannot write x", inner);
        assert_eq!(err.to_string(), "cannot write x: disk on fire");
        let causes: Vec<String> = err.causes().map(|e| e.to_string()).collect();
        assert_eq!(causes, ["disk on fire"]);
    }

    #[test]
    fn io_reasons_are_short() {
        let err = std::io::Error::from_raw_os_error(2);
        assert_eq!(io_reason(&err), "no such file or directory");
    }
}
