//! The balance check of `generate` and `batch` before anything is sent:
//! the token, and the balance against the estimated cost (about
//! [`CREDITS_PER_GENERATION`] a generation; exit 4 when short).
//!
//! With `dry_run` it sends nothing at all: no token is requested (what
//! would be done is said instead) and a rejected token is not renewed.

use crate::api::credits::Balance;
use crate::context::{Context, TokenSource};
use crate::error::{Error, Kind, Result};

/// The estimated cost of one generation, in credits.
pub(crate) const CREDITS_PER_GENERATION: i64 = 100;

/// What is known of the balance before the work starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Funds {
    /// Read from the server; enough for the work.
    Known(Balance),
    /// No usable token yet (`--dry-run` only): a free one would be
    /// requested first.
    NoToken,
}

impl Funds {
    pub(crate) fn available(&self) -> Option<i64> {
        match self {
            Funds::Known(balance) => Some(balance.available),
            Funds::NoToken => None,
        }
    }
}

/// Reads the balance and checks it covers `generations`; short is exit 4
/// with nothing sent. With `dry_run`, no token is requested or renewed.
pub(crate) async fn check_funds(ctx: &Context, generations: usize, dry_run: bool) -> Result<Funds> {
    let needed = CREDITS_PER_GENERATION.saturating_mul(generations as i64);
    let balance = if dry_run {
        let current = match ctx.current_token()? {
            Some(current)
                if !(current.source == TokenSource::Config
                    && current.anonymous
                    && current.is_expired()) =>
            {
                current
            }
            _ => return Ok(Funds::NoToken),
        };
        match ctx.api.with_token(current.token.clone()).credits().await {
            Err(err)
                if err.is(Kind::TokenRejected)
                    && current.source == TokenSource::Config
                    && current.anonymous =>
            {
                return Ok(Funds::NoToken);
            }
            other => other?,
        }
    } else {
        ctx.api.credits().await?
    };
    if balance.available < needed {
        return Err(short(ctx, balance.available, needed, generations));
    }
    Ok(Funds::Known(balance))
}

/// Too few credits for the work (exit 4), with where to get more.
fn short(ctx: &Context, available: i64, needed: i64, generations: usize) -> Error {
    let work = if generations == 1 {
        "a generation costs".to_string()
    } else {
        format!("{generations} generations cost")
    };
    let err = Error::new(
        Kind::CreditsBelow,
        format!("only {available} credits available; {work} about {needed}: nothing was sent"),
    );
    let anonymous_user = ctx
        .current_token()
        .ok()
        .flatten()
        .filter(|t| t.anonymous)
        .and_then(|t| t.user_id);
    err.with_hint(ctx.no_credits_hint(anonymous_user.as_deref()))
}
