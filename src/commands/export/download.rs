//! Downloading a finished render to `PATH`, never leaving a half file under
//! that name: the bytes go to `PATH.part`, are checked against the length
//! the server announced, fsynced, and only then renamed to `PATH`.
//!
//! The output URL usually points to a CDN: it gets a plain request, with no
//! bearer token and no attribution headers. When there is no output URL, or
//! the CDN fails, the API's own `GET /api/render/proxy/<id>/download` is
//! used with the token; a redirect from it is followed by hand, and the
//! token only goes along when the next URL is on the API's origin again.
//! A download cut short is resumed with `Range: bytes=N-` when the server
//! takes ranges (`Accept-Ranges: bytes` or a 206 answer), else started over.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, Response, StatusCode, Url};
use tokio::io::AsyncWriteExt;

use crate::api::{self, ApiClient, Retry};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// A stalled transfer (no headers, or no bytes) is given up after this.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed from the fallback download.
const MAX_REDIRECTS: usize = 5;
/// Tries in a row that bring no new byte before the download is given up.
const TRIES_WITHOUT_PROGRESS: u32 = 3;
/// Tries in all, however much each one brought.
const MAX_TRIES: u32 = 20;

/// A complete download.
#[derive(Debug, Clone)]
pub struct Downloaded {
    /// Where the bytes came from in the end (after redirects).
    pub url: String,
    pub bytes: u64,
}

/// `PATH.part`.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name: OsString = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// Downloads render `id` to `path`: from `output_url` without the token,
/// else (or when that fails) from the API's download endpoint. With
/// `keep_part`, bytes already in `PATH.part` are kept and the download goes
/// on from there (`nemo export resume`); otherwise it starts afresh.
pub async fn fetch(
    ctx: &Context,
    id: &str,
    output_url: Option<&str>,
    path: &Path,
    force: bool,
    keep_part: bool,
) -> Result<Downloaded> {
    let part = part_path(path);
    if !keep_part {
        remove(&part)?;
    }
    let mut done = None;
    match output_url.map(Url::parse) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => {
            let host = host_of(&url);
            match get(ctx, url, &part).await {
                Ok(downloaded) => done = Some(downloaded),
                Err(err) if err.is(Kind::Io) || err.is(Kind::Interrupted) => return Err(err),
                Err(err) => {
                    ctx.printer.warn(format!(
                        "cannot download the render from {host}: {err}; trying the API's download endpoint"
                    ));
                    // Bytes from another source are not to be mixed in.
                    remove(&part)?;
                }
            }
        }
        Some(_) => ctx.printer.warn(
            "the server gave an output URL that cannot be used; trying the API's download endpoint",
        ),
        None => ctx
            .printer
            .debug("the render has no output URL; using the API's download endpoint"),
    }
    let done = match done {
        Some(done) => done,
        None => {
            let url = ctx.api.render_download_url(id)?;
            get(ctx, url, &part).await?
        }
    };
    finish(&part, path, force, id)?;
    Ok(done)
}

fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => "the output URL".into(),
    }
}

/// Removes a `.part` file; one that is not there is fine.
fn remove(part: &Path) -> Result<()> {
    match std::fs::remove_file(part) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot remove {}", part.display()), e)),
    }
}

