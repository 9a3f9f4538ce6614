//! Uploads into a session (`../shared/spec/cli.md` "nemo upload"): every
//! argument checked before anything is sent (a file exists, is readable,
//! has an accepted extension and is at most 500 MB by its metadata; a URL
//! is a full http(s) address), then local files streamed one request each
//! with a progress bar, and URLs sent together in one JSON request. A lost
//! session (1002) is recovered through the context.
//!
//! It must not print results (the caller does, from [`Files`] and
//! [`Uploaded`]); a file's bytes are only ever read while they are sent.

mod report;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::api::upload::{LocalFile, MAX_UPLOAD_BYTES, Progress, UploadAnswer, format_of_name};
use crate::context::Context;
use crate::error::{Error, FORMATS_HINT, Result, SIZE_HINT};
use crate::size::human as human_size;
use report::display_name;
pub(crate) use report::{Files, Uploaded};

/// An argument that passed the checks.
#[derive(Debug)]
pub(crate) enum Item {
    File(LocalFile),
    Url(String),
}

/// Why an argument cannot be uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Missing,
    Unreadable,
    NotAFile,
    Type,
    Size,
    BadUrl,
}

#[derive(Debug)]
struct Refusal {
    arg: String,
    problem: Problem,
    reason: String,
}

/// Uploads every argument of `nemo upload` into the current session
/// (created when there is none): all are checked first, then the files
/// one request each, then the URLs together. `shown` gets the files of
/// each answer as it comes; a failure warns which files went before it.
pub(crate) async fn upload(
    ctx: &Context,
    args: &[std::ffi::OsString],
    shown: impl Fn(&[Value]) -> Result<()>,
) -> Result<Uploaded> {
    let items = check_all(args)?;
    let mut session = ctx.ensure_session().await?;
    let mut recovered = false;
    let mut files: Vec<Value> = Vec::new();
    let uploaded_before = |files: &[Value], err: Error| {
        if !files.is_empty() {
            let names: Vec<String> = files.iter().map(display_name).collect();
            ctx.printer
                .warn(format!("uploaded before the failure: {}", names.join(", ")));
        }
        err
    };

    let mut urls = Vec::new();
    for item in &items {
        let file = match item {
            Item::File(file) => file,
            Item::Url(url) => {
                urls.push(url.clone());
                continue;
            }
        };
        let answer = send_file(ctx, &mut session, &mut recovered, file)
            .await
            .map_err(|err| uploaded_before(&files, err))?;
        shown(&answer.files)?;
        files.extend(answer.files);
    }
    if !urls.is_empty() {
        let answer = send_urls(ctx, &mut session, &mut recovered, &urls)
            .await
            .map_err(|err| uploaded_before(&files, err))?;
        shown(&answer.files)?;
        files.extend(answer.files);
    }

    Ok(Uploaded { files })
}

/// Uploads one file with its progress bar.
pub(crate) async fn send_file(
    ctx: &Context,
    session: &mut String,
    recovered: &mut bool,
    file: &LocalFile,
) -> Result<UploadAnswer> {
    let bar = ctx.printer.bytes_bar(Some(file.size), file.name.clone());
    if !ctx.printer.shows_progress() {
        ctx.printer.status(format!(
            "Uploading {} ({})…",
            file.name,
            human_size(file.size)
        ));
    }
    let progress: Progress = {
        let bar = bar.clone();
        Arc::new(move |sent| bar.set_position(sent))
    };
    let result = ctx
        .with_session(session, recovered, |sid| {
            let progress = progress.clone();
            async move { ctx.api.upload_file(&sid, file, progress).await }
        })
        .await;
    // The result line (stdout) or the error takes the bar's place.
    bar.finish_and_clear();
    result
}

/// Sends `urls` in one request, with a spinner.
pub(crate) async fn send_urls(
    ctx: &Context,
    session: &mut String,
    recovered: &mut bool,
    urls: &[String],
) -> Result<UploadAnswer> {
    let what = urls_label(urls.len());
    if !ctx.printer.shows_progress() {
        ctx.printer.status(format!("Sending {what}…"));
    }
    let spinner = ctx.printer.spinner(format!("Sending {what}"));
    let answer = ctx
        .with_session(session, recovered, |sid| async move {
            ctx.api.upload_urls(&sid, urls).await
        })
        .await;
    spinner.finish_and_clear();
    answer
}

