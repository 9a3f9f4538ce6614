//! The project's browser link (the claim link, `<web>/workspace/claim?ct=…`
//! from `POST /api/auth/claim-token`), given after every saved export as
//! the official skill does (`../shared/spec/cli.md` "nemo export").
//!
//! A link that cannot be made is a warning, never a failure: the file is
//! saved by then. It must not touch the render or its file.

use crate::context::Context;
use crate::error::{Error, Result};

/// The link for `session_id`, or `None` (with a warning) when the server
/// would not give one.
pub(crate) async fn project_url(ctx: &Context, session_id: &str) -> Option<String> {
    match claim_url(ctx, session_id).await {
        Ok(url) => Some(url),
        Err(err) => {
            ctx.printer
                .warn(format!("cannot get the project's browser link: {err}"));
            None
        }
    }
}

async fn claim_url(ctx: &Context, session_id: &str) -> Result<String> {
    Ok(claim_link(ctx, session_id).await?.0)
}

/// The claim link of `session_id` and how long it lasts (seconds), from
/// its task (recorded, else read from the session's state).
/// `nemo session open` prints the same link.
pub(crate) async fn claim_link(ctx: &Context, session_id: &str) -> Result<(String, Option<u64>)> {
    let known = ctx
        .store
        .load()?
        .session(session_id)
        .and_then(|s| s.task_id.clone());
    let task_id = match known {
        Some(task) => task,
        None => {
            let state = ctx.api.state(session_id).await?;
            let task = state.task_id().ok_or_else(|| {
                Error::bad_answer(format!(
                    "the server did not say which task session {session_id} belongs to"
                ))
            })?;
            // Kept for next time only for a session the config knows: a
            // batch job's session lives in the batch's journal, and the
            // config stays bounded.
            ctx.store.update(|config| {
                if let Some(known) = config
                    .sessions
                    .iter_mut()
                    .find(|s| s.session_id == session_id)
                {
                    known.task_id = Some(task.clone());
                }
                Ok(())
            })?;
            task
        }
    };
    let claim = ctx.api.claim_token(&task_id, session_id).await?;
    let url = crate::links::claim(&ctx.settings.web_url, &claim.claim_token);
    Ok((url, claim.expires_in))
}
