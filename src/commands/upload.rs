//! `nemo upload PATH_OR_URL…`: checks every argument first, then streams
//! local files to the session one request per file, and sends URLs in one
//! JSON request (`../shared/spec/cli.md` "nemo upload").
//!
//! Nothing is sent — not even a token or session request — unless every
//! argument passes. A file's size comes from its metadata; its bytes are
//! only ever read while they are sent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::api::upload::{
    LocalFile, MAX_UPLOAD_BYTES, Progress, UploadAnswer, UploadedFile, format_of_name,
};
use crate::context::Context;
use crate::error::{Error, FORMATS_HINT, Result, SIZE_HINT};
use crate::report::{Report, Text};
use crate::size::human as human_size;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Every argument is checked before anything is sent: a file must exist, be readable, have an
accepted extension (any case) and be at most 500 MB (500 × 1024 × 1024 bytes, from its
metadata). If any argument fails, nothing is sent and nemo exits with 7.

Accepted: mp4 mov avi webm mkv (video), jpg jpeg png gif webp (image), mp3 wav m4a aac (audio).

Local files are streamed from disk, so memory stays flat whatever their size, one request per
file: each file gets its own progress bar, a failure names the file it happened to, the files
before it stay uploaded, and a retry re-sends that one file only. http(s):// arguments are sent
together in one request after the files; the server fetches them. The session is created when
there is none, and replaced (with a warning) if the server lost it.

stdout: a line per uploaded file: name, type, duration, WxH (the fields the server gave).
--json: {\"files\":[…]} as the server returned them.

Examples:
  nemo upload intro.mp4 logo.png music.mp3
  nemo upload https://example.com/clip.mp4
  nemo upload ~/Videos/*.MOV --json | jq -r '.files[].cdn_url'")]
pub struct Args {
    /// Files to upload, or http(s):// URLs for the server to fetch
    // OS strings: a path need not be UTF-8 to be uploaded.
    #[arg(value_name = "PATH_OR_URL", required = true)]
    pub items: Vec<std::ffi::OsString>,
}

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

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let items = check_all(&args.items)?;
    let mut session = ctx.ensure_session().await?;
    let mut recovered = false;
    let mut files: Vec<Value> = Vec::new();
    let (locals, urls): (Vec<_>, Vec<_>) =
        items.into_iter().partition(|i| matches!(i, Item::File(_)));
    let uploaded_before = |files: &[Value], err: Error| {
        if !files.is_empty() {
            let names: Vec<String> = files.iter().map(display_name).collect();
            ctx.printer
                .warn(format!("uploaded before the failure: {}", names.join(", ")));
        }
        err
    };

    for item in &locals {
        let Item::File(file) = item else { continue };
        let answer = upload_file(ctx, &mut session, &mut recovered, file)
            .await
            .map_err(|err| uploaded_before(&files, err))?;
        print_files(ctx, &answer)?;
        files.extend(answer.files);
    }

    let urls: Vec<String> = urls
        .into_iter()
        .filter_map(|i| match i {
            Item::Url(url) => Some(url),
            Item::File(_) => None,
        })
        .collect();
    if !urls.is_empty() {
        if !ctx.printer.shows_progress() {
            ctx.printer.status(format!(
                "Sending {} URL{}…",
                urls.len(),
                if urls.len() == 1 { "" } else { "s" }
            ));
        }
        let spinner = ctx.printer.spinner(format!(
            "Sending {} URL{}",
            urls.len(),
            if urls.len() == 1 { "" } else { "s" }
        ));
        let answer = ctx
            .with_session(&mut session, &mut recovered, |sid| {
                let urls = urls.clone();
                async move { ctx.api.upload_urls(&sid, &urls).await }
            })
            .await;
        spinner.finish_and_clear();
        let answer = answer.map_err(|err| uploaded_before(&files, err))?;
        print_files(ctx, &answer)?;
        files.extend(answer.files);
    }

    ctx.printer.report(&Uploaded { files })
}

/// Uploads one file with its progress bar.
async fn upload_file(
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

/// The files of one answer, shown as they are uploaded: a line each.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Files<'a>(&'a [Value]);

impl Report for Files<'_> {
    fn human(&self, text: &mut Text) {
        for value in self.0 {
            text.line(file_line(&UploadedFile::from_value(value)));
        }
    }
}

/// The result of `nemo upload`: `{"files":[…]}` as the server returned
/// them. Its text form is empty: each file's line was shown as it was
/// uploaded ([`Files`]).
#[derive(Debug, Serialize)]
struct Uploaded {
    files: Vec<Value>,
}

impl Report for Uploaded {
    fn human(&self, _: &mut Text) {}
}

fn print_files(ctx: &Context, answer: &UploadAnswer) -> Result<()> {
    ctx.printer.human(&Files(&answer.files))
}

fn display_name(value: &Value) -> String {
    UploadedFile::from_value(value)
        .filename
        .map(|n| crate::sanitize::strip_controls(&n))
        .unwrap_or_else(|| "(unnamed)".into())
}

/// `name  type  duration  WxH`, with only the fields the server gave.
fn file_line(file: &UploadedFile) -> String {
    let mut fields = Vec::new();
    fields.push(
        file.filename
            .as_deref()
            .map(|n| one_line(&crate::sanitize::strip_controls(n)))
            .unwrap_or_else(|| "(unnamed)".into()),
    );
    if let Some(kind) = &file.file_type {
        fields.push(one_line(&crate::sanitize::strip_controls(kind)));
    }
    if let Some(duration) = file.duration {
        fields.push(format!("{}s", trim_number(duration)));
    }
    if let (Some(w), Some(h)) = (file.width, file.height) {
        fields.push(format!("{}x{}", trim_number(w), trim_number(h)));
    }
    fields.join("  ")
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `30.5`, `12`, not `12.0`.
fn trim_number(n: f64) -> String {
    let text = format!("{:.2}", n);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
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
    use serde_json::json;

    #[test]
    fn lines_show_only_what_the_server_gave() {
        let full = UploadedFile::from_value(&json!({
            "filename": "a.mp4", "file_type": "video", "duration": 30.5, "width": 1920, "height": 1080
        }));
        assert_eq!(file_line(&full), "a.mp4  video  30.5s  1920x1080");
        let image = UploadedFile::from_value(
            &json!({"filename": "b.png", "file_type": "image", "width": 10, "height": 20}),
        );
        assert_eq!(file_line(&image), "b.png  image  10x20");
        let odd =
            UploadedFile::from_value(&json!({"filename": "c\u{1b}[31m.mp3\n", "duration": 12}));
        assert_eq!(file_line(&odd), "c.mp3  12s");
    }

    #[test]
    fn sizes_and_urls() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(human_size(600 * 1024 * 1024), "600.0 MB");
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