/// "1 URL", "3 URLs": what a request of URLs is called on screen.
pub(crate) fn urls_label(count: usize) -> String {
    format!("{count} URL{}", if count == 1 { "" } else { "s" })
}

/// Checks every argument; the first problem does not stop the others from
/// being checked, so all of them are reported at once.
pub(crate) fn check_all(args: &[std::ffi::OsString]) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut refusals = Vec::new();
    for arg in args {
        match check(arg) {
            Ok(item) => items.push(item),
            Err(refusal) => refusals.push(refusal),
        }
    }
    if refusals.is_empty() {
        return Ok(items);
    }
    let message = if let [one] = refusals.as_slice() {
        format!(
            "cannot upload {}: {}; nothing was sent",
            one.arg, one.reason
        )
    } else {
        let reasons: Vec<String> = refusals
            .iter()
            .map(|r| format!("{}: {}", r.arg, r.reason))
            .collect();
        format!(
            "cannot upload {} of {} arguments, so nothing was sent: {}",
            refusals.len(),
            args.len(),
            reasons.join("; ")
        )
    };
    let has = |p: Problem| refusals.iter().any(|r| r.problem == p);
    let mut hints = Vec::new();
    if has(Problem::Type) {
        hints.push(FORMATS_HINT.to_string());
    }
    if has(Problem::Size) {
        hints.push(SIZE_HINT.to_string());
    }
    if has(Problem::Missing) || has(Problem::NotAFile) || has(Problem::Unreadable) {
        hints.push("check the paths; give files, not folders".into());
    }
    if has(Problem::BadUrl) {
        hints.push("URLs must be full http:// or https:// addresses".into());
    }
    Err(Error::bad_input(message, Some(hints.join("; "))))
}

fn check(arg: &std::ffi::OsStr) -> std::result::Result<Item, Refusal> {
    let refuse = |problem, reason: String| Refusal {
        arg: shown(&arg.to_string_lossy()),
        problem,
        reason,
    };
    if let Some(arg) = arg.to_str().filter(|a| is_url(a)) {
        return match reqwest::Url::parse(arg) {
            Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Item::Url(arg.into())),
            _ => Err(refuse(Problem::BadUrl, "not a valid URL".into())),
        };
    }
    let path = PathBuf::from(arg);
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(Problem::Missing, "no such file".into()));
        }
        Err(e) => {
            return Err(refuse(Problem::Unreadable, crate::error::io_reason(&e)));
        }
    };
    if meta.is_dir() {
        return Err(refuse(Problem::NotAFile, "is a folder, not a file".into()));
    }
    if !meta.is_file() {
        return Err(refuse(Problem::NotAFile, "is not a regular file".into()));
    }
    let name = file_name(&path);
    let Some(format) = format_of_name(&name) else {
        let reason = match path.extension() {
            Some(ext) => format!("files of type .{} are not accepted", ext.to_string_lossy()),
            None => "the file has no extension to tell its type".into(),
        };
        return Err(refuse(Problem::Type, reason));
    };
    let size = meta.len();
    if size > MAX_UPLOAD_BYTES {
        return Err(refuse(
            Problem::Size,
            format!(
                "{} ({size} bytes) is over the 500 MB limit ({MAX_UPLOAD_BYTES} bytes)",
                human_size(size)
            ),
        ));
    }
    // Opening proves it can be read; nothing is read now.
    if let Err(e) = std::fs::File::open(&path) {
        return Err(refuse(Problem::Unreadable, crate::error::io_reason(&e)));
    }
    Ok(Item::File(LocalFile {
        path,
        name,
        size,
        format,
    }))
}

fn is_url(arg: &str) -> bool {
    let lower = arg.get(..8).unwrap_or(arg).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// The part's file name: the path's last component.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_string_lossy().into_owned())
}

/// An argument as shown in a message: control characters removed.
fn shown(arg: &str) -> String {
    crate::sanitize::strip_controls(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(is_url("HTTPS://x.test/a.mp4"));
        assert!(is_url("http://x"));
        assert!(!is_url("httpx.mp4"));
        assert!(!is_url("ftp://x/a.mp4"));
    }

    #[test]
    fn every_format_is_checked_case_insensitively() {
        for format in crate::api::upload::FORMATS {
            let name = format!("a.{}", format.extension.to_uppercase());
            assert_eq!(format_of_name(&name), Some(&format));
        }
    }
}
