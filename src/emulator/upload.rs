//! Emulated upload endpoint (being written; see the upload issue).

use axum::Router;
use serde::{Deserialize, Serialize};

use super::App;

/// Fault switches of uploads (flattened into [`super::Faults`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadFaults {}

/// A file the emulator received.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadRecord {}

pub fn routes() -> Router<App> {
    Router::new()
}
