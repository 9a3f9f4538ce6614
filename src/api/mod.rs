//! The NemoVideo API client (`../shared/spec/api.md`): one shared reqwest
//! `Client`, the attribution and auth headers, the two answer envelopes, the
//! retry policy of `../shared/spec/cli.md` "Retries", and the mapping of
//! every failure to a typed [`Error`].
//!
//! It never prints: `-v` request lines go to the [`LogHook`] the caller
//! gives. The bearer token is only ever sent to the API's own origin.

pub mod auth;
pub mod chat;
pub mod credits;
pub mod render;
pub mod sessions;
pub mod state;
pub mod upload;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Kind, Result};
use crate::secret::Secret;
use crate::settings::Attribution;

/// Receives `-v` lines (request, status, timing), already redacted.
pub type LogHook = Arc<dyn Fn(String) + Send + Sync>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Total time for an ordinary JSON call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries for reads on network errors, timeouts and 5xx.
const READ_TRIES: u32 = 3;

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
    http: reqwest::Client,
    base: Url,
    attribution: Attribution,
    token: Mutex<Option<Secret>>,
    rate_limit_wait: Duration,
    log: Option<LogHook>,
}

/// Builds the one HTTP client of the process (rustls with ring).
pub fn http_client() -> Result<reqwest::Client> {
    // reqwest is built with `rustls-no-provider`: install ring once.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder();
    // SSL_CERT_FILE: roots to trust besides the system's on every platform
    // (on Linux the system verifier also reads it, instead of its own).
    if let Some(file) = std::env::var_os(crate::env::SSL_CERT_FILE).filter(|f| !f.is_empty()) {
        let shown = std::path::Path::new(&file).display().to_string();
        let certs = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|pem| reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| e.to_string()))
            .map_err(|e| {
                Error::usage(format!(
                    "cannot read the certificates in SSL_CERT_FILE {shown}: {e}"
                ))
                .with_hint("point SSL_CERT_FILE at a PEM file of CA certificates, or unset it")
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .user_agent(concat!("nemo-cli/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        // Redirects are followed by hand where they are expected, so that
        // the bearer token can never follow one to another host.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            Error::network(format!("cannot set up HTTPS: {}", describe(&e))).with_source(e)
        })
}

impl ApiClient {
    pub fn new(
        http: reqwest::Client,
        base: Url,
        attribution: Attribution,
        rate_limit_wait: Duration,
        log: Option<LogHook>,
    ) -> Self {
        ApiClient {
            inner: Arc::new(Inner {
                http,
                base,
                attribution,
                token: Mutex::new(None),
                rate_limit_wait,
                log,
            }),
        }
    }

    /// The shared HTTP client, for downloads from other hosts (no token).
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    pub fn base(&self) -> &Url {
        &self.inner.base
    }

    pub fn set_token(&self, token: Option<Secret>) {
        if let Ok(mut slot) = self.inner.token.lock() {
            *slot = token;
        }
    }

    pub fn token(&self) -> Option<Secret> {
        self.inner.token.lock().ok().and_then(|t| t.clone())
    }

    pub fn has_token(&self) -> bool {
        self.token().is_some()
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
            return Err(Error::new(
                Kind::Io,
                "refusing to send the token to another host",
            ));
        }
        let mut builder = self
            .inner
            .http
            .request(method, url)
            .headers(self.attribution_headers());
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

    fn attribution_headers(&self) -> HeaderMap {
        let a = &self.inner.attribution;
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-skill-source", &a.source),
            ("x-skill-version", &a.version),
            ("x-skill-platform", &a.platform),
        ] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
        headers
    }

    pub(crate) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(log) = &self.inner.log {
            log(line());
        }
    }

    /// Sends a request built by `build` (called again for each try),
    /// following `retry`, and returns the response whatever its status.
    pub async fn send(
        &self,
        retry: Retry,
        timeout: Option<Duration>,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<Response> {
        let mut tries = 0;
        let mut rate_limited = false;
        loop {
            tries += 1;
            let mut builder = build()?;
            if let Some(timeout) = timeout {
                builder = builder.timeout(timeout);
            }
            let request = builder
                .build()
                .map_err(|e| Error::new(Kind::Network, describe(&e)))?;
            let line = format!("{} {}", request.method(), request.url());
            let has_auth = request.headers().contains_key(header::AUTHORIZATION);
            let started = Instant::now();
            let token = self.token();
            let auth_note = match (&token, has_auth) {
                (Some(t), true) => format!(" (Bearer {})", t.masked()),
                _ => String::new(),
            };
            self.log(|| format!("→ {line}{auth_note}"));
            match self.inner.http.execute(request).await {
                Ok(response) => {
                    let status = response.status();
                    self.log(|| {
                        format!("← {status} {line} ({} ms)", started.elapsed().as_millis())
                    });
                    if status == StatusCode::TOO_MANY_REQUESTS
                        && !rate_limited
                        && retry != Retry::Once
                    {
                        rate_limited = true;
                        let wait =
                            retry_after(response.headers()).unwrap_or(self.inner.rate_limit_wait);
                        self.log(|| {
                            format!(
                                "rate limited; waiting {} s before one retry",
                                wait.as_secs_f64()
                            )
                        });
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status.is_server_error() && retry == Retry::Read && tries < READ_TRIES {
                        backoff(tries).await;
                        continue;
                    }
                    return Ok(response);
                }
                Err(err) => {
                    self.log(|| format!("✗ {line}: {}", describe(&err)));
                    let may_retry = match retry {
                        Retry::Read => true,
                        Retry::Write => err.is_connect(),
                        Retry::Once => false,
                    };
                    if may_retry && tries < READ_TRIES {
                        backoff(tries).await;
                        continue;
                    }
                    return Err(network_error(err));
                }
            }
        }
    }

    /// Sends and reads a `{code,message,data}` answer's `data` as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        retry: Retry,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<T> {
        let response = self.send(retry, Some(CALL_TIMEOUT), build).await?;
        let value = read_json(response).await?;
        let data = unwrap_envelope(value)?;
        serde_json::from_value(data)
            .map_err(|e| Error::bad_answer(format!("the server's answer cannot be read: {e}")))
    }

    /// Sends and returns the whole JSON answer of a successful call (for
    /// endpoints with more than one documented shape).
    pub async fn call_value(
        &self,
        retry: Retry,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<Value> {
        let response = self.send(retry, Some(CALL_TIMEOUT), build).await?;
        let value = read_json(response).await?;
        check_envelope(&value)?;
        Ok(value)
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

async fn backoff(tries: u32) {
    // 0.5 s, 1 s, … with up to 50 % jitter.
    let base = 500u64 << (tries - 1).min(6);
    let jitter = fastrand::u64(0..=base / 2);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    let when = httpdate(value)?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

fn httpdate(value: &str) -> Option<std::time::SystemTime> {
    // RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
    let mut parts = value.split_whitespace().skip(1);
    let day = parts.next()?;
    let month = parts.next()?;
    let year = parts.next()?;
    let time = parts.next()?;
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == month)? + 1;
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}

/// A reqwest failure in one short sentence, from its innermost cause.
pub fn describe(err: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut last = err.to_string();
    while let Some(e) = source {
        last = e.to_string();
        source = e.source();
    }
    if err.is_timeout() {
        return "the request timed out".into();
    }
    crate::sanitize::strip_controls(&last)
}

pub fn network_error(err: reqwest::Error) -> Error {
    let host = err
        .url()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_else(|| "the server".into());
    let message = if err.is_timeout() {
        format!("{host} did not answer in time")
    } else if err.is_connect() {
        format!("cannot connect to {host}: {}", describe(&err))
    } else {
        format!("lost the connection to {host}: {}", describe(&err))
    };
    Error::new(Kind::Network, message).with_source(err)
}

/// Reads an answer's body as JSON, turning any non-2xx answer (JSON,
/// FastAPI `detail`, HTML) into a typed error.
pub async fn read_json(response: Response) -> Result<Value> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let bytes = response.bytes().await.map_err(network_error)?;
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    if !status.is_success() {
        return Err(status_error(status, parsed.as_ref()));
    }
    match parsed {
        Some(value) => Ok(value),
        None if is_json => Err(Error::bad_answer(
            "the server sent JSON that cannot be read",
        )),
        None => Err(Error::bad_answer(format!(
            "the server answered HTTP {status} with something that is not JSON"
        ))),
    }
}

/// The error for a non-2xx answer.
pub fn status_error(status: StatusCode, body: Option<&Value>) -> Error {
    // An API code in the body says more than the status.
    if let Some(body) = body
        && let Some(code) = body.get("code").and_then(Value::as_i64)
        && code != 0
        && let Err(err) = code_error(code, message_of(body))
    {
        return err;
    }
    let message = body.and_then(message_of);
    match status.as_u16() {
        401 | 403 => Error::new(
            Kind::TokenRejected,
            message.unwrap_or_else(|| "the server rejected the token".into()),
        ),
        402 => Error::new(Kind::Plan, "export is blocked by your plan (HTTP 402)"),
        404 if message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("session not found")) =>
        {
            Error::new(
                Kind::SessionNotFound,
                "the session was not found on the server",
            )
        }
        429 => Error::new(
            Kind::RateLimited,
            "the server is rate limiting requests (HTTP 429), still after one retry",
        )
        .with_hint("wait a while and try again"),
        s if s >= 500 => Error::new(
            Kind::Server,
            format!(
                "the server failed (HTTP {}{})",
                status.as_u16(),
                status
                    .canonical_reason()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            ),
        )
        .with_status(s),
        s => Error::new(
            Kind::Http,
            match message {
                Some(m) => format!("the server refused the request (HTTP {s}): {m}"),
                None => format!("the server refused the request (HTTP {s})"),
            },
        )
        .with_status(s),
    }
}

/// A short, single-line, control-free message from a JSON error body.
fn message_of(body: &Value) -> Option<String> {
    let text = ["message", "detail", "error", "msg"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))?;
    let text = crate::sanitize::strip_controls(text);
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = text.chars().take(200).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    (!short.is_empty()).then_some(short)
}

