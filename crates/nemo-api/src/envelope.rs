//! What an answer means: the two envelopes of `api.md` (`{code,message,data}`
//! and `{success,data,error}`), the API error codes, and non-2xx answers
//! (JSON, FastAPI `detail`, HTML) — each mapped to a typed [`Error`].
//! The HTTP status decides an error's kind; a code in the body only refines
//! it (`{"code":429}` on HTTP 429 is a rate limit, not an unknown code).
//! Nothing here sends a request.

use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode, Url};
use serde_json::Value;

use super::body::{MAX_ANSWER, read_capped};
use super::http::{Answer, host_of};
use crate::error::{Error, Kind, Result};

/// Reads an answer's body (at most 16 MiB) as JSON, turning any non-2xx
/// answer (JSON, FastAPI `detail`, HTML, a redirect) into a typed error.
pub async fn read_json(response: Response) -> Result<Value> {
    let (status, headers, url) = (
        response.status(),
        response.headers().clone(),
        response.url().clone(),
    );
    // The caller's own timeout bounds the whole read.
    let body = read_capped(response, MAX_ANSWER, Duration::from_secs(3600))
        .await
        .map_err(|e| e.into_error())?;
    decode(Answer {
        status,
        headers,
        url,
        body,
    })
}

/// A whole answer as JSON, or the typed error it stands for.
pub fn decode(answer: Answer) -> Result<Value> {
    let Answer {
        status,
        headers,
        url,
        body,
    } = answer;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if status.is_redirection() {
        return Err(redirect_error(status, &headers, &url));
    }
    // RFC 8259 §8.1: a parser may ignore a byte-order mark; some gateways
    // (.NET, PowerShell) write one.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&body);
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(body);
    if !status.is_success() {
        return Err(status_error(status, parsed.as_ref().ok()));
    }
    match parsed {
        Ok(value) => Ok(value),
        Err(e) if is_json || body.first().is_some_and(|b| matches!(b, b'{' | b'[')) => Err(
            Error::bad_answer(format!("{} sent JSON that cannot be read", host_of(&url)))
                .with_source(e),
        ),
        Err(_) if body.is_empty() => Err(Error::bad_answer(format!(
            "{} answered HTTP {} with an empty body where JSON was expected",
            host_of(&url),
            status.as_u16()
        ))),
        Err(_) => Err(Error::bad_answer(format!(
            "{} answered HTTP {} with something that is not JSON",
            host_of(&url),
            status.as_u16()
        ))),
    }
}

/// The API answered a redirect: never followed, since the token would go
/// with it (the client follows none; downloads follow theirs by hand).
fn redirect_error(status: StatusCode, headers: &HeaderMap, url: &Url) -> Error {
    let target = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| url.join(l).ok());
    let message = match target {
        Some(to) => format!(
            "the API at {} redirected to {} (HTTP {}); nemo does not follow a redirect with the token",
            host_of(url),
            host_of(&to),
            status.as_u16()
        ),
        None => format!(
            "the API at {} answered a redirect (HTTP {}); nemo does not follow a redirect with the token",
            host_of(url),
            status.as_u16()
        ),
    };
    Error::new(Kind::Network, message)
        .with_status(status.as_u16())
        .with_hint(
            "check the API URL (--api-url, NEMO_API_URL): it should be the API's own address",
        )
}

/// The API codes that refine a 4xx status (`api.md` "Error codes"; 1010
/// and 1011 are how NemoVideo's other gateway says 1001).
const REFINING: [i64; 7] = [1001, 1010, 1011, 1002, 2001, 4001, 4002];

/// The error for a non-2xx answer. The status decides the kind; a known
/// API code in the body of a 4xx (other than 402 and 429) says which
/// client error it is.
pub fn status_error(status: StatusCode, body: Option<&Value>) -> Error {
    let s = status.as_u16();
    let message = body.and_then(message_of);
    let body_code = body
        .and_then(|b| b.get("code"))
        .and_then(Value::as_i64)
        .filter(|c| *c != 0 && *c != i64::from(s));
    if (400..500).contains(&s)
        && !matches!(s, 402 | 429)
        && let Some(code) = body_code.filter(|c| REFINING.contains(c))
        && let Err(err) = code_error(code, message.clone())
    {
        return err.with_status(s);
    }
    let err = match s {
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
                s,
                status
                    .canonical_reason()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            ),
        ),
        s => {
            let err = Error::new(
                Kind::Http,
                match message {
                    Some(m) => format!("the server refused the request (HTTP {s}): {m}"),
                    None => format!("the server refused the request (HTTP {s})"),
                },
            );
            match body_code {
                Some(code) => err.with_api_code(code),
                None => err,
            }
        }
    };
    err.with_status(s)
}

