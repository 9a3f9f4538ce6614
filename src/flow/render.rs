//! The render job: from a session's draft to a file on disk, written ahead
//! so that a render the server may have taken is never lost and never paid
//! for twice (`../shared/spec/cli.md` "nemo export", "Retries").
//!
//! The surface, used by `export`, `generate` and `batch`:
//! - [`Target`], [`check`]: the local checks made
//!   before anything remote (the options; the output path is free unless
//!   `--force`, its folder exists and takes a real write; a warning when
//!   its extension names another format); [`check_output`] alone is the
//!   path check, made again before each id and each download, and
//!   [`probe_folder`]/[`probe_dir`] alone the write check (a job resumed
//!   into a path of its own, the folders of a batch);
//! - [`session`]: the session to render (exit 10 when there is none — a
//!   render never creates one);
//! - [`submit`]: reads the draft (exit 7 when empty), records the render id
//!   in the config **before** sending the submit, and when the answer is
//!   lost polls that id before ever submitting again; returns the recorded
//!   render ([`Submitted`]);
//! - [`known`]: whether the server knows a render id (its status), the
//!   question to ask before ever submitting again;
//! - [`wait`]: polls a render until it is done ([`Wait`] says how);
//! - [`fetch`]: waits, then downloads to a path under the `.part`/lock/
//!   rename policy of [`crate::flow::download`] and records the result;
//! - [`resume`]: picks up a recorded render by polling it — never by a new
//!   submit while it may still finish (what `export resume` and a re-run of
//!   `batch` need);
//! - [`latest`], [`saved`], [`resume_hint`]: what the config recorded.
//!
//! It must not print a command's result (the commands report).

mod records;
mod submit;
mod target;
mod wait;

use std::path::Path;

use crate::config::RenderRecord;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
pub(crate) use crate::flow::download::Downloaded;
use crate::flow::download::fetch as download;
use records::forget;
pub(crate) use records::note;
pub(crate) use submit::{Submitted, known, new_render_id, submit};
pub(crate) use target::{Target, absolute, check_output, file_name, probe_dir, probe_folder};
pub(crate) use wait::{Observer, Wait, wait};

use crate::api::render::RenderState;

/// The local checks of a render to `target`, before anything remote: the
/// path (as it will be for the first id) is free unless `force`, its folder
/// takes a real write (exit 7 naming it), and an extension that names
/// another format than `format` is warned about.
pub(crate) fn check(ctx: &Context, target: &Target, format: &str, force: bool) -> Result<()> {
    let first = target.path_for(&new_render_id(None), format);
    check_output(&first, force)?;
    target::probe_folder(&first)?;
    if let Some(warning) = target::extension_disagrees(&first, format) {
        ctx.printer.warn(warning);
    }
    Ok(())
}

/// What to say when a render goes on without this process.
pub(crate) fn resume_hint(id: &str) -> String {
    format!("the render goes on in the cloud; run `nemo export resume {id}` to download it")
}

/// The session a render is made from: `--session`/`NEMO_SESSION`, else
/// the config's current one. A render never creates a session (an empty
/// new session would have nothing to render): none is exit 10.
pub(crate) fn session(ctx: &Context) -> Result<String> {
    ctx.current_session()?.ok_or_else(|| {
        Error::new(Kind::NoSession, "no current session: there is nothing to export").with_hint(
            "make something first, e.g. `nemo chat \"make a 10-second video of a panda\"`, or pick a session with `nemo session use ID`",
        )
    })
}

/// The latest render this config recorded.
pub(crate) fn latest(ctx: &Context) -> Result<Option<RenderRecord>> {
    Ok(ctx.store.load()?.renders.last().cloned())
}

/// Where render `record` was saved, when the file is still there as it was
/// saved (its recorded size).
pub(crate) fn saved(record: &RenderRecord) -> Option<&str> {
    let path = record.output.as_deref()?;
    let bytes = record.bytes?;
    let done = RenderState::parse(&record.status) == RenderState::Completed;
    let there = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes);
    (done && there).then_some(path)
}

/// Waits for render `id`, downloads it to `path` and records it as
/// downloaded. With `keep_part`, a `.part` of this render is continued.
pub(crate) async fn fetch(
    ctx: &Context,
    id: &str,
    path: &Path,
    force: bool,
    keep_part: bool,
    wait: &Wait,
) -> Result<Downloaded> {
    let started = std::time::Instant::now();
    let status = self::wait(ctx, id, wait).await?;
    let done = download(
        ctx,
        id,
        status.output_url.as_deref(),
        status.size,
        path,
        force,
        keep_part,
        wait.download_within(started),
    )
    .await
    .inspect_err(|_| {
        ctx.printer.status(format!(
            "Render {id} is done; download it again with `nemo export resume {id}`"
        ));
    })?;
    note(ctx, id, |r| {
        r.status = RenderState::Completed.name().into();
        r.progress = Some(100);
        r.url = Some(done.url.clone());
        r.bytes = Some(done.bytes);
        r.output = Some(absolute(path));
        r.error = None;
    });
    Ok(done)
}

/// Picks up render `id` started earlier: polls it at once (it may be
/// done), continues a `.part` of it, and downloads it to `path`. It never
/// submits anything: a render that may still finish is waited for, not
/// replaced.
pub(crate) async fn resume(
    ctx: &Context,
    id: &str,
    path: &Path,
    force: bool,
    wait: Wait,
) -> Result<Downloaded> {
    let result = fetch(ctx, id, path, force, true, &wait.polling_at_once()).await;
    match result {
        // Recorded ahead, never seen by a poll, and unknown to the server:
        // its submit never arrived (the process died first, or the answer
        // lost was a gateway's). Nothing will ever finish it.
        Err(err) if err.is(Kind::BadInput) && still_submitting(ctx, id) => {
            forget(ctx, id);
            Err(Error::bad_input(
                format!("the server never took render {id}: its submit did not arrive"),
                Some("start a new one with `nemo export`".into()),
            ))
        }
        other => other,
    }
}

/// Whether render `id` is recorded as submitted with no answer seen yet.
fn still_submitting(ctx: &Context, id: &str) -> bool {
    ctx.store
        .load()
        .is_ok_and(|c| c.render(id).is_some_and(|r| r.status == submit::SUBMITTING))
}
