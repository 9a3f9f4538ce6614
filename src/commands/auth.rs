//! `nemo auth`: log in (anonymous or with a registered token), show the
//! login, print the token, log out.

use std::time::SystemTime;

use serde_json::json;

use crate::config::StoredToken;
use crate::context::{Context, CurrentToken, TokenSource};
use crate::error::{Error, Kind, Result};
use crate::report::Shown;
use login::{login_anonymous, login_new_client_id, login_with_token};

mod login;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  nemo auth login\n  nemo auth status\n  nemo auth login --with-token < token.txt\n  nemo auth logout"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuthCommand {
    /// Get a free anonymous token (100 credits, 7 days), or store a registered one
    #[command(
        after_help = "Examples:\n  nemo auth login\n  nemo auth login --with-token < token.txt\n  echo \"$MY_TOKEN\" | nemo auth login --with-token"
    )]
    Login(LoginArgs),
    /// Show whether a usable token is there, checked with the server (exit 0), or not (exit 3)
    #[command(
        after_help = "Examples:\n  nemo auth status\n  nemo auth status --offline\n  nemo auth status --json | jq .expires_at"
    )]
    Status(StatusArgs),
    /// Print the token (the only command that does)
    #[command(after_help = "Examples:\n  curl -H \"Authorization: Bearer $(nemo auth token)\" …")]
    Token,
    /// Forget the stored token (the client id stays)
    #[command(after_help = "Examples:\n  nemo auth logout")]
    Logout,
}

#[derive(Debug, Default, clap::Args)]
pub struct StatusArgs {
    /// Check only that a token is there and has not expired; send nothing
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Read a registered token from stdin instead
    #[arg(long, conflicts_with = "new_client_id")]
    pub with_token: bool,
    /// Start over with a fresh client id (the old one goes to client_id.old)
    /// (when the server refuses this id a free token)
    #[arg(long)]
    pub new_client_id: bool,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    match &args.command {
        AuthCommand::Login(login) if login.with_token => login_with_token(ctx).await,
        AuthCommand::Login(login) if login.new_client_id => login_new_client_id(ctx).await,
        AuthCommand::Login(_) => login_anonymous(ctx).await,
        AuthCommand::Status(status_args) => status(status_args, ctx).await,
        AuthCommand::Token => token(ctx),
        AuthCommand::Logout => logout(ctx),
    }
}

/// What the server said of the token (`auth status` without `--offline`).
enum Check {
    /// Not asked: `--offline`, or no usable token to ask about.
    NotAsked,
    /// It answered a credits read with this balance.
    Accepted(i64),
    /// It rejected the token (1001).
    Rejected,
}

/// One credits read with the token as it is: no renewal, no retry with
/// another token (a status must not change the login).
async fn check_with_server(ctx: &Context, current: &CurrentToken) -> Result<Check> {
    match ctx.api.with_token(current.token.clone()).credits().await {
        Ok(balance) => Ok(Check::Accepted(balance.available)),
        Err(err) if err.is(Kind::TokenRejected) => Ok(Check::Rejected),
        Err(err) => Err(err.with_hint(
            "the token could not be checked with the server; `nemo auth status --offline` checks it locally",
        )),
    }
}

