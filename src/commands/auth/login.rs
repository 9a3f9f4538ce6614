//! `nemo auth login`: a free token for the client id, a fresh client id
//! when the server refuses the old one, or a registered token from stdin
//! (checked with the server before it is stored).

use std::io::Read;

use serde_json::json;

use super::is_expired;
use crate::config::StoredToken;
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::report::Shown;
use crate::secret::Secret;

pub(super) async fn login_anonymous(ctx: &Context) -> Result<()> {
    if ctx.settings.env_token.is_some() {
        ctx.printer
            .warn("NEMO_TOKEN is set and wins over the token stored by `nemo auth login`");
    }
    let stored = ctx.store.load()?.token;
    let current = match stored {
        Some(stored) if !(stored.anonymous && is_expired(&stored)) => {
            ctx.printer.status(if stored.anonymous {
                "Already logged in with a free token; `nemo auth logout` first to replace it"
            } else {
                "Already logged in with a registered token; `nemo auth logout` first to replace it"
            });
            crate::keyring::from_stored(stored)
        }
        _ => ctx.anonymous_login(None).await?,
    };
    let credits = ctx.api.credits().await.ok().map(|b| b.available);
    let mut line = String::from("Logged in");
    if let Some(user) = &current.user_id {
        line.push_str(&format!(" as {user}"));
    }
    if let Some(credits) = credits {
        line.push_str(&format!(" ({credits} credits)"));
    }
    ctx.printer.report(
        &Shown::new(json!({
            "user_id": current.user_id,
            "expires_at": current.expires_at,
            "credits": credits,
            "anonymous": current.anonymous,
        }))
        .status(line),
    )
}

/// `auth login --new-client-id`: the server gives one free token per
/// client id a week, and an answer that never arrived may have used it up.
/// Keeps the old id in `client_id.old`, makes a new one, forgets a stored
/// free token (it belongs to the old id) and logs in afresh.
pub(super) async fn login_new_client_id(ctx: &Context) -> Result<()> {
    if ctx.settings.env_client_id.is_some() {
        return Err(Error::usage(
            "the client id comes from NEMO_CLIENT_ID, which nemo cannot replace",
        )
        .with_hint("unset NEMO_CLIENT_ID, or set it to another UUID"));
    }
    if let Some(stored) = ctx.store.load()?.token
        && !stored.anonymous
    {
        return Err(Error::usage(
            "a registered token is stored; it does not depend on the client id",
        )
        .with_hint("`nemo auth logout` first if you really want a free token instead"));
    }
    let old = ctx.store.client_id_path();
    if old.exists() {
        let kept = old.with_file_name("client_id.old");
        std::fs::rename(&old, &kept).map_err(|e| {
            Error::config(format!(
                "cannot move {} to {}: {e}",
                old.display(),
                kept.display()
            ))
        })?;
    }
    let id = ctx
        .store
        .write_client_id(&uuid::Uuid::new_v4().to_string())?;
    crate::keyring::forget_pending_login(ctx.store.dir())?;
    ctx.store.update(|config| {
        config.token = None;
        Ok(())
    })?;
    ctx.printer.status(format!("New client id {id}"));
    login_anonymous(ctx).await
}

pub(super) async fn login_with_token(ctx: &Context) -> Result<()> {
    let mut stdin = std::io::stdin();
    if ctx.printer.stdin_is_terminal() {
        if !ctx.printer.can_prompt() {
            return Err(Error::usage(
                "`auth login --with-token` would wait for a token typed on the terminal, and --no-input (or CI) rules that out",
            )
            .with_hint("pipe it in: `nemo auth login --with-token < token.txt`"));
        }
        ctx.printer
            .status("Paste the token, then press Enter and Ctrl-D:");
    }
    let mut text = String::new();
    stdin.read_to_string(&mut text).map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            Error::usage("the token on stdin is not valid UTF-8")
        } else {
            Error::io("cannot read the token from stdin", e)
        }
    })?;
    let value = text.trim();
    if value.is_empty() {
        return Err(Error::new(Kind::Usage, "no token on stdin")
            .with_hint("pipe it in: `nemo auth login --with-token < token.txt`"));
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::usage(
            "the token on stdin must be one word on one line",
        ));
    }
    let token = Secret::new(value);
    // Verify before storing: a token that does not work is never saved.
    let balance = ctx
        .api
        .with_token(token.clone())
        .credits()
        .await
        .map_err(|err| match err {
            err if err.is(Kind::TokenRejected) => Error::new(
                Kind::Auth,
                "the server rejected that token; nothing was stored",
            )
            .with_hint("check that you copied the whole token"),
            other => other,
        })?;
    let stored = StoredToken {
        value: token,
        anonymous: false,
        user_id: None,
        expires_at: None,
        client_id: None,
        extra: Default::default(),
    };
    ctx.store.update(|config| {
        config.token = Some(stored);
        Ok(())
    })?;
    ctx.printer.report(
        &Shown::new(json!({
            "user_id": null,
            "expires_at": null,
            "credits": balance.available,
            "anonymous": false,
        }))
        .status(format!(
            "Logged in with a registered token ({} credits)",
            balance.available
        )),
    )
}