fn part_len(part: &Path) -> Result<u64> {
    match std::fs::metadata(part) {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(format!("cannot read {}", part.display()), e)),
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

/// Downloads `url` (following redirects) into `part`, resuming cut
/// transfers.
async fn get(ctx: &Context, url: Url, part: &Path) -> Result<Downloaded> {
    let mut ranges = true;
    let mut tries = 0;
    let mut fruitless = 0;
    loop {
        tries += 1;
        let offset = if ranges { part_len(part)? } else { 0 };
        let (response, final_url) = open(ctx, &url, offset).await?;
        let status = response.status();
        let headers = response.headers().clone();
        let (start, total) = match status {
            StatusCode::PARTIAL_CONTENT => match content_range(&headers) {
                Some((first, last, total)) if first == offset => (offset, total.or(Some(last + 1))),
                _ => {
                    // Not the range asked for: start over without one.
                    ctx.printer
                        .debug("the server answered a different range; starting over");
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
                // Asked for bytes past the end: the part may be complete.
                if let Some(total) = unsatisfied_total(&headers)
                    && total == offset
                {
                    return Ok(Downloaded {
                        url: final_url,
                        bytes: offset,
                    });
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
                    ctx.printer
                        .debug("the server sent the whole file again; starting over");
                }
                (0, content_length(&headers))
            }
        };
        let (written, outcome) = receive(ctx, response, part, start, total).await?;
        match total {
            Some(total) if written > total => {
                return Err(Error::bad_answer(format!(
                    "the download server sent {written} bytes where it announced {total}"
                )));
            }
            Some(total) if written == total => {
                return Ok(Downloaded {
                    url: final_url,
                    bytes: written,
                });
            }
            None if outcome.is_ok() => {
                return Ok(Downloaded {
                    url: final_url,
                    bytes: written,
                });
            }
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
        fruitless = if written > start { 0 } else { fruitless + 1 };
        if fruitless >= TRIES_WITHOUT_PROGRESS || tries >= MAX_TRIES {
            return Err(reason);
        }
        ranges = status == StatusCode::PARTIAL_CONTENT || accepts_ranges(&headers);
        ctx.printer.status(format!(
            "The download was cut after {written} bytes ({reason}); {}",
            if ranges {
                "resuming it"
            } else {
                "starting it over"
            }
        ));
        tokio::time::sleep(Duration::from_millis(300 * u64::from(fruitless + 1))).await;
    }
}

/// Streams the body into `part` from `start` (appending) with a progress
/// bar; returns the bytes now in the part, and how the transfer ended. The
/// part is fsynced either way, so a later resume can trust it.
async fn receive(
    ctx: &Context,
    response: Response,
    part: &Path,
    start: u64,
    total: Option<u64>,
) -> Result<(u64, Result<()>)> {
    let mut options = tokio::fs::OpenOptions::new();
    options.create(true);
    if start > 0 {
        options.append(true);
    } else {
        options.write(true).truncate(true);
    }
    let mut file = options
        .open(part)
        .await
        .map_err(|e| Error::io(format!("cannot write {}", part.display()), e))?;
    let name = part
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".part").to_string())
        .unwrap_or_default();
    let bar = ctx.printer.bytes_bar(total, format!("Downloading {name}"));
    bar.set_position(start);
    let mut written = start;
    let mut stream = response.bytes_stream();
    let outcome = loop {
        match tokio::time::timeout(STALL_TIMEOUT, stream.next()).await {
            Err(_) => {
                break Err(Error::new(Kind::Network, "the download stalled"));
            }
            Ok(None) => break Ok(()),
            Ok(Some(Err(e))) => break Err(api::network_error(e)),
            Ok(Some(Ok(chunk))) => {
                file.write_all(&chunk)
                    .await
                    .map_err(|e| Error::io(format!("cannot write {}", part.display()), e))?;
                written += chunk.len() as u64;
                bar.inc(chunk.len() as u64);
            }
        }
    };
    bar.finish_and_clear();
    file.flush()
        .await
        .map_err(|e| Error::io(format!("cannot write {}", part.display()), e))?;
    file.sync_all()
        .await
        .map_err(|e| Error::io(format!("cannot write {}", part.display()), e))?;
    Ok((written, outcome))
}

/// Sends the GET for `url` (from `offset` when above zero) and follows
/// redirects by hand. Answers that are errors become typed errors; 206 and
/// 416 come back to the caller. The token goes only to the API's origin,
/// through [`Context::authed`] so an expired free token is renewed.
async fn open(ctx: &Context, url: &Url, offset: u64) -> Result<(Response, String)> {
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = if ctx.api.is_api_origin(&current) {
            let target = current.clone();
            tokio::time::timeout(
                STALL_TIMEOUT,
                ctx.authed(|api| {
                    let target = target.clone();
                    async move { send(&api, &target, offset, true).await }
                }),
            )
            .await
        } else {
            tokio::time::timeout(STALL_TIMEOUT, send(&ctx.api, &current, offset, false)).await
        }
        .map_err(|_| {
            Error::new(
                Kind::Network,
                format!("{} did not answer in time", host_of(&current)),
            )
        })??;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    Error::bad_answer("the download answered a redirect without a location")
                })?;
            current = current
                .join(location)
                .map_err(|_| Error::bad_answer("the download redirects to an invalid URL"))?;
            if !matches!(current.scheme(), "http" | "https") {
                return Err(Error::bad_answer(
                    "the download redirects to something that is not http(s)",
                ));
            }
            ctx.printer
                .debug(format!("following a redirect to {}", host_of(&current)));
            continue;
        }
        return Ok((response, current.to_string()));
    }
    Err(Error::bad_answer("the download redirects too many times"))
}

/// One GET: with the token and attribution headers on the API's origin,
/// plain elsewhere. Retried as a read.
async fn send(api: &ApiClient, url: &Url, offset: u64, auth: bool) -> Result<Response> {
    let response = api
        .send(Retry::Read, None, || {
            let builder = if auth {
                api.request_to(Method::GET, url.clone(), true)?
            } else {
                api.http().get(url.clone())
            };
            Ok(if offset > 0 {
                builder.header(header::RANGE, format!("bytes={offset}-"))
            } else {
                builder
            })
        })
        .await?;
    let status = response.status();
    if status.is_redirection() || status == StatusCode::RANGE_NOT_SATISFIABLE {
        return Ok(response);
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !status.is_success() {
        // An error page: JSON, `detail`, HTML or XML from a CDN.
        return Err(api::read_json(response)
            .await
            .err()
            .unwrap_or_else(|| api::status_error(status, None)));
    }
    if is_json {
        // A JSON answer where a file was expected: an API error (1001…)
        // in the envelope, or something this client cannot use.
        let value = api::read_json(response).await?;
        api::check_envelope(&value)?;
        return Err(Error::bad_answer(
            "the download answered JSON instead of the file",
        ));
    }
    Ok(response)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn accepts_ranges(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_RANGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")))
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` → (first, last, total when known).
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    parse_content_range(value)
}

fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let spec = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = spec.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    if last < first {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((first, last, total))
}

/// The length in a 416's `Content-Range: bytes */TOTAL`.
fn unsatisfied_total(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    value
        .trim()
        .strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges() {
        assert_eq!(
            parse_content_range("bytes 100-199/300"),
            Some((100, 199, Some(300)))
        );
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(parse_content_range("bytes 9-0/10"), None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
        assert_eq!(parse_content_range("bytes */10"), None);
    }

    #[test]
    fn part_paths() {
        assert_eq!(
            part_path(Path::new("out/a.mp4")),
            PathBuf::from("out/a.mp4.part")
        );
    }
}
