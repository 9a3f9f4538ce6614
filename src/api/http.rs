//! Sending: every request to the API goes through [`ApiClient::send`],
//! which follows the retry policy of `../shared/spec/cli.md` "Retries"
//! (reads up to three tries with backoff on network errors, timeouts and
//! 5xx; one wait after 429, honouring `Retry-After`; `/run_sse` never twice)
//! and writes the `-v` request lines to the client's log hook. It turns
//! transport failures into typed errors; what an answer's body means is
//! `envelope`'s job.

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::envelope::{check_envelope, read_json, unwrap_envelope};
use super::{ApiClient, Retry};
use crate::error::{Error, Kind, Result};

/// Total time for an ordinary JSON call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Tries for reads on network errors, timeouts and 5xx.
const READ_TRIES: u32 = 3;

impl ApiClient {
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

pub(super) async fn backoff(tries: u32) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

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
