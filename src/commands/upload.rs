//! `nemo upload PATH_OR_URL…`: a leaf over [`crate::flow::upload`], which
//! checks every argument first, then streams local files to the session one
//! request per file and sends URLs in one JSON request
//! (`../shared/spec/cli.md` "nemo upload"). This module owns the command
//! line and the lines shown per uploaded file.
//!
//! Nothing is sent — not even a token or session request — unless every
//! argument passes.

use serde::Serialize;
use serde_json::Value;

use crate::api::upload::{UploadAnswer, UploadedFile};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::upload::{Item, check_all, send_file, send_urls};
use crate::report::{Report, Text};

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

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let items = check_all(&args.items)?;
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
        print_files(ctx, &answer)?;
        files.extend(answer.files);
    }
    if !urls.is_empty() {
        let answer = send_urls(ctx, &mut session, &mut recovered, &urls)
            .await
            .map_err(|err| uploaded_before(&files, err))?;
        print_files(ctx, &answer)?;
        files.extend(answer.files);
    }

    ctx.printer.report(&Uploaded { files })
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
}
