//! `POST /api/auth/anonymous-token`: a free starter token for a client id.

use reqwest::Method;
use serde::Deserialize;

use serde_json::Value;

use super::envelope::message_of;
use super::{ApiClient, Retry, decode, unwrap_envelope};
use crate::error::{Error, Kind, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct AnonymousToken {
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    /// Printed by `auth login/status`: its controls are removed here.
    #[serde(default, deserialize_with = "crate::sanitize::opt_clean")]
    pub user_id: Option<String>,
    #[serde(default, deserialize_with = "crate::sanitize::opt_clean")]
    pub expires_at: Option<String>,
    #[serde(default, deserialize_with = "crate::number::opt_lenient_i64")]
    pub credits: Option<i64>,
}

fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

/// What happened to an anonymous-token request.
#[derive(Debug)]
pub enum AnonymousOutcome {
    Issued(AnonymousToken),
    /// HTTP 400: the server did not take the `X-Client-Id`.
    BadClientId,
}

impl ApiClient {
    /// Asks for an anonymous token (no bearer, no body).
    pub async fn anonymous_token(&self, client_id: &str) -> Result<AnonymousOutcome> {
        let answer = self
            .fetch(Retry::Write, || {
                Ok(self
                    .request(Method::POST, "/api/auth/anonymous-token", false)?
                    .header("X-Client-Id", client_id))
            })
            .await?;
        if answer.status == reqwest::StatusCode::BAD_REQUEST {
            return Ok(AnonymousOutcome::BadClientId);
        }
        if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let said = serde_json::from_slice::<Value>(&answer.body)
                .ok()
                .and_then(|v| message_of(&v));
            return Err(free_token_refused(said));
        }
        let data = unwrap_envelope(decode(answer)?)?;
        let token: AnonymousToken = serde_json::from_value(data).map_err(|e| {
            Error::bad_answer("the anonymous-token answer is not in the documented form")
                .with_source(e)
        })?;
        if token.token.expose().trim().is_empty() {
            return Err(Error::bad_answer("the server sent an empty token"));
        }
        Ok(AnonymousOutcome::Issued(token))
    }
}

/// What [`free_token_refused`] says when the server refused this client id
/// (not a limit per address).
const PER_CLIENT_ID: &str =
    "the server gives one free token per client id every 7 days, and this one had its token";

/// Whether `err` is the server refusing this client id a free token.
pub(crate) fn refused_per_client_id(err: &Error) -> bool {
    err.is(Kind::RateLimited) && err.message() == PER_CLIENT_ID
}

/// HTTP 429 on the anonymous-token call, still after the one retry. Only
/// when the server says the limit is per client id does nemo say this id
/// had its token (a first login can meet a plain rate limit too).
fn free_token_refused(said: Option<String>) -> Error {
    let per_client = said
        .as_deref()
        .is_some_and(|m| m.to_ascii_lowercase().contains("client"));
    let hint = "log in with a registered token: `nemo auth login --with-token < token.txt`";
    if per_client {
        return Error::new(Kind::RateLimited, PER_CLIENT_ID)
            .with_hint(hint)
            .with_status(429);
    }
    let message = match said {
        Some(m) => format!("the server refused a free token for now (HTTP 429): {m}"),
        None => "the server refused a free token for now (HTTP 429)".to_string(),
    };
    Error::new(Kind::RateLimited, message)
        .with_hint(format!("wait a while and try again, or {hint}"))
        .with_status(429)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_per_client_refusal_says_this_client_id_had_its_token() {
        let own = free_token_refused(Some("One free token per client every 7 days".into()));
        assert!(own.is(Kind::RateLimited));
        assert!(refused_per_client_id(&own));
        let address = free_token_refused(Some("Too many free tokens from this address".into()));
        assert!(!refused_per_client_id(&address));
        assert!(own.message().contains("this one had its token"));
        for said in [Some("Too many requests".to_string()), None] {
            let plain = free_token_refused(said);
            assert!(plain.is(Kind::RateLimited));
            assert!(!plain.message().contains("had its token"), "{plain}");
            assert!(
                plain
                    .message()
                    .starts_with("the server refused a free token for now (HTTP 429)")
            );
        }
    }
}
