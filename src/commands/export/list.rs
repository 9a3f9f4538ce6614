//! `nemo export list`: the renders this config recorded, with their last
//! known status (the records are [`crate::flow::render`]'s).
//!
//! It must not talk to the server.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::report::{Report, Text};

/// A row of `export list --json`.
#[derive(Debug, Serialize)]
struct ListRow<'a> {
    render_id: &'a str,
    session_id: &'a str,
    status: &'a str,
    progress: Option<u8>,
    format: &'a str,
    quality: Option<&'a str>,
    path: Option<&'a str>,
    url: Option<&'a str>,
    bytes: Option<u64>,
    error: Option<&'a str>,
    started_at: &'a str,
    updated_at: Option<&'a str>,
}

/// `export list`: the rows as JSON, or a line per render.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct RenderList<'a>(Vec<ListRow<'a>>);

impl Report for RenderList<'_> {
    fn human(&self, text: &mut Text) {
        if self.0.is_empty() {
            text.status("No renders recorded yet; start one with `nemo export`");
        }
        for r in &self.0 {
            // The same word as the JSON's `status`; the path says it was saved.
            let status = crate::sanitize::strip_controls(r.status);
            text.line(format!(
                "{}  {:<11}  {}  session {}  {}",
                r.render_id,
                status,
                r.started_at,
                r.session_id,
                r.path.unwrap_or("-")
            ));
        }
    }
}

pub(super) fn run(ctx: &Context) -> Result<()> {
    let config = ctx.store.load()?;
    let rows: Vec<ListRow> = config
        .renders
        .iter()
        .map(|r| ListRow {
            render_id: &r.render_id,
            session_id: &r.session_id,
            status: &r.status,
            progress: r.progress,
            format: &r.format,
            quality: r.quality.as_deref(),
            path: r.output.as_deref(),
            url: r.url.as_deref(),
            bytes: r.bytes,
            error: r.error.as_deref(),
            started_at: &r.started_at,
            updated_at: r.updated_at.as_deref(),
        })
        .collect();
    ctx.printer.report(&RenderList(rows))
}
