//! The renders this config recorded: added before the submit is sent (so
//! `nemo export resume` can always pick up a render the server may have
//! taken), updated at each status change, removed when the server surely
//! never took it.
//!
//! It must not talk to the server: statuses come from the callers.

use std::path::Path;

use super::target::absolute;
use crate::config::RenderRecord;
use crate::context::Context;
use crate::error::Result;

/// Records a render about to be submitted, with `status` (`submitting`):
/// the write ahead. False when another process of this config recorded the
/// same id meanwhile (ids are unique within a process only): the caller
/// takes another. A config that cannot be written is an error here, and
/// nothing is submitted (the render could not be resumed otherwise).
pub(super) fn add(
    ctx: &Context,
    id: &str,
    session: &str,
    format: &str,
    quality: &str,
    path: &Path,
    status: &str,
) -> Result<bool> {
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
    // The config keeps the most recent renders only (`Config::bound`).
    ctx.store
        .update(|config| {
            if config.render(&record.render_id).is_some() {
                return Ok(false);
            }
            config.renders.push(record.clone());
            Ok(true)
        })
        .map_err(|err| {
            err.with_hint(format!(
                "nothing was submitted: render {id} could not be recorded first"
            ))
        })
}

/// Forgets render `id`: the server surely never took it (it refused the
/// submit, or does not know the id).
pub(super) fn forget(ctx: &Context, id: &str) {
    let result = ctx.store.update(|config| {
        config.renders.retain(|r| r.render_id != id);
        Ok(())
    });
    if let Err(err) = result {
        ctx.printer
            .warn(format!("cannot remove render {id} from the config: {err}"));
    }
}

/// Changes the recorded render `id`, if this config recorded it. A config
/// that cannot be written is warned about, not fatal: the render goes on.
pub(crate) fn note(ctx: &Context, id: &str, change: impl FnOnce(&mut RenderRecord)) {
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
