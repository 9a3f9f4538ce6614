//! `nemo export`'s job from start to file, as the command and the chat
//! prompt's "export" both run it: the local checks, the submit written
//! ahead and guarded from Ctrl-C, then the wait and the download
//! ([`follow`], which `export resume` shares). The steps are
//! [`crate::flow::render`]'s; this module owns their order and the one
//! result they give ([`Exported`]).
//!
//! It returns its result and must not print it (the caller reports it);
//! status lines and hints on stderr are part of the job.

use std::path::Path;

use serde::Serialize;

use crate::api::render::RenderState;
use crate::cli::render::RenderArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::claim::project_url;
use crate::flow::render::{self, Submitted, Target, Wait, resume_hint, submit};
use crate::interrupt::Interrupt;
use crate::report::{Report, Text};

/// What an export asks for: `nemo export`'s options.
#[derive(Debug, Default)]
pub(crate) struct Start<'a> {
    /// A file, or an existing folder; `None` for `./<render id>.<format>`.
    pub output: Option<&'a Path>,
    /// Submit only, and give back the render id.
    pub no_wait: bool,
    /// Overwrite the output file if it exists.
    pub force: bool,
    /// Format, quality and how to wait.
    pub render: RenderArgs,
}

/// The one JSON document of `export` and `export resume`.
#[derive(Debug, Serialize)]
pub(crate) struct Exported {
    pub render_id: String,
    pub status: String,
    pub url: Option<String>,
    pub path: String,
    pub bytes: Option<u64>,
    /// The project's browser link, once the file is saved.
    pub project_url: Option<String>,
    /// The text form: the id (`--no-wait`) or the path of the file.
    #[serde(skip)]
    pub shown_as: String,
}

impl Report for Exported {
    fn human(&self, text: &mut Text) {
        text.line(&self.shown_as);
    }
}

/// Starts a render of the current session and, unless `no_wait`, follows
/// it to a file.
pub(crate) async fn start(ctx: &Context, args: &Start<'_>) -> Result<Exported> {
    // Every local check before anything remote, and before the render id
    // is recorded: the output path (free unless --force, its folder written
    // to for real), a session. The options are typed: clap checked them.
    let format = args.render.format.as_str().to_string();
    let quality = args.render.quality.as_str().to_string();
    let wait = Wait::new(
        args.render.wait.poll_interval,
        args.render.wait.timeout,
        ctx,
    );
    let target = Target::from_option(args.output)?;
    render::check(ctx, &target, &format, args.force)?;
    render::session(ctx)?;

    // Ctrl-C is caught from here on: the render id is recorded before the
    // submit goes out, so `export resume` finds whatever the server took.
    let mut interrupt = Interrupt::new();
    let submitted = tokio::select! {
        result = submit(ctx, &target, &format, &quality, args.force) => result?,
        () = interrupt.recv() => {
            return Err(Error::interrupted().with_hint(
                "if the server took the render, `nemo export resume` picks it up",
            ));
        }
    };
    let Submitted { id, path, status } = submitted;

    if args.no_wait {
        ctx.printer
            .hint(format!("follow it with `nemo export resume {id}`"));
        return Ok(Exported {
            shown_as: id.clone(),
            render_id: id,
            status,
            url: None,
            path: path.display().to_string(),
            bytes: None,
            project_url: None,
        });
    }
    follow(ctx, &id, &path, args.force, false, &wait, &mut interrupt).await
}

/// Waits for the render, downloads it and gives back the result; Ctrl-C
/// leaves the render running and says how to resume it.
pub(crate) async fn follow(
    ctx: &Context,
    id: &str,
    path: &Path,
    force: bool,
    resuming: bool,
    wait: &Wait,
    interrupt: &mut Interrupt,
) -> Result<Exported> {
    let fetch = async {
        if resuming {
            render::resume(ctx, id, path, force, wait.clone()).await
        } else {
            render::fetch(ctx, id, path, force, false, wait).await
        }
    };
    let done = tokio::select! {
        result = fetch => result?,
        () = interrupt.recv() => {
            return Err(Error::interrupted().with_hint(resume_hint(id)));
        }
    };
    ctx.printer.status(format!(
        "Saved render {id} ({})",
        crate::size::human(done.bytes)
    ));
    let session = ctx.store.load()?.render(id).map(|r| r.session_id.clone());
    let project_url = match session {
        Some(session) => project_url(ctx, &session).await,
        None => None,
    };
    if let Some(url) = &project_url {
        ctx.printer.status(format!("Project: {url}"));
    }
    Ok(Exported {
        render_id: id.to_string(),
        status: RenderState::Completed.name().into(),
        url: Some(done.url),
        path: path.display().to_string(),
        bytes: Some(done.bytes),
        project_url,
        shown_as: path.display().to_string(),
    })
}
