//! `GET /api/state/nemo_agent/me/<sid>/latest`: a session's draft and media.
//!
//! The ids in the answer are only kept when they satisfy the id rule (a
//! numeric one with its exact digits, [`crate::ids`]); the task name has
//! its controls removed. The `state` object is kept as the server sent it.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiClient, Retry, check_envelope, decode, segment};
use crate::error::Result;
use crate::ids::{data_of, informative_id};

/// The state answer's `data`; `state` is kept as the server sent it.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionState {
    #[serde(default, deserialize_with = "informative_id")]
    pub session_id: Option<String>,
    #[serde(default, deserialize_with = "informative_id")]
    pub task_id: Option<String>,
    #[serde(default, deserialize_with = "crate::sanitize::opt_clean")]
    pub task_name: Option<String>,
    #[serde(default)]
    pub state: Value,
}

impl SessionState {
    /// The task id, when the server gave one that satisfies the id rule.
    pub fn task_id(&self) -> Option<String> {
        self.task_id.clone()
    }
}

impl ApiClient {
    pub async fn state(&self, session_id: &str) -> Result<SessionState> {
        let path = format!("/api/state/nemo_agent/me/{}/latest", segment(session_id));
        self.signed_in(|| async {
            let answer = self
                .fetch(Retry::Read, || self.request(Method::GET, &path, true))
                .await?;
            let bytes = answer.body.clone();
            check_envelope(&decode(answer)?)?;
            data_of(&bytes, "the session state answer")
        })
        .await
    }
}
