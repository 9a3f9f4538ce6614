//! Sessions: `POST /api/tasks/me/with-session/nemo_agent` and the claim link
//! `POST /api/auth/claim-token`.
//!
//! The new session's ids are checked where they are read ([`crate::ids`]):
//! a session id that breaks the id rule is an unreadable answer (exit 9),
//! so it is never stored as current nor sent; a numeric one keeps its
//! exact digits.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{ApiClient, Retry, check_envelope, decode};
use crate::error::Result;
use crate::ids::{data_of, id, opt_id};

#[derive(Debug, Clone, Deserialize)]
pub struct NewSession {
    #[serde(deserialize_with = "id")]
    pub session_id: String,
    #[serde(default, deserialize_with = "opt_id")]
    pub task_id: Option<String>,
    #[serde(default, deserialize_with = "crate::sanitize::opt_clean")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClaimToken {
    pub claim_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl ApiClient {
    pub async fn create_session(&self, name: &str, language: &str) -> Result<NewSession> {
        let body = json!({ "task_name": name, "language": language });
        self.signed_in(|| async {
            let answer = self
                .fetch(Retry::Write, || {
                    Ok(self
                        .request(Method::POST, "/api/tasks/me/with-session/nemo_agent", true)?
                        .json(&body))
                })
                .await?;
            let bytes = answer.body.clone();
            check_envelope(&decode(answer)?)?;
            data_of(&bytes, "the new session's answer")
        })
        .await
    }

    pub async fn claim_token(&self, task_id: &str, session_id: &str) -> Result<ClaimToken> {
        let body = json!({ "task_id": task_id, "session_id": session_id });
        self.signed_in(|| {
            self.call(Retry::Write, || {
                Ok(self
                    .request(Method::POST, "/api/auth/claim-token", true)?
                    .json(&body))
            })
        })
        .await
    }
}
