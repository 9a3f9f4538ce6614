//! Downloading a finished render to `PATH`, never leaving a half file under
//! that name: the bytes go to `PATH.part`, and only a complete, fsynced
//! part is renamed to `PATH` (not over a file that appeared meanwhile,
//! unless `--force`). This is the file policy; the transfer itself — the
//! requests, redirects, ranges, resume and the fallback to the API's
//! download endpoint — is the client's ([`crate::api::download`]), which
//! reports to the progress bar drawn here. Which `.part` may be resumed and
//! who may download to a path is [`part`]'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::ProgressBar;

mod part;

use crate::api::download::{self, Identity, Level, Progress};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::render::resume_hint;
use part::{Owner, Writer};

pub(crate) use crate::api::download::Downloaded;
pub(crate) use part::same_file;

/// `PATH.part`.
pub(crate) fn part_path(path: &Path) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Downloads render `id` to `path`: from `output_url` without the token,
/// else (or when that fails) from the API's download endpoint. With
/// `keep_part`, bytes already in `PATH.part` are kept and the download goes
/// on from there (`nemo export resume`); otherwise it starts afresh. `size`
/// is the render's `output.size` when its status gave one (a second
/// opinion on a complete transfer). `within`: what `--timeout` leaves for
/// the download; past it, exit 8 with the `.part` kept for a resume.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn fetch(
    ctx: &Context,
    id: &str,
    output_url: Option<&str>,
    size: Option<u64>,
    path: &Path,
    force: bool,
    keep_part: bool,
    within: Option<Duration>,
) -> Result<Downloaded> {
    // One download to a path at a time; held to the end of this function.
    let _writer = Writer::take(path, id)?;
    // Checked before waiting too; under the lock, this catches a download
    // to the same path that finished while this one waited for the render.
    crate::flow::render::check_output(path, force)?;
    let part = part_path(path);
    let sidecar = part::sidecar_path(path);
    let mut owner = Owner {
        render_id: id.to_string(),
        size,
        identity: None,
    };
    let own = keep_part && part::is_own(&part, &sidecar, &owner);
    if own {
        // What the first run learnt of the file: its resume sends If-Range.
        owner.identity = part::recorded(&sidecar).and_then(|r| r.identity);
    } else {
        if keep_part && std::fs::symlink_metadata(&part).is_ok() {
            ctx.printer.warn(format!(
                "{} is not a download of render {id}; starting afresh",
                part.display()
            ));
        }
        part::remove(&part)?;
    }
    // Before the first byte: whose `.part` this is.
    part::claim(&sidecar, &owner)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let bar = Bar {
        ctx,
        message: format!("Downloading {name}"),
        bar: Mutex::new(None),
        sidecar: &sidecar,
        owner: Mutex::new(owner),
    };
    let transfer = download::render(&ctx.api, &bar, id, output_url, size, &part);
    let done = match within {
        None => transfer.await?,
        Some(within) => tokio::time::timeout(within, transfer).await.map_err(|_| {
            bar.stop();
            Error::new(
                Kind::JobFailed,
                format!("render {id} was not downloaded within the --timeout"),
            )
            .with_hint(resume_hint(id))
        })??,
    };
    finish(&part, path, force, id)?;
    if let Err(err) = part::remove(&sidecar) {
        ctx.printer.warn(err.to_string());
    }
    Ok(done)
}

/// The download's progress on the printer: a byte bar per transfer, notes
/// as warnings, status lines or `-v` lines.
struct Bar<'a> {
    ctx: &'a Context,
    message: String,
    bar: Mutex<Option<ProgressBar>>,
    /// The `.part`'s sidecar, and what it records (with the file's
    /// identity once the server states it).
    sidecar: &'a Path,
    owner: Mutex<Owner>,
}

impl Progress for Bar<'_> {
    fn start(&self, total: Option<u64>, at: u64) {
        let bar = self.ctx.printer.bytes_bar(total, self.message.clone());
        bar.set_position(at);
        if let Ok(mut slot) = self.bar.lock()
            && let Some(old) = slot.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn advanced(&self, bytes: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(bytes);
        }
    }

    fn stop(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }

    fn note(&self, level: Level, message: &str) {
        match level {
            Level::Debug => self.ctx.printer.debug(message),
            Level::Status => self.ctx.printer.status(message),
            Level::Warn => self.ctx.printer.warn(message),
        }
    }

    fn remembered(&self) -> Option<Identity> {
        self.owner.lock().ok().and_then(|o| o.identity.clone())
    }

    fn identified(&self, identity: &Identity) {
        let Ok(mut owner) = self.owner.lock() else {
            return;
        };
        if owner.identity.as_ref() == Some(identity) {
            return;
        }
        owner.identity = Some(identity.clone());
        // Without it a later resume only lacks If-Range (the total is still
        // checked against the first answer in this process): not fatal.
        if let Err(err) = part::claim(self.sidecar, &owner) {
            self.ctx.printer.debug(err.to_string());
        }
    }
}

/// Renames the complete `.part` to `path` and makes the rename durable.
fn finish(part: &Path, path: &Path, force: bool, id: &str) -> Result<()> {
    // Checked before submitting too; this catches a file that appeared
    // while the render ran.
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::bad_input(
            format!(
                "{} appeared while downloading; the download is kept as {}",
                path.display(),
                part.display()
            ),
            Some(format!(
                "move the file away and run `nemo export resume {id}`, or add --force"
            )),
        ));
    }
    std::fs::rename(part, path).map_err(|e| {
        Error::io(
            format!("cannot rename {} to {}", part.display(), path.display()),
            e,
        )
    })?;
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_paths() {
        assert_eq!(
            part_path(Path::new("out/a.mp4")),
            PathBuf::from("out/a.mp4.part")
        );
    }
}