async fn status(args: &StatusArgs, ctx: &Context) -> Result<()> {
    let current = ctx.current_token()?;
    let client_id = ctx.existing_client_id()?;
    let check = match current.as_ref().filter(|c| !c.is_expired()) {
        Some(c) if !args.offline => check_with_server(ctx, c).await?,
        _ => Check::NotAsked,
    };
    let rejected = matches!(check, Check::Rejected);
    let usable = current.as_ref().filter(|c| !c.is_expired() && !rejected);
    let doc = match &current {
        Some(c) => json!({
            "logged_in": usable.is_some(),
            "source": c.source.name(),
            "anonymous": c.anonymous,
            "user_id": c.user_id,
            "expires_at": c.expires_at,
            "client_id": client_id,
        }),
        None => json!({
            "logged_in": false,
            "source": null,
            "anonymous": null,
            "user_id": null,
            "expires_at": null,
            "client_id": null,
        }),
    };
    let mut report = Shown::new(doc);
    if let Some(c) = &current {
        let source = match c.source {
            TokenSource::Env => "NEMO_TOKEN".to_string(),
            TokenSource::Config => ctx.store.path().display().to_string(),
            TokenSource::OfficialConfig => ctx
                .store
                .dir()
                .join(crate::config::OFFICIAL_CONFIG_FILE)
                .display()
                .to_string(),
        };
        let kind = if c.source == TokenSource::Env {
            "given"
        } else if c.anonymous {
            "anonymous"
        } else {
            "registered"
        };
        let mut lines = vec![format!(
            "{} ({kind})",
            if rejected {
                "Token rejected by the server"
            } else if usable.is_some() {
                "Logged in"
            } else {
                "Token expired"
            }
        )];
        if let Check::Accepted(credits) = check {
            lines.push(format!("  server:    accepted ({credits} credits)"));
        }
        lines.extend([
            format!("  token:     {}", c.token.masked()),
            format!("  source:    {source}"),
        ]);
        if let Some(user) = &c.user_id {
            lines.push(format!("  user:      {user}"));
        }
        if let Some(expires) = &c.expires_at {
            let when = crate::time::parse(expires).map(|at| relative(at, SystemTime::now()));
            lines.push(match when {
                Some(when) => format!("  expires:   {expires} ({when})"),
                None => format!("  expires:   {expires}"),
            });
        }
        if let Some(id) = &client_id {
            lines.push(format!("  client id: {id}"));
        }
        report = report.line(lines.join("\n"));
    }
    ctx.printer.report(&report)?;
    match (&current, usable) {
        (_, Some(_)) => Ok(()),
        (Some(c), None) if rejected => Err(Error::new(Kind::Auth, "the server rejected the token")
            .with_hint(if c.source == TokenSource::Env {
                "NEMO_TOKEN holds a token the server does not accept: set a valid one, or unset it"
            } else {
                "run `nemo auth logout`, then `nemo auth login`"
            })),
        (Some(_), None) => Err(Error::new(Kind::Auth, "the stored token has expired")
            .with_hint("run `nemo auth login` (any command renews a free token on use)")),
        (None, None) => Err(Error::not_logged_in()),
    }
}

fn token(ctx: &Context) -> Result<()> {
    match ctx.current_token()? {
        Some(current) => {
            let token = current.token.expose();
            ctx.printer
                .report(&Shown::new(json!({ "token": token })).line(token))
        }
        None => Err(Error::not_logged_in()),
    }
}

fn logout(ctx: &Context) -> Result<()> {
    let forgotten = ctx.store.update(|config| Ok(config.token.take()))?;
    if ctx.settings.env_token.is_some() {
        ctx.printer
            .warn("NEMO_TOKEN is still set; unset it to log out fully");
    }
    if let Some(stored) = &forgotten
        && stored.anonymous
        && !is_expired(stored)
    {
        ctx.printer.warn(
            "that free token was still valid: this client id cannot get another free one for up to 7 days",
        );
    }
    ctx.printer.report(
        &Shown::new(json!({"logged_out": true})).status(if forgotten.is_some() {
            "Logged out"
        } else {
            "Not logged in; nothing to forget"
        }),
    )
}

/// "in 7 days", "3 hours ago": the distance from `now` to `at` in its
/// largest whole unit, rounded to the nearest (a 7-day token read a
/// second after it was issued expires "in 7 days", not 6).
fn relative(at: SystemTime, now: SystemTime) -> String {
    let (span, future) = match at.duration_since(now) {
        Ok(d) => (d, true),
        Err(e) => (e.duration(), false),
    };
    let secs = span.as_secs_f64();
    let (n, unit) = if secs < 59.5 {
        return if future {
            "in less than a minute".into()
        } else {
            "less than a minute ago".into()
        };
    } else if secs < 3570.0 {
        ((secs / 60.0).round(), "minute")
    } else if secs < 84_600.0 {
        ((secs / 3600.0).round(), "hour")
    } else {
        ((secs / 86_400.0).round(), "day")
    };
    // Whole and at most a few hundred thousand: exact as an integer.
    let n = n as u64;
    let text = if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

fn is_expired(stored: &StoredToken) -> bool {
    crate::keyring::from_stored(stored.clone()).is_expired()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn distances_round_to_the_nearest_unit() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let at = |secs: i64| {
            if secs >= 0 {
                now + Duration::from_secs(secs as u64)
            } else {
                now - Duration::from_secs((-secs) as u64)
            }
        };
        let week = 7 * 86_400;
        assert_eq!(relative(at(week - 1), now), "in 7 days");
        assert_eq!(relative(at(week - 3600), now), "in 7 days");
        assert_eq!(relative(at(6 * 86_400 + 3600), now), "in 6 days");
        assert_eq!(relative(at(86_400 - 5), now), "in 1 day");
        assert_eq!(relative(at(2 * 3600 - 30), now), "in 2 hours");
        assert_eq!(relative(at(90), now), "in 2 minutes");
        assert_eq!(relative(at(59), now), "in less than a minute");
        assert_eq!(relative(at(-3 * 3600), now), "3 hours ago");
        assert_eq!(relative(at(-20), now), "less than a minute ago");
    }
}
