//! The download transport: fetching a finished render's bytes into a file
//! the caller names, from its output URL (usually a CDN, sent a plain
//! request: no bearer token, no attribution headers) or, when there is
//! none or it fails, from the API's own `GET /api/render/proxy/<id>/download`
//! with the token. Redirects are followed by hand (`request`); the token
//! only goes along while the URL is on the API's origin. A transfer cut
//! short is resumed with `Range: bytes=N-` when the server takes ranges
//! (`Accept-Ranges: bytes` or a 206 answer), else started over; a transfer
//! with no byte for a minute counts as cut.
//!
//! It owns the bytes of the file it is given and nothing else: what the
//! file is called, whether earlier bytes in it are kept, and what happens
//! to it afterwards (rename, `--force`) is the caller's policy. It never
//! prints: progress and notes go to a [`Progress`]. [`Downloaded`] carries
//! the sizes the server announced, so a caller can check completeness.

mod headers;
mod request;

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use reqwest::{StatusCode, Url};
use tokio::io::AsyncWriteExt;

use super::ApiClient;
use crate::error::{Error, Kind, Result};
use headers::{accepts_ranges, content_length, content_range, unsatisfied_total};
use request::{STALL_TIMEOUT, host_of, open};

pub use headers::parse_content_range;

/// Tries in a row that bring no new byte before the download is given up.
const TRIES_WITHOUT_PROGRESS: u32 = 3;
/// Tries in all, however much each one brought.
const MAX_TRIES: u32 = 20;
/// A body with no size announced anywhere (no `Content-Length`, no
/// `Content-Range`, no `output.size`) is cut off past this: no render is
/// that large, and an endless body must not fill the disk.
pub const UNANNOUNCED_CAP: u64 = 4 << 30;

/// How loud a [`Progress::note`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Only for `-v`.
    Debug,
    /// A status line on stderr.
    Status,
    /// A warning: something failed, the download goes on another way.
    Warn,
}

/// Where a download reports what it does (the caller draws the bar).
pub trait Progress {
    /// A transfer starts at byte `at` of `total` (when announced).
    fn start(&self, total: Option<u64>, at: u64);
    /// `bytes` more arrived.
    fn advanced(&self, bytes: u64);
    /// The transfer ended, complete or not.
    fn stop(&self);
    /// Something worth telling the user.
    fn note(&self, level: Level, message: &str);
}

/// A complete download.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// Where the bytes came from in the end (after redirects).
    pub url: String,
    /// Bytes in the file.
    pub bytes: u64,
    /// The whole file's length as the last answer announced it
    /// (`Content-Length` of a 200, the total of a `Content-Range`), if it did.
    pub announced: Option<u64>,
}

/// Downloads render `id` into `file`: from `output_url` without the token,
/// else (or when that fails) from the API's download endpoint. Bytes
/// already in `file` are taken as the download's head and it goes on from
/// there when the server takes ranges. `expected`: the render's size as its
/// status gave it (`output.size`), which the file must then have.
pub async fn render<P: Progress>(
    api: &ApiClient,
    progress: &P,
    id: &str,
    output_url: Option<&str>,
    expected: Option<u64>,
    file: &Path,
) -> Result<Downloaded> {
    match output_url.map(Url::parse) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => {
            let host = host_of(&url);
            match get(api, progress, url, expected, file).await {
                Ok(downloaded) => return Ok(downloaded),
                Err(err) if err.is(Kind::Io) || err.is(Kind::Interrupted) => return Err(err),
                Err(err) => {
                    progress.note(
                        Level::Warn,
                        &format!(
                            "cannot download the render from {host}: {err}; trying the API's download endpoint"
                        ),
                    );
                    // Bytes from another source are not to be mixed in.
                    remove(file)?;
                }
            }
        }
        Some(_) => progress.note(
            Level::Warn,
            "the server gave an output URL that cannot be used; trying the API's download endpoint",
        ),
        None => progress.note(
            Level::Debug,
            "the render has no output URL; using the API's download endpoint",
        ),
    }
    let url = api.render_download_url(id)?;
    get(api, progress, url, expected, file).await
}

/// Removes a file; one that is not there is fine.
fn remove(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot remove {}", file.display()), e)),
    }
}

fn file_len(file: &Path) -> Result<u64> {
    match std::fs::metadata(file) {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(format!("cannot read {}", file.display()), e)),
    }
}

/// Downloads `url` (following redirects) into `file`, resuming cut
/// transfers. The file is complete only at the size announced (`expected`,
/// else what the server said); an empty one never is.
pub async fn get<P: Progress>(
    api: &ApiClient,
    progress: &P,
    url: Url,
    expected: Option<u64>,
    file: &Path,
) -> Result<Downloaded> {
    get_capped(api, progress, url, expected, file, UNANNOUNCED_CAP).await
}

