//! Which source a render's file comes from: its output URL (a CDN, no
//! token), else — when there is none, or it fails — the API's download
//! endpoint. And the render status's `output.size` as a second opinion
//! (`../shared/spec/cli.md`, "export"): a complete transfer that differs
//! from it is checked against the other source, downloaded beside the file
//! (`<file>.other`); a transfer that matches `output.size` wins, two sources
//! that agree with each other are saved with a warning (the sizes the
//! service reports may be approximate), two that disagree with each other
//! and with it are refused. With one source only, its complete transfer is
//! saved with a warning.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use reqwest::Url;

use super::request::host_of;
use super::{Downloaded, Level, Progress, get, remove};
use crate::ApiClient;
use crate::error::{Error, Kind, Result};

/// Downloads render `id` into `file`: from `output_url` without the token,
/// else (or when that fails) from the API's download endpoint. Bytes
/// already in `file` are taken as the download's head and it goes on from
/// there when the server takes ranges. `expected`: the render's size as its
/// status gave it (`output.size`), the second opinion.
pub async fn render<P: Progress>(
    api: &ApiClient,
    progress: &P,
    id: &str,
    output_url: Option<&str>,
    expected: Option<u64>,
    file: &Path,
) -> Result<Downloaded> {
    let endpoint = api.render_download_url(id)?;
    let cdn = match output_url.map(Url::parse) {
        Some(Ok(url)) if matches!(url.scheme(), "http" | "https") => Some(url),
        Some(_) => {
            progress.note(
                Level::Warn,
                "the server gave an output URL that cannot be used; trying the API's download endpoint",
            );
            None
        }
        None => {
            progress.note(
                Level::Debug,
                "the render has no output URL; using the API's download endpoint",
            );
            None
        }
    };
    let Some(cdn) = cdn else {
        let only = get(api, progress, endpoint, expected, file).await?;
        return Ok(alone(
            progress,
            only,
            expected,
            "the API's download endpoint",
        ));
    };
    let host = host_of(&cdn);
    match get(api, progress, cdn, expected, file).await {
        Ok(first) if expected.is_none_or(|e| e == first.bytes) => Ok(first),
        Ok(first) => {
            let expected = expected.unwrap_or(first.bytes);
            second_opinion(api, progress, endpoint, expected, file, first, &host).await
        }
        Err(err) if err.is(Kind::Io) || err.is(Kind::Interrupted) => Err(err),
        Err(err) => {
            progress.note(
                Level::Warn,
                &format!(
                    "cannot download the render from {host}: {err}; trying the API's download endpoint"
                ),
            );
            // Bytes from another source are not to be mixed in.
            remove(file)?;
            let only = get(api, progress, endpoint, expected, file).await?;
            Ok(alone(
                progress,
                only,
                expected,
                "the API's download endpoint",
            ))
        }
    }
}

/// The CDN's complete transfer (`first`, in `file`) is not `expected`
/// bytes: the API's download endpoint decides, downloaded beside it.
#[allow(clippy::too_many_arguments)]
async fn second_opinion<P: Progress>(
    api: &ApiClient,
    progress: &P,
    endpoint: Url,
    expected: u64,
    file: &Path,
    first: Downloaded,
    host: &str,
) -> Result<Downloaded> {
    progress.note(
        Level::Status,
        &format!(
            "{host} sent {} bytes but the render is said to be {expected}; asking the API's download endpoint too",
            first.bytes
        ),
    );
    let other = beside(file);
    remove(&other)?;
    let second = get(api, progress, endpoint, Some(expected), &other).await;
    let kept = match second {
        Ok(second) if second.bytes == expected => {
            std::fs::rename(&other, file).map_err(|e| {
                Error::io(
                    format!("cannot rename {} to {}", other.display(), file.display()),
                    e,
                )
            })?;
            return Ok(second);
        }
        Ok(second) if second.bytes == first.bytes => {
            progress.note(
                Level::Warn,
                &format!(
                    "{host} and the API's download endpoint both sent {} bytes, but the render is said to be {expected}; saved it (the sizes the service reports may be approximate)",
                    first.bytes
                ),
            );
            Ok(first)
        }
        Ok(second) => Err(Error::bad_answer(format!(
            "{host} sent {} bytes, the API's download endpoint {}, and the render is said to be {expected}: nemo cannot tell which is the render",
            first.bytes, second.bytes
        ))),
        Err(err) if err.is(Kind::Io) || err.is(Kind::Interrupted) => Err(err),
        Err(err) => {
            progress.note(
                Level::Debug,
                &format!("the API's download endpoint failed: {err}"),
            );
            Ok(alone(progress, first, Some(expected), host))
        }
    };
    remove(&other)?;
    kept
}

/// A complete transfer with no other source to ask: saved, with a warning
/// when it is not the size the render status gave.
fn alone<P: Progress>(
    progress: &P,
    done: Downloaded,
    expected: Option<u64>,
    source: &str,
) -> Downloaded {
    if let Some(expected) = expected.filter(|e| *e != done.bytes) {
        progress.note(
            Level::Warn,
            &format!(
                "{source} sent a complete file of {} bytes, but the render is said to be {expected}; saved it (the sizes the service reports may be approximate)",
                done.bytes
            ),
        );
    }
    done
}

/// `<file>.other`: where the second source's copy goes.
fn beside(file: &Path) -> PathBuf {
    let mut name: OsString = file.as_os_str().to_owned();
    name.push(".other");
    PathBuf::from(name)
}