/// A short, single-line, control-free message from a JSON error body.
pub(super) fn message_of(body: &Value) -> Option<String> {
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
        // 1010 and 1011: NemoVideo's other gateway rejecting a key, inside
        // an HTTP 200 too (`../shared/spec/cli.md` "Retries").
        code @ (1001 | 1010 | 1011) => Error::new(
            Kind::TokenRejected,
            "the token was rejected (bad or expired)",
        )
        .with_api_code(code),
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
        // NemoVideo's other gateway: a bad key is 1010 or 1011, even in a 200.
        for code in [1010, 1011] {
            let e = unwrap_envelope(json!({"code":code,"message":"invalid api key"})).unwrap_err();
            assert!(
                e.is(Kind::TokenRejected) && e.exit_code() == 3,
                "{code}: {e:?}"
            );
            let e = status_error(StatusCode::FORBIDDEN, Some(&json!({"code":code})));
            assert!(e.is(Kind::TokenRejected), "{code}: {e:?}");
        }
        assert!(
            unwrap_envelope(json!({"success":false,"error":"dup"})).is_err_and(|e| e.is(Kind::Api))
        );
        assert!(unwrap_envelope(json!({"code":0})).is_err_and(|e| e.is(Kind::BadAnswer)));
    }

    #[test]
    fn status_errors_with_codes() {
        let detail = json!({"detail":"Session not found: 12"});
        assert!(status_error(StatusCode::NOT_FOUND, Some(&detail)).is(Kind::SessionNotFound));
        assert!(status_error(StatusCode::PAYMENT_REQUIRED, None).is(Kind::Plan));
        let e = status_error(StatusCode::BAD_GATEWAY, None);
        assert!(e.is(Kind::Server) && e.status() == Some(502));
        let coded = json!({"code":2001,"message":"no credits"});
        assert!(status_error(StatusCode::FORBIDDEN, Some(&coded)).is(Kind::NoCredits));
    }

    /// Issue 9 #5: the emulator's own 429 body `{"code":429}` gave exit 1
    /// ("the server answered code 429"): the status decides the kind.
    #[test]
    fn the_status_wins_over_a_body_code_that_repeats_it() {
        let e = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&json!({"code":429,"message":"Too many requests"})),
        );
        assert!(e.is(Kind::RateLimited), "{e:?}");
        assert_eq!(e.exit_code(), 6);
        // Even a code that would mean something else on a 4xx.
        let e = status_error(StatusCode::TOO_MANY_REQUESTS, Some(&json!({"code":1001})));
        assert!(e.is(Kind::RateLimited));
        let e = status_error(StatusCode::BAD_GATEWAY, Some(&json!({"code":502})));
        assert!(e.is(Kind::Server));
        let e = status_error(StatusCode::SERVICE_UNAVAILABLE, Some(&json!({"code":7777})));
        assert!(e.is(Kind::Server));
        let e = status_error(StatusCode::PAYMENT_REQUIRED, Some(&json!({"code":402})));
        assert!(e.is(Kind::Plan));
        let e = status_error(StatusCode::UNAUTHORIZED, Some(&json!({"code":401})));
        assert!(e.is(Kind::TokenRejected));
        let e = status_error(StatusCode::NOT_FOUND, Some(&json!({"code":1002})));
        assert!(e.is(Kind::SessionNotFound));
        let e = status_error(
            StatusCode::CONFLICT,
            Some(&json!({"code":9999,"message":"dup"})),
        );
        assert!(e.is(Kind::Http) && e.api_code() == Some(9999));
    }
}

#[cfg(test)]
mod props;
