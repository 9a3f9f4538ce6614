//! Sending: every request to the API goes through [`ApiClient::send`],
//! which follows the retry policy of `../shared/spec/cli.md` "Retries"
//! (reads up to three tries with backoff on network errors, timeouts and
//! 5xx; one wait after 429, honouring `Retry-After`; `/run_sse` never twice)
//! and writes the `-v` request lines to the client's log hook (a 429 wait
//! over a second to its notice hook). It turns
//! transport failures into typed errors; what an answer's body means is
//! `envelope`'s job.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::body::{BodyError, MAX_ANSWER, read_capped};
use super::envelope::{check_envelope, decode, unwrap_envelope};
use super::wait::wait_before_retry;
use super::{ApiClient, Retry};
use crate::error::{Error, Kind, Result};

/// Total time for an ordinary JSON call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries for reads on network errors, timeouts and 5xx.
const READ_TRIES: u32 = 3;
/// A 429 wait longer than this is said without `-v`.
const NOTICE_WAIT: Duration = Duration::from_secs(1);

/// A whole answer: its status, headers and body (at most
/// [`MAX_ANSWER`] bytes).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub url: Url,
    pub body: Bytes,
}

impl ApiClient {
    /// Sends a request built by `build` (called again for each try),
    /// following `retry`, and returns the response whatever its status.
    pub async fn send(
        &self,
        retry: Retry,
        timeout: Option<Duration>,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<Response> {
        self.exchange(
            retry,
            timeout,
            build,
            |response| async move { Ok(response) },
        )
        .await
    }

    /// [`ApiClient::send`] that also reads the whole body (bounded in size
    /// and in stalls). A read whose body is cut or stalls is tried again
    /// like any network error.
    pub async fn fetch(
        &self,
        retry: Retry,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<Answer> {
        let (stall, answer_within) = (self.inner.stall, Some(self.scaled(CALL_TIMEOUT)));
        self.exchange(retry, answer_within, build, |response| async move {
            let (status, headers, url) = (
                response.status(),
                response.headers().clone(),
                response.url().clone(),
            );
            let body = read_capped(response, MAX_ANSWER, stall).await?;
            Ok(Answer {
                status,
                headers,
                url,
                body,
            })
        })
        .await
    }

    /// The retry loop: `finish` turns the answer that is kept into `T`;
    /// when it fails on a cut body, a read is tried again.
    async fn exchange<T, F, Fut>(
        &self,
        retry: Retry,
        timeout: Option<Duration>,
        build: impl Fn() -> Result<RequestBuilder>,
        finish: F,
    ) -> Result<T>
    where
        F: Fn(Response) -> Fut,
        Fut: Future<Output = std::result::Result<T, BodyError>>,
    {
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
                .map_err(|e| Error::new(Kind::Network, describe(&e)).with_source(e))?;
            let line = format!("{} {}", request.method(), request.url());
            let has_auth = request.headers().contains_key(header::AUTHORIZATION);
            let started = Instant::now();
            let token = self.token();
            let auth_note = match (&token, has_auth) {
                (Some(t), true) => format!(" (Bearer {})", t.masked()),
                _ => String::new(),
            };
            self.log(|| format!("→ {line}{auth_note}"));
            // Plain http or TLS, by the request's URL.
            let client = self.client_for(request.url())?;
            match client.execute(request).await {
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
                        // Over five minutes: exit 6 now, saying when.
                        let wait = wait_before_retry(
                            response.headers(),
                            self.inner.rate_limit_wait,
                            SystemTime::now(),
                        )?;
                        let said = format!(
                            "{} is rate limiting requests (HTTP 429); waiting {:.0} s before trying once more",
                            host_of(response.url()),
                            wait.as_secs_f64().ceil()
                        );
                        // Up to 5 minutes of silence looked like a hang.
                        if wait > NOTICE_WAIT {
                            self.notice(|| said);
                        } else {
                            self.log(|| said);
                        }
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    if status.is_server_error() && retry == Retry::Read && tries < READ_TRIES {
                        backoff(tries).await;
                        continue;
                    }
                    // The same coding would come again: not worth a retry.
                    refuse_coded(&response)?;
                    match finish(response).await {
                        Ok(done) => return Ok(done),
                        Err(BodyError::Cut(err)) if retry == Retry::Read && tries < READ_TRIES => {
                            self.log(|| format!("✗ {line}: {err}"));
                            backoff(tries).await;
                        }
                        Err(err) => return Err(err.into_error()),
                    }
                }
                Err(err) => {
                    self.log(|| format!("✗ {line}: {}", describe(&err)));
                    let may_retry = !certificate_refused(&err)
                        && match retry {
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
        let answer = self.fetch(retry, build).await?;
        let path = answer.url.path().to_string();
        let data = unwrap_envelope(decode(answer)?)?;
        serde_json::from_value(data).map_err(|e| {
            Error::bad_answer(format!(
                "the server's answer to {path} is not in the documented form"
            ))
            .with_source(e)
        })
    }

    /// Sends and returns the whole JSON answer of a successful call (for
    /// endpoints with more than one documented shape).
    pub async fn call_value(
        &self,
        retry: Retry,
        build: impl Fn() -> Result<RequestBuilder>,
    ) -> Result<Value> {
        let value = decode(self.fetch(retry, build).await?)?;
        check_envelope(&value)?;
        Ok(value)
    }
}

pub(super) async fn backoff(tries: u32) {
    // 0.5 s, 1 s, … with up to 50 % jitter.
    let base = 500u64 << (tries - 1).min(6);
    let jitter = fastrand::u64(0..=base / 2);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// An answer whose body is still coded after reqwest's decoders (gzip and
/// deflate are decoded; br, zstd or anything else is not) is refused: nemo
/// asked for `identity`, and a coded body must never be read or saved as
/// if it were the thing itself. Brotli is not decoded on purpose: its
/// decoder would grow the binary by about a third for a coding nemo never
/// asks for.
fn refuse_coded(response: &Response) -> Result<()> {
    let Some(coding) = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
    else {
        return Ok(());
    };
    let coding: String = crate::sanitize::strip_controls(&coding)
        .chars()
        .take(40)
        .collect();
    Err(Error::bad_answer(format!(
        "{} sent its answer compressed as \"{coding}\", which nemo does not decode (it asked for no compression)",
        host_of(response.url())
    ))
    .with_hint("a proxy or CDN may be compressing answers; ask for it to send them uncompressed"))
}

/// `host:port` of a URL, for messages.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => "the server".into(),
    }
}

/// A reqwest failure in one short sentence, in the user's words: TLS
/// failures by what is wrong with the certificate, others from their
/// innermost cause. The full chain stays on the error for `-v`.
pub fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "the request timed out".into();
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut last = err.to_string();
    while let Some(e) = source {
        if let Some(tls) = tls_reason(e) {
            return tls.into();
        }
        last = e.to_string();
        source = e.source();
    }
    crate::sanitize::strip_controls(&last)
}

/// The rustls error `err` is or wraps: directly, or inside `io::Error`s
/// (whose `source()` skips their payload). tokio-rustls puts it in one,
/// which hyper-util wraps in another: both layers are looked through.
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = err;
    for _ in 0..4 {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        current = current.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
    None
}

/// Whether a request failed because the server's certificate cannot be
/// trusted: nothing a retry could change.
pub(crate) fn certificate_refused(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if matches!(rustls_error(e), Some(rustls::Error::InvalidCertificate(_))) {
            return true;
        }
        source = e.source();
    }
    false
}

/// A TLS failure in words, when `err` is one.
fn tls_reason(err: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    let tls = rustls_error(err)?;
    use rustls::CertificateError as C;
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::Expired | C::ExpiredContext { .. } => "the server's TLS certificate has expired",
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the server's TLS certificate is not valid yet (check this machine's clock)"
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the server's TLS certificate was issued for another host name"
            }
            C::UnknownIssuer => {
                "the server's TLS certificate is not signed by an authority this machine trusts"
            }
            C::Revoked => "the server's TLS certificate has been revoked",
            _ => "the server's TLS certificate is not valid",
        },
        rustls::Error::AlertReceived(_) | rustls::Error::PeerIncompatible(_) => {
            "the server refused the TLS handshake"
        }
        _ => "the TLS connection to the server failed",
    })
}

pub fn network_error(err: reqwest::Error) -> Error {
    let host = err
        .url()
        .map(host_of)
        .unwrap_or_else(|| "the server".into());
    if certificate_refused(&err) {
        return Error::new(
            Kind::Network,
            format!("cannot connect to {host}: {}", describe(&err)),
        )
        .with_hint(
            "if the connection goes through a proxy or the server uses a private authority, \
             point SSL_CERT_FILE at a PEM file of the CA certificates to trust",
        )
        .with_source(err);
    }
    let message = if err.is_timeout() {
        format!("{host} did not answer in time")
    } else if err.is_connect() {
        format!("cannot connect to {host}: {}", describe(&err))
    } else {
        format!("lost the connection to {host}: {}", describe(&err))
    };
    Error::new(Kind::Network, message).with_source(err)
}

#[cfg(test)]
mod tests;
