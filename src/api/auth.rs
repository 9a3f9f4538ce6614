//! `POST /api/auth/anonymous-token`: a free starter token for a client id.

use reqwest::Method;
use serde::Deserialize;

use super::{ApiClient, Retry, read_json, unwrap_envelope};
use crate::error::{Error, Kind, Result};
use crate::secret::Secret;

#[derive(Debug, Clone, Deserialize)]
pub struct AnonymousToken {
    #[serde(deserialize_with = "secret")]
    pub token: Secret,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
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
        let response = self
            .send(
                Retry::Write,
                Some(std::time::Duration::from_secs(60)),
                || {
                    Ok(self
                        .request(Method::POST, "/api/auth/anonymous-token", false)?
                        .header("X-Client-Id", client_id))
                },
            )
            .await?;
        if response.status() == reqwest::StatusCode::BAD_REQUEST {
            return Ok(AnonymousOutcome::BadClientId);
        }
        let rate_limited = response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS;
        let value = read_json(response).await.map_err(|err| {
            if rate_limited {
                Error::new(Kind::RateLimited, "the server gives one free token per client id every 7 days, and this one had its token").with_hint("log in with a registered token: `nemo auth login --with-token < token.txt`")
            } else {
                err
            }
        })?;
        let data = unwrap_envelope(value)?;
        let token: AnonymousToken = serde_json::from_value(data).map_err(|e| {
            Error::bad_answer(format!("the anonymous-token answer cannot be read: {e}"))
        })?;
        if token.token.expose().trim().is_empty() {
            return Err(Error::bad_answer("the server sent an empty token"));
        }
        Ok(AnonymousOutcome::Issued(token))
    }
}