/// Maps an API code to its typed error (`api.md` "Error codes").
pub fn code_error(code: i64, message: Option<String>) -> Result<()> {
    let err = match code {
        0 => return Ok(()),
        1001 => Error::new(
            Kind::TokenRejected,
            "the token was rejected (bad or expired)",
        ),
        1002 => Error::new(
            Kind::SessionNotFound,
            "the session was not found on the server",
        ),
        2001 => Error::new(Kind::NoCredits, "no credits left"),
        4001 => Error::new(Kind::BadInput, "the server does not accept this file type")
            .with_hint(crate::error::FORMATS_HINT)
            .with_api_code(4001),
        4002 => Error::new(Kind::BadInput, "the file is too large for the server")
            .with_hint(crate::error::SIZE_HINT)
            .with_api_code(4002),
        code => Error::new(
            Kind::Api,
            match message {
                Some(m) => format!("the server answered code {code}: {m}"),
                None => format!("the server answered code {code}"),
            },
        )
        .with_api_code(code),
    };
    Err(err)
}

/// Checks either envelope for an error without taking it apart.
pub fn check_envelope(value: &Value) -> Result<()> {
    if let Some(code) = value.get("code").and_then(Value::as_i64) {
        code_error(code, message_of(value))?;
    }
    if value.get("success").and_then(Value::as_bool) == Some(false) {
        let message = message_of(value).unwrap_or_else(|| "no reason given".into());
        return Err(
            Error::new(Kind::Api, format!("the server refused: {message}")).with_api_code(-1),
        );
    }
    Ok(())
}

