//! Emulated agent: `POST /run_sse` (being written; see the chat issue).

use axum::Router;
use serde::{Deserialize, Serialize};

use super::App;

/// Fault switches of the agent (flattened into [`super::Faults`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatFaults {}

pub fn routes() -> Router<App> {
    Router::new()
}
