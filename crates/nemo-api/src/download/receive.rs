//! Streaming one answer's body into the file, under the minimum-speed rule
//! of `../shared/spec/cli.md` ("export"): a transfer that brings less than
//! 1 KB a second over a 60-second window is a stall, whether it sends
//! nothing or trickles a byte at a time (a byte a second kept the old
//! "nothing for 60 s" rule happy for ever). Says how the transfer ended;
//! whether to go on is the caller's choice.

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::Progress;
use crate::error::{Error, Kind, Result};

/// The slowest a transfer may be over a whole window (1 KB/s).
const MIN_SPEED: f64 = 1024.0;

/// How a transfer ended.
pub(super) enum Ended {
    /// The body ended (complete or not: the caller compares lengths), or
    /// ran past its limit.
    Closed,
    /// The connection broke.
    Cut(Error),
    /// Slower than [`MIN_SPEED`] over a whole window.
    Slow(Error),
}

/// Streams the body into `file` from `start` (appending); returns the
/// bytes now in the file, and how the transfer ended. The file is fsynced
/// either way, so a later resume can trust it. A body running past `limit`
/// (the announced size, else the cap) is stopped there (the caller reports
/// it). `window` is the speed rule's 60 s (scaled in tests). A symlink at
/// `file` is never written through: on unix the open refuses it
/// (`O_NOFOLLOW`); elsewhere it is checked just before opening (a link made
/// between the check and the open would still be followed).
pub(super) async fn receive<P: Progress>(
    progress: &P,
    response: reqwest::Response,
    file: &Path,
    start: u64,
    total: Option<u64>,
    limit: u64,
    window: Duration,
) -> Result<(u64, Ended)> {
    let mut out = open(file, start).await?;
    let cannot_write = |e| Error::io(format!("cannot write {}", file.display()), e);
    progress.start(total, start);
    let mut written = start;
    let mut stream = response.bytes_stream();
    let least = (MIN_SPEED * window.as_secs_f64()).ceil() as u64;
    let mut window_end = Instant::now() + window;
    let mut in_window = 0u64;
    let ended = loop {
        match tokio::time::timeout_at(window_end, stream.next()).await {
            Err(_) => {
                if in_window < least {
                    break Ended::Slow(slow(in_window, window));
                }
                window_end = Instant::now() + window;
                in_window = 0;
            }
            Ok(None) => break Ended::Closed,
            Ok(Some(Err(e))) => break Ended::Cut(super::super::network_error(e)),
            Ok(Some(Ok(chunk))) => {
                if let Err(e) = out.write_all(&chunk).await {
                    progress.stop();
                    return Err(cannot_write(e));
                }
                written += chunk.len() as u64;
                in_window += chunk.len() as u64;
                progress.advanced(chunk.len() as u64);
                if written > limit {
                    break Ended::Closed;
                }
            }
        }
    };
    progress.stop();
    out.flush().await.map_err(cannot_write)?;
    out.sync_all().await.map_err(cannot_write)?;
    Ok((written, ended))
}

fn slow(bytes: u64, window: Duration) -> Error {
    let secs = window.as_secs_f64();
    let message = if bytes == 0 {
        format!("the download stalled (nothing for {secs:.0} s)")
    } else {
        format!("the download is too slow ({bytes} bytes in {secs:.0} s, under 1 KB/s)")
    };
    Error::new(Kind::Network, message)
}

/// The file, appended to from `start`, else truncated.
async fn open(file: &Path, start: u64) -> Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true);
    if start > 0 {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    #[cfg(unix)]
    options.custom_flags(libc::O_NOFOLLOW);
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::io(
            format!("cannot write {}", file.display()),
            std::io::Error::other("it is a symbolic link"),
        ));
    }
    options.open(file).await.map_err(|e| {
        // ELOOP: the last component is a symlink.
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Error::io(
                format!("cannot write {}: it is a symbolic link", file.display()),
                e,
            );
        }
        Error::io(format!("cannot write {}", file.display()), e)
    })
}
