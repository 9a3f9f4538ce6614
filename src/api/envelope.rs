//! What an answer means: the two envelopes of `api.md` (`{code,message,data}`
//! and `{success,data,error}`), the API error codes, and non-2xx answers
//! (JSON, FastAPI `detail`, HTML) — each mapped to a typed [`Error`].
//! Nothing here sends a request.

use reqwest::header;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::http::network_error;
use crate::error::{Error, Kind, Result};

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
}
