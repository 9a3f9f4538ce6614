//! The NemoVideo API client (`../shared/spec/api.md`): the process's
//! reqwest clients ([`Clients`]: plain http, and TLS built on first use),
//! the attribution and auth headers, and where each job lives —
//! sending with the retry policy of `../shared/spec/cli.md` "Retries"
//! (`http`), the two answer envelopes and the mapping of every failure to
//! a typed [`Error`] (`envelope`), downloads ([`download`]), and one
//! module per group of endpoints.
//!
//! It never prints: `-v` request lines go to the [`LogHook`] the caller
//! gives, download progress to a [`download::Progress`]. The bearer token is
//! only ever sent to the API's own origin. The client is a library below
//! the commands: a crate of its own, it cannot reach the terminal, the
//! settings or the commands. It owns the error kinds ([`error`]), the
//! secret type ([`secret`]) and the sanitising of server text ([`sanitize`]).

mod attribution;
pub mod auth;
mod body;
pub mod chat;
mod clients;
pub mod credentials;
pub mod credits;
pub mod download;
mod envelope;
pub mod error;
mod http;
pub mod ids;
pub mod number;
pub mod render;
pub mod sanitize;
pub mod secret;
pub mod sessions;
pub mod state;
pub mod time;
pub mod upload;
mod wait;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, Url};

use crate::error::{Error, Kind, Result};
use crate::secret::Secret;

pub use attribution::Attribution;
pub use body::MAX_ANSWER;
pub use clients::{Clients, PROXIES, SSL_CERT_FILE, read_cert_file};
pub use credentials::{Credential, Keyring, TokenSource};
pub use envelope::decode;
pub use envelope::{check_envelope, code_error, read_json, status_error, unwrap_envelope};
pub use http::{Answer, describe, host_of, network_error};
pub use wait::MAX_WAIT;

/// Receives `-v` lines (request, status, timing), already redacted.
pub type LogHook = Arc<dyn Fn(String) + Send + Sync>;
/// Receives what the user should hear without `-v` (a wait of more than a
/// second after HTTP 429); the caller prints it as a status line.
pub type NoticeHook = Arc<dyn Fn(String) + Send + Sync>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a JSON answer's body may go without a byte before the try is
/// given up (and a read tried again).
pub const BODY_STALL: Duration = Duration::from_secs(10);

/// How a request may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Idempotent read: network errors, timeouts and 5xx are tried up to
    /// three times with backoff; 429 once.
    Read,
    /// A write: only 429 (which rejected it unprocessed) and connection
    /// failures before anything was sent are tried again.
    Write,
    /// Never sent twice (`/run_sse`).
    Once,
}

#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: Arc<Clients>,
    base: Url,
    attribution: Attribution,
    token: Mutex<Option<Secret>>,
    rate_limit_wait: Duration,
    stall: Duration,
    /// Multiplies the network waits (1 but in tests, [`ApiClient::with_time_scale`]).
    time_scale: f64,
    log: Option<LogHook>,
    keyring: Option<Arc<dyn Keyring>>,
    notice: Option<NoticeHook>,
}

/// Builds the HTTP clients of the process ([`Clients`]).
pub fn http_client() -> Result<Clients> {
    Clients::new()
}

impl ApiClient {
    pub fn new(
        http: Clients,
        base: Url,
        attribution: Attribution,
        rate_limit_wait: Duration,
        log: Option<LogHook>,
    ) -> Self {
        ApiClient {
            inner: Arc::new(Inner {
                http: Arc::new(http),
                base,
                attribution,
                token: Mutex::new(None),
                rate_limit_wait,
                stall: BODY_STALL,
                time_scale: 1.0,
                log,
                keyring: None,
                notice: None,
            }),
        }
    }

