//! What `nemo-cli.json` holds: the token, the current and known sessions,
//! the recorded renders, and the bound that keeps the file small. Unknown
//! fields are kept on rewrite. It must not touch files (the store does).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// Renders kept in the config; the oldest are forgotten first.
pub const MAX_RENDERS: usize = 500;
/// Sessions kept in the config; the oldest are forgotten first, never the
/// current one.
pub const MAX_SESSIONS: usize = 200;

/// What `nemo-cli.json` holds. Unknown fields are kept on rewrite.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<StoredToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_session: Option<String>,
    #[serde(default)]
    pub sessions: Vec<SessionRecord>,
    #[serde(default)]
    pub renders: Vec<RenderRecord>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A token this CLI stored (anonymous, or given with `--with-token`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredToken {
    #[serde(with = "secret_string")]
    pub value: Secret,
    pub anonymous: bool,
    #[serde(default)]
    pub user_id: Option<String>,
    /// RFC 3339, as the server gave it.
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A session this config knows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionRecord {
    pub session_id: String,
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A render started by `nemo export` (or generate), recorded before its
/// submit is sent (status `submitting` until the server answers).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RenderRecord {
    pub render_id: String,
    pub session_id: String,
    pub format: String,
    #[serde(default)]
    pub quality: Option<String>,
    /// The path the file goes to; `None` until known (default name).
    #[serde(default)]
    pub output: Option<String>,
    pub started_at: String,
    pub status: String,
    #[serde(default)]
    pub progress: Option<u8>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    /// Size of the downloaded file, once it is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The server's reason, when the render failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

mod secret_string {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

impl Config {
    pub fn session(&self, id: &str) -> Option<&SessionRecord> {
        self.sessions.iter().find(|s| s.session_id == id)
    }

    /// Adds or refreshes a known session (fields not given are kept).
    pub fn remember_session(&mut self, record: SessionRecord) {
        match self
            .sessions
            .iter_mut()
            .find(|s| s.session_id == record.session_id)
        {
            Some(known) => {
                if record.task_id.is_some() {
                    known.task_id = record.task_id;
                }
                if record.name.is_some() {
                    known.name = record.name;
                }
                if record.language.is_some() {
                    known.language = record.language;
                }
                if record.created_at.is_some() {
                    known.created_at = record.created_at;
                }
            }
            None => self.sessions.push(record),
        }
    }

    /// Forgets the oldest renders and sessions beyond the bounds (never
    /// the current session).
    pub fn bound(&mut self) {
        if self.renders.len() > MAX_RENDERS {
            let extra = self.renders.len() - MAX_RENDERS;
            self.renders.drain(..extra);
        }
        let mut extra = self.sessions.len().saturating_sub(MAX_SESSIONS);
        if extra > 0 {
            let current = self.current_session.clone();
            self.sessions.retain(|s| {
                if extra > 0 && current.as_deref() != Some(s.session_id.as_str()) {
                    extra -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }

    pub fn render(&self, id: &str) -> Option<&RenderRecord> {
        self.renders.iter().find(|r| r.render_id == id)
    }

    pub fn render_mut(&mut self, id: &str) -> Option<&mut RenderRecord> {
        self.renders.iter_mut().find(|r| r.render_id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_keeps_the_newest_and_the_current_session() {
        let mut config = Config::default();
        let session = |id: usize| SessionRecord {
            session_id: id.to_string(),
            task_id: None,
            name: None,
            language: None,
            created_at: None,
            extra: Map::new(),
        };
        config.sessions = (0..MAX_SESSIONS + 5).map(session).collect();
        config.current_session = Some("2".into());
        config.bound();
        assert_eq!(config.sessions.len(), MAX_SESSIONS);
        let ids: Vec<&str> = config
            .sessions
            .iter()
            .map(|s| s.session_id.as_str())
            .collect();
        assert_eq!(&ids[..3], ["2", "6", "7"]);
    }
}
