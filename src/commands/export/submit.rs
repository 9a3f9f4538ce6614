//! Submitting a render: the draft is read and must have content, the render
//! is submitted under a fresh `render_<unix ms>` id (once more with a new id
//! if that fails in a way worth retrying), and recorded at once.
//!
//! It must not wait for the render or download anything (`wait`, `download`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::StartArgs;
use super::records;
use super::target::{Target, check_output};
use crate::api::render::{RenderOutput, RenderRequest, RenderState};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// The last render id this process gave out, in ms.
static LAST_ID_MS: AtomicU64 = AtomicU64::new(0);

/// `render_<unix ms>`, later than `after` (a retry needs a new id) and than
/// every id this process gave out before: `batch -j N` submits renders in
/// the same millisecond, and the server refuses a duplicate id.
pub(crate) fn new_render_id(after: Option<&str>) -> String {
    let after: u64 = after
        .and_then(|id| id.strip_prefix("render_"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0);
    let now = u64::try_from(crate::time::unix_millis()).unwrap_or(u64::MAX - 1);
    let mut id = 0;
    let _ = LAST_ID_MS.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
        id = now.max(after.saturating_add(1)).max(last.saturating_add(1));
        Some(id)
    });
    format!("render_{id}")
}

/// A failed submit worth one more try with a new id: a refusal such as a
/// duplicate id, a server error or a lost connection. Plan, auth, session
/// and input problems would fail the same way again.
fn submit_may_retry(err: &Error) -> bool {
    matches!(
        err.kind(),
        Kind::Api | Kind::Server | Kind::Network | Kind::BadAnswer | Kind::Http
    )
}

/// What [`submit`] leaves: the recorded render.
pub(crate) struct Submitted {
    pub id: String,
    pub path: PathBuf,
    pub status: String,
}

/// Reads the draft, submits the render (once more with a new id if that
/// fails) and records it.
pub(crate) async fn submit(
    ctx: &Context,
    args: &StartArgs,
    target: &Target,
    format: &str,
    quality: &str,
) -> Result<Submitted> {
    let session = ctx.ensure_session().await?;
    let state = ctx.api.state(&session).await?;
    let draft = state.state.get("draft").cloned().unwrap_or(Value::Null);
    // A draft in a form nemo does not read (markup) is submitted as it is.
    if crate::timeline::is_known_empty(&draft) {
        return Err(Error::bad_input(
            format!("the draft of session {session} is empty: there is nothing to export"),
            Some(
                "make something first, e.g. `nemo chat \"make a 10-second video of a panda\"`"
                    .into(),
            ),
        ));
    }

    let mut previous: Option<String> = None;
    let (id, path, answer) = loop {
        let id = new_render_id(previous.as_deref());
        let path = target.path_for(&id, format);
        check_output(&path, args.force)?;
        let request = RenderRequest {
            id: &id,
            session_id: &session,
            draft: &draft,
            output: RenderOutput { format, quality },
        };
        let result = ctx.api.submit_render(&request).await;
        match result {
            Ok(answer) => break (id, path, answer),
            Err(err) if previous.is_none() && submit_may_retry(&err) => {
                ctx.printer.warn(format!(
                    "the render was not accepted ({err}); trying once more with a new id"
                ));
                // Parallel exports may have picked the same millisecond.
                tokio::time::sleep(Duration::from_millis(fastrand::u64(200..700))).await;
                previous = Some(id);
            }
            Err(err) => return Err(err),
        }
    };
    // The server's id wins if it differs (it is the one to poll).
    let id = match answer.id.filter(|a| !a.trim().is_empty() && *a != id) {
        Some(server_id) => server_id,
        None => id,
    };
    // The file keeps the name checked above, whatever id the server gave.
    let status = answer
        .status
        .map(|s| RenderState::parse(&s).name().to_string())
        .unwrap_or_else(|| "pending".into());
    records::add(ctx, &id, &session, format, quality, &path, &status)?;
    ctx.printer
        .status(format!("Submitted render {id} (session {session})"));
    Ok(Submitted { id, path, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_ids_are_unix_millis_and_a_retry_gets_a_later_one() {
        let id = new_render_id(None);
        let ms: u128 = id.strip_prefix("render_").unwrap().parse().unwrap();
        assert!(ms > 1_700_000_000_000);
        let far = format!("render_{}", ms + 10_000);
        assert_eq!(new_render_id(Some(&far)), format!("render_{}", ms + 10_001));
    }

    /// `batch -j 8`: eight jobs submitting at once never share an id.
    #[test]
    fn render_ids_given_out_at_once_are_all_different() {
        let ids: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| (0..200).map(|_| new_render_id(None)).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("a worker"))
                .collect()
        });
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
