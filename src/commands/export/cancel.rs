//! `nemo export cancel [RENDER_ID]`: cancel a render in the cloud (the
//! latest one this config recorded when no id is given).
//!
//! Contract (`../shared/spec/cli.md` "nemo export"): "Cancelled" is said
//! only when the answer says so; an answer that cannot be read is exit 9; a
//! render that already ended (completed, failed, cancelled) is exit 7,
//! "nothing to cancel", with a hint that leads somewhere that works. Its
//! status is read first: the service answers a cancel of a cancelled
//! render as if it were new. It must not wait for or download anything.

use serde_json::Value;

use super::render_id_or_latest;
use crate::api::render::{RenderState, RenderStatus};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::flow::render::{self, note};
use crate::report::Shown;

/// What a cancel answer says.
#[derive(Debug, PartialEq)]
enum Answer {
    /// The render is cancelled (or the server accepted the cancel).
    Cancelled,
    /// The render had already ended this way.
    Ended(RenderState),
}

/// Reads a cancel answer: an envelope that says success (`"success":true`
/// or `"code":0`), with, when its data names a status, that status.
/// Anything else (`[1,2,3]`, `null`, `{}`) cannot be read.
fn read_answer(answer: &Value) -> Result<Answer> {
    let unreadable =
        || Error::bad_answer("the answer to the cancel cannot be read; the render may still run");
    let ok = answer.get("success").and_then(Value::as_bool) == Some(true)
        || answer.get("code").and_then(Value::as_i64) == Some(0);
    if !ok {
        return Err(unreadable());
    }
    let status = answer
        .get("data")
        .and_then(|d| d.get("status"))
        .or_else(|| answer.get("status"));
    match status {
        None | Some(Value::Null) => Ok(Answer::Cancelled),
        Some(Value::String(s)) => match RenderState::parse(s) {
            RenderState::Completed => Ok(Answer::Ended(RenderState::Completed)),
            RenderState::Failed => Ok(Answer::Ended(RenderState::Failed)),
            // Accepted, and on its way to cancelled.
            _ => Ok(Answer::Cancelled),
        },
        Some(_) => Err(unreadable()),
    }
}

fn nothing_to_cancel(ctx: &Context, id: &str, state: &RenderState) -> Error {
    let saved = ctx.store.load().ok().and_then(|c| {
        c.render(id)
            .and_then(|r| render::saved(r).map(str::to_string))
    });
    let ended = match state {
        RenderState::Cancelled => "been cancelled".to_string(),
        other => other.name().to_string(),
    };
    Error::bad_input(
        format!("render {id} has already {ended}: nothing to cancel"),
        Some(match (state, saved) {
            (RenderState::Completed, Some(path)) => format!("it was saved to {path}"),
            (RenderState::Completed, None) => {
                format!("download it with `nemo export resume {id}`")
            }
            _ => "start a new one with `nemo export`".to_string(),
        }),
    )
}

/// The render's status when it has ended (completed, failed, cancelled);
/// `None` when it runs or its status cannot be read (the cancel is sent).
async fn ended(ctx: &Context, id: &str) -> Option<RenderState> {
    match render::known(ctx, id).await.ok()??.state {
        state @ (RenderState::Completed | RenderState::Failed | RenderState::Cancelled) => {
            Some(state)
        }
        _ => None,
    }
}

pub(super) async fn run(given: Option<&str>, ctx: &Context) -> Result<()> {
    let id = render_id_or_latest(given, ctx)?;
    if let Some(state) = ended(ctx, &id).await {
        note(ctx, &id, |r| r.status = state.name().into());
        return Err(nothing_to_cancel(ctx, &id, &state));
    }
    let sent = ctx.api.cancel_render(&id).await;
    let answer = match sent {
        Ok(answer) => read_answer(&answer)?,
        // A refusal: a render that already ended is refused too; its status
        // says which.
        Err(err) if err.is(Kind::Api) => {
            let status: Result<RenderStatus> = ctx.api.render_status(&id).await;
            match status {
                Ok(status)
                    if matches!(status.state, RenderState::Completed | RenderState::Failed) =>
                {
                    Answer::Ended(status.state)
                }
                _ => return Err(err),
            }
        }
        Err(err) => return Err(err),
    };
    if let Answer::Ended(state) = answer {
        return Err(nothing_to_cancel(ctx, &id, &state));
    }
    note(ctx, &id, |r| {
        r.status = RenderState::Cancelled.name().into()
    });
    ctx.printer.status(format!("Cancelled render {id}"));
    // The status line says it all; the text form has no result line.
    ctx.printer.report(&Shown::new(serde_json::json!({
        "render_id": id,
        "status": RenderState::Cancelled.name(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_answer_that_says_success_is_a_cancel() {
        for bad in [
            json!([1, 2, 3]),
            json!(null),
            json!({}),
            json!({"data": {}}),
        ] {
            assert!(
                read_answer(&bad).is_err_and(|e| e.is(Kind::BadAnswer)),
                "{bad}"
            );
        }
        assert_eq!(
            read_answer(&json!({"success": true, "data": {"id": "r", "status": "cancelled"}}))
                .unwrap(),
            Answer::Cancelled
        );
        assert_eq!(read_answer(&json!({"code": 0})).unwrap(), Answer::Cancelled);
        assert_eq!(
            read_answer(&json!({"success": true, "data": {"status": "completed"}})).unwrap(),
            Answer::Ended(RenderState::Completed)
        );
        assert!(read_answer(&json!({"success": true, "data": {"status": 3}})).is_err());
    }
}
