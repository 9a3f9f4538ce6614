//! The emulator's whole state as data: accounts, tokens, sessions, claims,
//! uploads, renders, the agent's work under way, the fault switches, and
//! the requests received. One serde-serialisable [`EmuState`], so `--sandbox`
//! can keep it in a file between runs; plus the clock helpers every part
//! reads time through. No HTTP here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::Faults;
use crate::{agent, render, upload};

/// Seven days, the life of an anonymous token and its client id's rate limit.
pub const TOKEN_LIFETIME_SECS: u64 = 7 * 24 * 3600;
pub const FREE_CREDITS: i64 = 100;

/// Everything the emulator knows. Serialisable so `--sandbox` can persist it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EmuState {
    /// Counter behind every id the emulator makes.
    pub seq: u64,
    pub users: BTreeMap<String, User>,
    pub tokens: BTreeMap<String, TokenRecord>,
    /// Client id → the anonymous user it belongs to and when it last got a token.
    pub client_ids: BTreeMap<String, ClientRecord>,
    /// Tokens issued per caller IP (the documented "about 10 per IP per 7 days").
    pub ip_issues: BTreeMap<String, Vec<u64>>,
    pub sessions: BTreeMap<String, Session>,
    pub claims: BTreeMap<String, Claim>,
    /// Files received by the upload endpoint.
    pub uploads: Vec<upload::UploadRecord>,
    /// Render jobs by id.
    pub renders: BTreeMap<String, render::Render>,
    /// Messages the agent received and edits it has under way.
    pub chat: agent::ChatState,
    pub faults: Faults,
    /// The faults file in force (`crate::scenario`), to tell a new one.
    pub scenario: Option<Value>,
    /// Renders accepted since the scenario started (`render_fail_on`).
    pub render_submits: u64,
    /// The balance new anonymous users start with, when
    /// `POST /_sandbox/credits` set one (else [`FREE_CREDITS`]).
    pub new_user_credits: Option<i64>,
    /// Requests received, oldest first (not persisted).
    #[serde(skip)]
    pub requests: Vec<RecordedRequest>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub anonymous: bool,
    pub available: i64,
    pub frozen: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    pub user_id: String,
    /// Unix seconds.
    pub expires_at: u64,
    #[serde(default)]
    pub client_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRecord {
    pub user_id: String,
    /// Unix seconds of the last token issued to this client id.
    pub issued_at: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub session_id: String,
    pub task_id: String,
    pub user_id: String,
    pub task_name: String,
    pub language: String,
    /// Unix seconds.
    pub created_at: u64,
    /// The `state` object of the state endpoint: `draft`, `video_infos`,
    /// `generated_media`, `canvas_config`, `video_analyses`.
    pub state: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claim {
    pub task_id: String,
    pub session_id: String,
    pub user_id: String,
}

/// One request as the emulator saw it.
#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lowercase names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// `api` or `cdn`.
    pub listener: &'static str,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

pub fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// Unix seconds as the answers write times (`spec::rfc3339_utc`).
pub fn rfc3339(secs: u64) -> String {
    crate::spec::rfc3339_utc(secs)
}

impl EmuState {
    /// A fresh id number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// A numeric session id like the service's (a 19-digit string).
    pub fn new_session_id(&mut self) -> String {
        let n = self.next_seq();
        format!("55297987060{:08}", n % 100_000_000)
    }

    /// A token string like the service's.
    pub fn new_token(&mut self) -> String {
        format!("nmv_usr_{}", uuid::Uuid::new_v4().simple())
    }

    /// Adds a registered user and a token for it, for `--with-token` tests.
    pub fn add_registered_user(&mut self, token: &str, credits: i64) -> String {
        let user_id = format!("usr_{}", self.next_seq());
        self.users.insert(
            user_id.clone(),
            User {
                user_id: user_id.clone(),
                anonymous: false,
                available: credits,
                frozen: 0,
            },
        );
        self.tokens.insert(
            token.to_string(),
            TokenRecord {
                user_id: user_id.clone(),
                expires_at: now_secs() + 365 * 86_400,
                client_id: None,
            },
        );
        user_id
    }

    /// Makes every token issued so far expire now (1001 on next use).
    pub fn expire_all_tokens(&mut self) {
        let past = now_secs().saturating_sub(1);
        for token in self.tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// Forgets every session (1002 on next use).
    pub fn lose_all_sessions(&mut self) {
        self.sessions.clear();
    }

    /// Reads a state file; a missing file is a fresh state.
    pub fn load(path: &Path) -> std::io::Result<EmuState> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(EmuState::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes the state file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        write_atomically(path, &bytes)
    }

    /// The balance a new anonymous user starts with: the free credits,
    /// unless `POST /_sandbox/credits` set another.
    pub fn starting_credits(&self) -> i64 {
        self.new_user_credits.unwrap_or(FREE_CREDITS)
    }
}

/// Writes `bytes` to `path` whole or not at all (temp file, fsync, rename),
/// so a process killed meanwhile leaves the old file or the new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