/// The `data` of `{code,message,data}` or `{success,data,error}`.
pub fn unwrap_envelope(mut value: Value) -> Result<Value> {
    check_envelope(&value)?;
    match value.get_mut("data").map(Value::take) {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(Error::bad_answer("the server's answer has no data")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelopes_and_codes() {
        assert_eq!(
            unwrap_envelope(json!({"code":0,"data":{"a":1}})).unwrap(),
            json!({"a":1})
        );
        assert_eq!(
            unwrap_envelope(json!({"success":true,"data":{"a":1}})).unwrap(),
            json!({"a":1})
        );
        assert!(
            unwrap_envelope(json!({"code":1001,"message":"x"}))
                .is_err_and(|e| e.is(Kind::TokenRejected))
        );
        assert!(unwrap_envelope(json!({"code":2001})).is_err_and(|e| e.is(Kind::NoCredits)));
        assert!(
            unwrap_envelope(json!({"success":false,"error":"dup"})).is_err_and(|e| e.is(Kind::Api))
        );
        assert!(unwrap_envelope(json!({"code":0})).is_err_and(|e| e.is(Kind::BadAnswer)));
    }

    #[test]
    fn status_errors() {
        let detail = json!({"detail":"Session not found: 12"});
        assert!(status_error(StatusCode::NOT_FOUND, Some(&detail)).is(Kind::SessionNotFound));
        assert!(status_error(StatusCode::PAYMENT_REQUIRED, None).is(Kind::Plan));
        let e = status_error(StatusCode::BAD_GATEWAY, None);
        assert!(e.is(Kind::Server) && e.status() == Some(502));
        let coded = json!({"code":2001,"message":"no credits"});
        assert!(status_error(StatusCode::FORBIDDEN, Some(&coded)).is(Kind::NoCredits));
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("5529798706024415232"), "5529798706024415232");
        assert_eq!(segment("a/../b c"), "a%2F..%2Fb%20c");
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }
}
