//! The renders this config recorded: added as soon as the server accepted
//! one (so `nemo export resume` can always pick it up), updated at each
//! status change, and listed by `nemo export list`.
//!
//! It must not talk to the server: statuses come from the callers.

use serde::Serialize;

use std::path::Path;

use super::target::absolute;
use crate::config::RenderRecord;
use crate::context::Context;
use crate::error::Result;
use crate::report::{Report, Text};

/// Renders kept in the config; the oldest are forgotten first.
const MAX_RECORDS: usize = 500;

/// Records a render the server just accepted. A config that cannot be
/// written is an error here (the render cannot be resumed otherwise).
pub(super) fn add(
    ctx: &Context,
    id: &str,
    session: &str,
    format: &str,
    quality: &str,
    path: &Path,
    status: &str,
) -> Result<()> {
    let now = crate::time::now_rfc3339();
    let record = RenderRecord {
        render_id: id.to_string(),
        session_id: session.to_string(),
        format: format.to_string(),
        quality: Some(quality.to_string()),
        output: Some(absolute(path)),
        started_at: now.clone(),
        status: status.to_string(),
        progress: None,
        updated_at: Some(now),
        url: None,
        bytes: None,
        error: None,
        extra: Default::default(),
    };
    ctx.store
        .update(|config| {
            config.renders.retain(|r| r.render_id != record.render_id);
            config.renders.push(record.clone());
            if config.renders.len() > MAX_RECORDS {
                let extra = config.renders.len() - MAX_RECORDS;
                config.renders.drain(..extra);
            }
            Ok(())
        })
        .map_err(|err| {
            ctx.printer
                .warn(format!("render {id} was submitted but cannot be recorded"));
            err.with_hint(super::resume_hint(id))
        })?;
    Ok(())
}

/// Changes the recorded render `id`, if this config recorded it. A config
/// that cannot be written is warned about, not fatal: the render goes on.
pub(super) fn note(ctx: &Context, id: &str, change: impl FnOnce(&mut RenderRecord)) {
    match ctx.store.load() {
        Ok(config) if config.render(id).is_none() => return,
        _ => {}
    }
    let result = ctx.store.update(|config| {
        if let Some(record) = config.render_mut(id) {
            change(record);
            record.updated_at = Some(crate::time::now_rfc3339());
        }
        Ok(())
    });
    if let Err(err) = result {
        ctx.printer
            .warn(format!("cannot record the status of render {id}: {err}"));
    }
}

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

pub(super) fn list(ctx: &Context) -> Result<()> {
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
