//! Sessions: `POST /api/tasks/me/with-session/nemo_agent` and the claim link
//! `POST /api/auth/claim-token`.

use reqwest::Method;
use serde::Deserialize;
use serde_json::json;

use super::{ApiClient, Retry};
use crate::error::Result;

#[derive(Debug, Clone, Deserialize)]
pub struct NewSession {
    #[serde(deserialize_with = "id_string")]
    pub session_id: String,
    #[serde(default, deserialize_with = "opt_id_string")]
    pub task_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClaimToken {
    pub claim_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Ids are documented as strings; accept numbers too.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

fn opt_id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(s) => Ok(Some(s)),
        serde_json::Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

impl ApiClient {
    pub async fn create_session(&self, name: &str, language: &str) -> Result<NewSession> {
        let body = json!({ "task_name": name, "language": language });
        self.authed(|| {
            self.call(Retry::Write, || {
                Ok(self
                    .request(Method::POST, "/api/tasks/me/with-session/nemo_agent", true)?
                    .json(&body))
            })
        })
        .await
    }

    pub async fn claim_token(&self, task_id: &str, session_id: &str) -> Result<ClaimToken> {
        let body = json!({ "task_id": task_id, "session_id": session_id });
        self.authed(|| {
            self.call(Retry::Write, || {
                Ok(self
                    .request(Method::POST, "/api/auth/claim-token", true)?
                    .json(&body))
            })
        })
        .await
    }
}