/// [`get`] with the cap on a body of unannounced size as a parameter.
async fn get_capped<P: Progress>(
    api: &ApiClient,
    progress: &P,
    url: Url,
    expected: Option<u64>,
    file: &Path,
    cap: u64,
) -> Result<Downloaded> {
    let mut ranges = true;
    let mut tries = 0;
    let mut fruitless = 0;
    // The most bytes any try reached: a try that starts over from zero and
    // stops at the same byte again has made no progress.
    let mut best = 0;
    loop {
        tries += 1;
        let offset = if ranges { file_len(file)? } else { 0 };
        let (response, final_url) = open(api, progress, &url, offset).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let (start, total) = match status {
            StatusCode::PARTIAL_CONTENT => match content_range(&headers) {
                Some((first, last, total)) if first == offset => (offset, total.or(Some(last + 1))),
                _ => {
                    // Not the range asked for: start over without one.
                    progress.note(
                        Level::Debug,
                        "the server answered a different range; starting over",
                    );
                    ranges = false;
                    fruitless += 1;
                    if fruitless >= TRIES_WITHOUT_PROGRESS {
                        return Err(Error::bad_answer(
                            "the download server answers ranges that were not asked for",
                        ));
                    }
                    continue;
                }
            },
            StatusCode::RANGE_NOT_SATISFIABLE => {
                // Asked for bytes past the end: the file may be complete.
                if let Some(total) = unsatisfied_total(&headers)
                    && total == offset
                    && expected.is_none_or(|e| e == total)
                {
                    return complete(final_url, offset, Some(total));
                }
                ranges = false;
                fruitless += 1;
                if fruitless >= TRIES_WITHOUT_PROGRESS {
                    return Err(Error::bad_answer(
                        "the download server refuses every range asked for",
                    ));
                }
                continue;
            }
            _ => {
                if offset > 0 {
                    progress.note(
                        Level::Debug,
                        "the server sent the whole file again; starting over",
                    );
                }
                (0, content_length(&headers))
            }
        };
        if let (Some(expected), Some(total)) = (expected, total)
            && expected != total
        {
            return Err(Error::bad_answer(format!(
                "the download server announced {total} bytes, but the render is {expected} bytes"
            )));
        }
        let total = total.or(expected);
        let (written, outcome) = receive(
            progress,
            response,
            file,
            start,
            total,
            total.unwrap_or(cap),
            api.scaled(STALL_TIMEOUT),
        )
        .await?;
        match total {
            Some(total) if written > total => {
                return Err(Error::bad_answer(format!(
                    "the download server sent {written} bytes where it announced {total}"
                )));
            }
            Some(total) if written == total => {
                return complete(final_url, written, Some(total));
            }
            None if written > cap => {
                return Err(Error::new(
                    Kind::TooLarge,
                    format!(
                        "the download server sent more than {cap} bytes without announcing a size"
                    ),
                ));
            }
            None if outcome.is_ok() => return complete(final_url, written, None),
            _ => {}
        }
        // Cut short: go on from where it stopped when the server takes
        // ranges, else from the start.
        let reason = match outcome {
            Err(err) => err,
            Ok(()) => Error::new(
                Kind::Network,
                format!(
                    "the download ended after {written} of {} bytes",
                    total.unwrap_or(written)
                ),
            ),
        };
        fruitless = if written > best.max(start) {
            0
        } else {
            fruitless + 1
        };
        best = best.max(written);
        if fruitless >= TRIES_WITHOUT_PROGRESS || tries >= MAX_TRIES {
            return Err(reason);
        }
        ranges = status == StatusCode::PARTIAL_CONTENT || accepts_ranges(&headers);
        progress.note(
            Level::Status,
            &format!(
                "The download was cut after {written} bytes ({reason}); {}",
                if ranges {
                    "resuming it"
                } else {
                    "starting it over"
                }
            ),
        );
        tokio::time::sleep(Duration::from_millis(300 * u64::from(fruitless + 1))).await;
    }
}

/// A finished transfer, unless it brought nothing (an empty body is an
/// error page without words, never a render).
fn complete(url: String, bytes: u64, announced: Option<u64>) -> Result<Downloaded> {
    if bytes == 0 {
        return Err(Error::bad_answer("the download server sent an empty file"));
    }
    Ok(Downloaded {
        url,
        bytes,
        announced,
    })
}

/// Streams the body into `file` from `start` (appending); returns the
/// bytes now in the file, and how the transfer ended. The file is fsynced
/// either way, so a later resume can trust it. A body running past `limit`
/// (the announced size, else the cap) is stopped there (the caller reports
/// it). A symlink at `file` is never written through: on unix the open
/// refuses it (`O_NOFOLLOW`); elsewhere it is checked just before opening
/// (a link made between the check and the open would still be followed).
async fn receive<P: Progress>(
    progress: &P,
    response: reqwest::Response,
    file: &Path,
    start: u64,
    total: Option<u64>,
    limit: u64,
    stall: Duration,
) -> Result<(u64, Result<()>)> {
    let cannot_write = |e| Error::io(format!("cannot write {}", file.display()), e);
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
    let mut out = options.open(file).await.map_err(|e| {
        // ELOOP: the last component is a symlink.
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return Error::io(
                format!("cannot write {}: it is a symbolic link", file.display()),
                e,
            );
        }
        cannot_write(e)
    })?;
    progress.start(total, start);
    let mut written = start;
    let mut stream = response.bytes_stream();
    let outcome = loop {
        match tokio::time::timeout(stall, stream.next()).await {
            Err(_) => {
                break Err(Error::new(Kind::Network, "the download stalled"));
            }
            Ok(None) => break Ok(()),
            Ok(Some(Err(e))) => break Err(super::network_error(e)),
            Ok(Some(Ok(chunk))) => {
                if let Err(e) = out.write_all(&chunk).await {
                    progress.stop();
                    return Err(cannot_write(e));
                }
                written += chunk.len() as u64;
                progress.advanced(chunk.len() as u64);
                if written > limit {
                    break Ok(());
                }
            }
        }
    };
    progress.stop();
    out.flush().await.map_err(cannot_write)?;
    out.sync_all().await.map_err(cannot_write)?;
    Ok((written, outcome))
}

#[cfg(test)]
mod tests;
