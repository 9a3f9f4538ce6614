//! Submitting a render, written ahead: the draft is read and must have
//! content; the render id (`render_<unix ms>`) is recorded in the config
//! before the submit is sent; when the answer is lost (cut, timed out,
//! 5xx, unreadable), the server may have taken it, so that id is polled:
//! the render goes on when the server knows it, and only when it does not
//! is the render submitted once more, under a new id recorded first too.
//! A submit the server refused (`{"success":false}`) is tried once more
//! with a new id, and the refused id is forgotten.
//!
//! It must not wait for the render or download anything (`wait`, `download`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::Value;

use super::records;
use super::target::{Target, check_output};
use crate::api::render::{RenderOutput, RenderRequest, RenderState, RenderStatus};
use crate::context::Context;
use crate::error::{Error, Kind, Result};

/// The status a render is recorded with before its submit is answered.
pub(crate) const SUBMITTING: &str = "submitting";

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

/// What a failed submit says about the render.
enum Failure {
    /// The server answered and refused it (a duplicate id, a busy
    /// service): no render; worth one more try with a new id.
    Refused,
    /// The answer was lost: the server may have taken it.
    Lost,
    /// Plan, auth, session or input problems: the same again would fail.
    Final,
}

fn failure(err: &Error) -> Failure {
    match err.kind() {
        Kind::Api | Kind::Http => Failure::Refused,
        Kind::Server | Kind::Network | Kind::BadAnswer => Failure::Lost,
        _ => Failure::Final,
    }
}

/// What [`submit`] leaves: the recorded render.
pub(crate) struct Submitted {
    pub id: String,
    pub path: PathBuf,
    pub status: String,
}

/// Reads the draft of the session, records the render id, submits the
/// render and reconciles a lost answer (see the module's header).
pub(crate) async fn submit(
    ctx: &Context,
    target: &Target,
    format: &str,
    quality: &str,
    force: bool,
) -> Result<Submitted> {
    let session = super::session(ctx)?;
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
    loop {
        let (id, path) = record_ahead(
            ctx,
            previous.as_deref(),
            target,
            &session,
            format,
            quality,
            force,
        )?;
        let request = RenderRequest {
            id: &id,
            session_id: &session,
            draft: &draft,
            output: RenderOutput { format, quality },
        };
        let result = ctx.api.submit_render(&request).await;
        let err = match result {
            Ok(answer) => {
                let status = answer
                    .status
                    .map(|s| RenderState::parse(&s).name().to_string())
                    .unwrap_or_else(|| "pending".into());
                // The server's id wins if it differs (it is the one to poll);
                // the file keeps the name checked above.
                let server_id = answer.id.filter(|a| !a.trim().is_empty() && *a != id);
                let id = match server_id {
                    Some(server_id) => {
                        records::note(ctx, &id, |r| r.render_id = server_id.clone());
                        server_id
                    }
                    None => id,
                };
                return Ok(accepted(ctx, id, &session, path, status));
            }
            Err(err) => err,
        };
        let retry = previous.is_none();
        match failure(&err) {
            Failure::Lost => {
                ctx.printer.warn(format!(
                    "the answer to the submit of render {id} was lost ({err}); asking the server whether it took it"
                ));
                match known(ctx, &id).await {
                    Ok(Some(status)) => {
                        let status = status.state.name().to_string();
                        return Ok(accepted(ctx, id, &session, path, status));
                    }
                    Ok(None) if retry => {
                        records::forget(ctx, &id);
                        ctx.printer.warn(format!(
                            "the server did not take render {id}; submitting once more with a new id"
                        ));
                    }
                    Ok(None) => {
                        records::forget(ctx, &id);
                        return Err(err);
                    }
                    // Still in doubt: the record stays, and resume finds out.
                    Err(read) => {
                        return Err(read
                            .with_message(format!(
                                "the answer to the submit of render {id} was lost, and the server cannot be asked about it: {err}"
                            ))
                            .with_hint(format!(
                                "the render may have been taken; run `nemo export resume {id}` to find out and download it"
                            )));
                    }
                }
            }
            Failure::Refused if retry => {
                records::forget(ctx, &id);
                ctx.printer.warn(format!(
                    "the render was not accepted ({err}); trying once more with a new id"
                ));
                // Parallel exports may have picked the same millisecond.
                tokio::time::sleep(Duration::from_millis(fastrand::u64(200..700))).await;
            }
            _ => {
                records::forget(ctx, &id);
                return Err(err);
            }
        }
        previous = Some(id);
    }
}

/// Records a new render id (later than `previous`) before its submit:
/// from here on `nemo export resume` finds it. An id another process of
/// this config recorded in the same millisecond is passed over.
fn record_ahead(
    ctx: &Context,
    previous: Option<&str>,
    target: &Target,
    session: &str,
    format: &str,
    quality: &str,
    force: bool,
) -> Result<(String, PathBuf)> {
    let mut after = previous.map(str::to_string);
    // Each pass takes a later millisecond; parallel processes run out of
    // clashes long before this bound.
    for _ in 0..64 {
        let id = new_render_id(after.as_deref());
        let path = target.path_for(&id, format);
        check_output(&path, force)?;
        if records::add(ctx, &id, session, format, quality, &path, SUBMITTING)? {
            return Ok((id, path));
        }
        after = Some(id);
    }
    Err(Error::config(
        "cannot record a render id: every one tried was taken by another nemo",
    ))
}

/// The render is the server's now: its status recorded and said.
fn accepted(ctx: &Context, id: String, session: &str, path: PathBuf, status: String) -> Submitted {
    records::note(ctx, &id, |r| r.status = status.clone());
    ctx.printer
        .status(format!("Submitted render {id} (session {session})"));
    Submitted { id, path, status }
}

/// Whether the server knows render `id`: its status, or `None` when it
/// answers that there is no such render. Any other failure is doubt.
pub(crate) async fn known(ctx: &Context, id: &str) -> Result<Option<RenderStatus>> {
    let read = ctx.api.render_status(id).await;
    match read {
        Ok(status) => Ok(Some(status)),
        // The client reads HTTP 404 on a render as "the server knows no
        // render" (bad input).
        Err(err) if err.is(Kind::BadInput) => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lost_answer_is_polled_and_only_a_refusal_is_tried_again() {
        let lost = |kind| matches!(failure(&Error::new(kind, "x")), Failure::Lost);
        let refused = |kind| matches!(failure(&Error::new(kind, "x")), Failure::Refused);
        for kind in [Kind::Network, Kind::Server, Kind::BadAnswer] {
            assert!(lost(kind), "{kind:?}");
        }
        for kind in [Kind::Api, Kind::Http] {
            assert!(refused(kind), "{kind:?}");
        }
        for kind in [
            Kind::Plan,
            Kind::Auth,
            Kind::SessionNotFound,
            Kind::RateLimited,
        ] {
            assert!(!lost(kind) && !refused(kind), "{kind:?}");
        }
    }

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