    /// The same client with another body-stall timeout (tests use a short
    /// one). Call it before the client is shared.
    pub fn with_stall_timeout(mut self, stall: Duration) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.stall = stall;
        }
        self
    }

    /// The same client with every network wait (a call's answer, a body's
    /// stall, a download's, an upload's) multiplied by `scale`: the hidden
    /// `NEMO_HTTP_TIME_SCALE`, so tests can watch a server that never
    /// answers give up in a second. Call it before the client is shared.
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.time_scale = scale;
            inner.stall = BODY_STALL.mul_f64(scale);
        }
        self
    }

    /// The same client with `keyring` as the source of its credentials:
    /// it then gets a token on first use and renews a rejected free one by
    /// itself ([`credentials`]). Call it before the client is shared.
    pub fn with_keyring(mut self, keyring: Arc<dyn Keyring>) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.keyring = Some(keyring);
        }
        self
    }

    /// The same client telling `notice` what the user should hear (see
    /// [`NoticeHook`]). Call it before the client is shared.
    pub fn with_notice_hook(mut self, notice: NoticeHook) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.notice = Some(notice);
        }
        self
    }

    /// A client that sends exactly `token`: no keyring, no free token on
    /// first use, no renewal. For checking a token (`auth login
    /// --with-token`, `auth status`, `doctor`) without changing the login.
    pub fn with_token(&self, token: Secret) -> ApiClient {
        let inner = &self.inner;
        ApiClient {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                base: inner.base.clone(),
                attribution: inner.attribution.clone(),
                token: Mutex::new(Some(token)),
                rate_limit_wait: inner.rate_limit_wait,
                stall: inner.stall,
                time_scale: inner.time_scale,
                log: inner.log.clone(),
                keyring: None,
                notice: inner.notice.clone(),
            }),
        }
    }

    pub(crate) fn keyring(&self) -> Option<&dyn Keyring> {
        self.inner.keyring.as_deref()
    }
    /// `wait` under the time scale.
    pub(crate) fn scaled(&self, wait: Duration) -> Duration {
        wait.mul_f64(self.inner.time_scale)
    }

    /// The HTTP client for a request to `url` (downloads from other
    /// hosts: no token): plain for `http://`, TLS otherwise ([`Clients`]).
    pub fn client_for(&self, url: &Url) -> Result<&reqwest::Client> {
        self.inner.http.for_url(url)
    }

    pub fn set_token(&self, token: Option<Secret>) {
        if let Ok(mut slot) = self.inner.token.lock() {
            *slot = token;
        }
    }

    pub fn token(&self) -> Option<Secret> {
        self.inner.token.lock().ok().and_then(|t| t.clone())
    }

    /// A URL on the API host. `path` starts with `/`; segments taken from
    /// user input must already be escaped with [`segment`].
    pub fn url(&self, path: &str) -> Result<Url> {
        let mut url = self.inner.base.clone();
        let base_path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base_path}{path}"));
        Ok(url)
    }

    /// Whether `url` is on the API's origin (scheme, host and port), the
    /// only place the bearer token may go.
    pub fn is_api_origin(&self, url: &Url) -> bool {
        url.origin() == self.inner.base.origin()
    }

    /// A request to the API with the attribution headers and, when `auth`,
    /// the bearer token.
    pub fn request(&self, method: Method, path: &str, auth: bool) -> Result<RequestBuilder> {
        let url = self.url(path)?;
        self.request_to(method, url, auth)
    }

    /// [`ApiClient::request`] to a full URL (one the server gave). The
    /// bearer token is only added when `auth` and the URL is on the API's
    /// origin; asking for it elsewhere is an error, never a leak.
    pub fn request_to(&self, method: Method, url: Url, auth: bool) -> Result<RequestBuilder> {
        if auth && !self.is_api_origin(&url) {
            // A server sending nemo elsewhere: a network-side problem the
            // user can check, never a local I/O failure.
            return Err(Error::new(
                Kind::Network,
                format!(
                    "refused to send the token to {}, which is not the API's address ({})",
                    http::host_of(&url),
                    http::host_of(&self.inner.base)
                ),
            )
            .with_hint(
                "the token only goes to the API's own address; check --api-url or NEMO_API_URL",
            ));
        }
        let mut builder = self
            .inner
            .http
            .builder_client()
            .request(method, url)
            .headers(self.inner.attribution.headers());
        if auth {
            let token = self.token().ok_or_else(Error::not_logged_in)?;
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    Error::new(
                        Kind::Auth,
                        "the token holds characters that cannot be sent in a header",
                    )
                    .with_hint("check NEMO_TOKEN, or run `nemo auth login` again")
                })?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        Ok(builder)
    }

    pub(crate) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(log) = &self.inner.log {
            log(line());
        }
    }

    pub(crate) fn notice(&self, line: impl FnOnce() -> String) {
        if let Some(notice) = &self.inner.notice {
            notice(line());
        }
    }
}

/// Escapes one path segment taken from input (a session or render id).
pub fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("5529798706024415232"), "5529798706024415232");
        assert_eq!(segment("a/../b c"), "a%2F..%2Fb%20c");
    }
}
