//! `nemo upload PATH_OR_URL…`: a leaf over [`crate::flow::upload`], which
//! checks every argument first, then streams local files to the session one
//! request per file and sends URLs in one JSON request
//! (`../shared/spec/cli.md` "nemo upload"), and gives the lines shown per
//! uploaded file. This module owns the command line.
//!
//! Nothing is sent — not even a token or session request — unless every
//! argument passes.

use crate::context::Context;
use crate::error::Result;
use crate::flow::upload::{Files, upload};

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

stdout: a line per uploaded file: name, type, duration, WxH, two spaces apart; `-` where the server gave no value (an image has no duration).
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
    let uploaded = upload(ctx, &args.items, |files| ctx.printer.human(&Files(files))).await?;
    ctx.printer.report(&uploaded)
}
