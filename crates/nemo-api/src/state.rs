//! `GET /api/state/nemo_agent/me/<sid>/latest`: a session's draft and media.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{ApiClient, Retry, segment};
use crate::error::Result;

/// The state answer's `data`; `state` is kept as the server sent it.
#[derive(Debug, Clone, Deserialize)]
pub struct SessionState {
    #[serde(default)]
    pub session_id: Option<Value>,
    #[serde(default)]
    pub task_id: Option<Value>,
    #[serde(default)]
    pub task_name: Option<String>,
    #[serde(default)]
    pub state: Value,
}

impl SessionState {
    pub fn task_id(&self) -> Option<String> {
        match &self.task_id {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

impl ApiClient {
    pub async fn state(&self, session_id: &str) -> Result<SessionState> {
        let path = format!("/api/state/nemo_agent/me/{}/latest", segment(session_id));
        self.authed(|| self.call(Retry::Read, || self.request(Method::GET, &path, true)))
            .await
    }
}
