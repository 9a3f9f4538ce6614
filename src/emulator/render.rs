//! Emulated render endpoints and CDN (being written; see the export issue).

use axum::Router;
use serde::{Deserialize, Serialize};

use super::App;

/// Fault switches of renders (flattened into [`super::Faults`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderFaults {}

/// A render job.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Render {}

/// Routes on the API listener.
pub fn routes() -> Router<App> {
    Router::new()
}

/// Routes on the CDN listener.
pub fn cdn_routes() -> Router<App> {
    Router::new()
}
