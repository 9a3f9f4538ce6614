//! The `chat` tool: one turn of `nemo chat` (the same turn, under the same
//! rules: sent once, a dropped stream watched through the state), whose
//! reply goes to a sink of its own rather than stdout, and whose result is
//! one object: `{"session_id","reply","silent","changes","dropped"}`.
//!
//! The reply's text streams out as progress notes while it comes.

use std::cell::RefCell;
use std::time::Duration;

use serde_json::{Value, json};

use super::tools::Listener;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::turn::sink::{Done, Sink};
use crate::flow::turn::{DEFAULT_IDLE_TIMEOUT_SECS, DEFAULT_TIMEOUT_SECS, Limits, turn};
use crate::printer::Printer;

/// Sends `message` in the context's session and returns the turn's result.
pub(super) async fn run(ctx: &Context, message: &str, listener: Option<Listener>) -> Result<Value> {
    let message = message.trim();
    if message.is_empty() {
        return Err(Error::usage("the message is empty"));
    }
    // The command's own limits: `--timeout` and `--idle-timeout` as their
    // defaults.
    let limits = Limits::with(
        Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
        ctx.settings.chat_time_scale,
    );
    let mut session = ctx.ensure_session().await?;
    let result = RefCell::new(None);
    let sink = Box::new(Collect {
        listener,
        result: &result,
    });
    turn(ctx, &mut session, message, &limits, sink).await?;
    let mut document = result
        .into_inner()
        .unwrap_or_else(|| json!({"reply": "", "silent": true, "changes": [], "dropped": false}));
    if let Value::Object(fields) = &mut document {
        // The session the turn ended in (a lost one is replaced).
        fields.insert("session_id".into(), Value::from(session));
    }
    Ok(document)
}

/// Keeps the end of the turn; passes the reply's text on as progress.
struct Collect<'a> {
    listener: Option<Listener>,
    result: &'a RefCell<Option<Value>>,
}

impl Sink for Collect<'_> {
    fn text(&mut self, _: &Printer, text: &str) -> Result<()> {
        if let Some(listener) = &self.listener {
            listener(text);
        }
        Ok(())
    }

    fn wants_changes(&self) -> bool {
        true
    }

    fn done(&mut self, _: &Printer, done: &Done<'_>) -> Result<()> {
        *self.result.borrow_mut() = Some(json!({
            "reply": done.text,
            "silent": done.text.trim().is_empty(),
            "changes": done.changes,
            "dropped": done.after_drop,
        }));
        Ok(())
    }
}
