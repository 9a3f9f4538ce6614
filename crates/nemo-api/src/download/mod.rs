//! The download transport: fetching a finished render's bytes into a file
//! the caller names, from its output URL (usually a CDN, sent a plain
//! request: no bearer token, no attribution headers) or, when there is
//! none or it fails, from the API's own `GET /api/render/proxy/<id>/download`
//! with the token (`sources`, which also asks the other source for a second
//! opinion when a complete transfer disagrees with `output.size`).
//! Redirects are followed by hand (`request`); the token only goes along
//! while the URL is on the API's origin.
//!
//! A transfer is complete when its own framing says so (`Content-Length`,
//! the chunked end, the `Content-Range` total); `output.size` is only the
//! check when the transfer announces no length. A transfer cut short is
//! resumed with `Range: bytes=N-` and `If-Range` (the first answer's strong
//! ETag, else its Last-Modified) when the server takes ranges, else started
//! over; a resume whose answer shows the file changed (a whole new file, a
//! new validator, another `Content-Range` total) starts over from zero,
//! never splicing two versions. A transfer under 1 KB/s for a minute is a
//! stall (`receive`): tried once more, then given up.
//!
//! It owns the bytes of the file it is given (and of a sibling it may use
//! for a second opinion) and nothing else: what the file is called, whether
//! earlier bytes in it are kept, and what happens to it afterwards (rename,
//! `--force`) is the caller's policy. It never prints: progress and notes
//! go to a [`Progress`].

mod headers;
mod receive;
mod request;
mod sources;

use std::path::Path;
use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::ApiClient;
use crate::error::{Error, Kind, Result};
use headers::{accepts_ranges, content_length, content_range, unsatisfied_total, validator};
use receive::{Ended, receive};
use request::{STALL_TIMEOUT, open};

pub use headers::parse_content_range;
pub use sources::render;

/// Tries in a row that bring no new byte before the download is given up.
const TRIES_WITHOUT_PROGRESS: u32 = 3;
/// Tries in all, however much each one brought.
const MAX_TRIES: u32 = 20;
/// Transfers slower than the minimum speed before the download is given
/// up: the first is tried again.
const SLOW_TRIES: u32 = 2;
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
    /// What an earlier run learnt of the file whose head is in the file
    /// given (its [`Identity`]), so that a resume in a new process sends
    /// `If-Range` too. None: nothing known.
    fn remembered(&self) -> Option<Identity> {
        None
    }
    /// The file's identity as the server first states it (a whole answer),
    /// for a caller that keeps it beside the partial file.
    fn identified(&self, _identity: &Identity) {}
}

/// What identifies the version of a file being downloaded: the first
/// answer's validator (strong ETag, else Last-Modified, sent back as
/// `If-Range`) and its whole length.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
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
/// transfers. Complete at the length the transfer announced, else at
/// `expected` (the render's `output.size`), else when the body ends; an
/// empty file never is.
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
    let mut slow = 0;
    // What the first answer said of the file (an earlier run's, when the
    // file already holds its head), to tell on a resume whether it is
    // still the same file.
    let mut known = match file_len(file)? {
        0 => Identity::default(),
        _ => progress.remembered().unwrap_or_default(),
    };
    // The most bytes any try reached: a try that starts over from zero and
    // stops at the same byte again has made no progress.
    let mut best = 0;
    loop {
        tries += 1;
        let offset = if ranges { file_len(file)? } else { 0 };
        let if_range = known.validator.clone().filter(|_| offset > 0);
        let (response, final_url) = open(api, progress, &url, offset, if_range.as_deref()).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let (start, total) = match status {
            StatusCode::PARTIAL_CONTENT => match content_range(&headers) {
                Some((first, _, total))
                    if first == offset && changed(&known, total, validator(&headers)) =>
                {
                    // Another version than the bytes held: never spliced.
                    progress.note(
                        Level::Status,
                        "The file changed on the server since the download was cut; starting it over",
                    );
                    known = Identity::default();
                    ranges = false;
                    fruitless += 1;
                    if fruitless >= TRIES_WITHOUT_PROGRESS {
                        return Err(Error::bad_answer(
                            "the file kept changing on the download server",
                        ));
                    }
                    continue;
                }
                Some((first, last, total)) if first == offset => {
                    if known.validator.is_none() && known.total.is_none() {
                        known = Identity {
                            validator: validator(&headers),
                            total,
                        };
                        progress.identified(&known);
                    }
                    (offset, total.or(Some(last + 1)))
                }
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
                    && known.total.is_none_or(|t| t == total)
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
                // A whole file: what it is now is what later ranges must match.
                known = Identity {
                    validator: validator(&headers),
                    total: content_length(&headers),
                };
                progress.identified(&known);
                (0, known.total)
            }
        };
        // No length in the transfer: the render's stated size is the check.
        let total = total.or(expected);
        let (written, ended) = receive(
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
            None if matches!(ended, Ended::Closed) => return complete(final_url, written, None),
            _ => {}
        }
        // Cut short or too slow: go on from where it stopped when the
        // server takes ranges, else from the start.
        let reason = match ended {
            Ended::Slow(err) => {
                slow += 1;
                if slow >= SLOW_TRIES {
                    return Err(err);
                }
                err
            }
            Ended::Cut(err) => err,
            Ended::Closed => Error::new(
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

/// Whether a range answer shows another version of the file than the one
/// whose head is held: another total, or another validator.
fn changed(known: &Identity, total: Option<u64>, validator: Option<String>) -> bool {
    let other_total = matches!((known.total, total), (Some(a), Some(b)) if a != b);
    let other_validator = matches!((&known.validator, &validator), (Some(a), Some(b)) if a != b);
    other_total || other_validator
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

#[cfg(test)]
mod tests;
