//! `nemo doctor`: one screen that says what nemo will use and whether it
//! works — version, API URL and whether it answers, config folder and its
//! permissions, token source and validity, current session, sandbox or
//! real, proxies, TLS roots. What a user pastes into a bug report. An API
//! that cannot be reached through a proxy blames the proxy; an
//! `SSL_CERT_FILE` that holds no certificate is a failed check, reported
//! with the others (it does not stop doctor from starting).
//!
//! It reads and asks; it never changes anything (no anonymous login, no
//! token renewal, no session) and never prints the token, only its mask.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::context::Context;
use crate::env;
use crate::error::{Error, Kind, Result};
use crate::report::{Report, Text};

/// How long the API gets to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[derive(Debug, Default, clap::Args)]
#[command(
    long_about = "Show what nemo will use and whether it works: version, API URL and whether it \
                  answers, config folder and its permissions, token source and validity (masked, \
                  never the token), current session, sandbox or real service, proxies and TLS \
                  roots. Nothing is changed.\n\n\
                  Exit 0 when every check passes; otherwise the exit code of the first failing \
                  check (3 token rejected, 9 API unreachable, …; see `nemo help exit-codes`).",
    after_help = "Examples:\n  nemo doctor\n  nemo doctor --json\n  nemo --sandbox doctor"
)]
pub struct Args {}

/// One line of the report.
#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    /// false: this check failed; `exit_code` says how.
    ok: bool,
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<u8>,
    #[serde(skip)]
    error: Option<Error>,
}

impl Check {
    fn ok(name: &'static str, value: impl Into<String>) -> Check {
        Check {
            name,
            ok: true,
            value: value.into(),
            detail: None,
            exit_code: None,
            error: None,
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Check {
        self.detail = Some(detail.into());
        self
    }

    fn failed(name: &'static str, value: impl Into<String>, error: Error) -> Check {
        Check {
            name,
            ok: false,
            value: value.into(),
            detail: Some(error.to_string()),
            exit_code: Some(error.exit_code()),
            error: Some(error),
        }
    }
}

#[derive(Debug, Serialize)]
struct Doctor {
    ok: bool,
    checks: Vec<Check>,
}

impl Report for Doctor {
    fn human(&self, text: &mut Text) {
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for check in &self.checks {
            let mark = if check.ok { "✓" } else { "✗" };
            let mut line = format!("{mark} {:width$}  {}", check.name, check.value);
            if let Some(detail) = &check.detail {
                line.push_str(&format!(" — {detail}"));
            }
            text.line(line);
        }
    }
}

pub async fn run(_args: &Args, ctx: &Context) -> Result<()> {
    let settings = &ctx.settings;
    let mut checks: Vec<Check> = vec![Check::ok(
        "nemo",
        format!(
            "{} ({} {})",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::env::consts::ARCH
        ),
    )];
    checks.push(Check::ok(
        "mode",
        if settings.sandbox {
            "sandbox (the built-in emulator, offline)"
        } else {
            "the real service"
        },
    ));
    checks.push(config_check(ctx));
    let (check, token) = match ctx.current_token() {
        Ok(Some(t)) => {
            let kind = if t.anonymous {
                "anonymous"
            } else {
                "registered"
            };
            let mut check = Check::ok(
                "token",
                format!("{} ({kind}, from {})", t.token.masked(), t.source.name()),
            );
            if let Some(at) = &t.expires_at {
                check = check.detail(format!("expires {at}"));
            }
            (check, Some(t))
        }
        Ok(None) => (
            Check::ok("token", "none").detail("a free anonymous one is made on first use"),
            None,
        ),
        Err(e) => (Check::failed("token", "unreadable", e), None),
    };
    checks.push(check);
    checks.push(match ctx.current_session() {
        Ok(Some(id)) => Check::ok("session", id),
        Ok(None) => Check::ok("session", "none").detail("one is created on first need"),
        Err(e) => Check::failed("session", "unreadable", e),
    });
    let api = settings.api_url.to_string();
    checks.push(match token {
        Some(t) => {
            let client = ctx.api.with_token(t.token.clone());
            match tokio::time::timeout(ANSWER_WITHIN, client.credits()).await {
                Ok(Ok(balance)) => Check::ok("api", api).detail(format!(
                    "answers; the token works ({} credits available)",
                    balance.available
                )),
                Ok(Err(e)) => Check::failed("api", api, blame_proxy(settings, e)),
                Err(_) => Check::failed("api", api, no_answer()),
            }
        }
        None => match reachable(ctx).await {
            Ok(status) => Check::ok("api", api).detail(format!("answers (HTTP {status})")),
            Err(e) => Check::failed("api", api, blame_proxy(settings, e)),
        },
    });
    checks.push(proxy_check());
    checks.push(tls_check());
    let failed = checks.iter_mut().find_map(|c| c.error.take());
    let report = Doctor {
        ok: failed.is_none(),
        checks,
    };
    ctx.printer.report(&report)?;
    match failed {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

fn no_answer() -> Error {
    Error::network(format!("no answer within {} s", ANSWER_WITHIN.as_secs()))
        .with_hint("check the URL (--api-url, NEMO_API_URL), the network and the proxy variables")
}

/// Without a token: does anything answer at the API's origin? Any HTTP
/// status will do; one try, bounded.
async fn reachable(ctx: &Context) -> Result<u16> {
    let mut origin = ctx.settings.api_url.clone();
    origin.set_path("/");
    origin.set_query(None);
    let request = ctx
        .api
        .client_for(&origin)?
        .get(origin)
        .timeout(ANSWER_WITHIN)
        .send();
    match tokio::time::timeout(ANSWER_WITHIN + Duration::from_secs(1), request).await {
        Ok(Ok(answer)) => Ok(answer.status().as_u16()),
        Ok(Err(e)) => Err(crate::api::network_error(e)),
        Err(_) => Err(no_answer()),
    }
}

/// A connection that could not be made while a proxy is in effect for the
/// API's URL: it is the proxy that refused (the API host was never
/// dialled), so the error names it.
fn blame_proxy(settings: &crate::settings::Settings, err: Error) -> Error {
    let refused = err.causes().any(|cause| {
        cause
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_connect)
    });
    let url = &settings.api_url;
    let Some((name, proxy)) = refused.then(|| proxy_for(url)).flatten() else {
        return err;
    };
    let host = crate::api::host_of(url);
    Error::network(format!(
        "cannot connect to the proxy {} ({name}) on the way to {host}",
        hide_password(&proxy)
    ))
    .with_hint(format!(
        "check the proxy in {name}, or add {host} to NO_PROXY to go without it"
    ))
    .with_source(err)
}

/// The proxy variable reqwest uses for `url` (by its scheme, then
/// `ALL_PROXY`), unless `NO_PROXY` names its host.
fn proxy_for(url: &reqwest::Url) -> Option<(&'static str, String)> {
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let bypassed = env::NO_PROXY
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .flat_map(|list| {
            list.split(',')
                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .any(|entry| {
            entry == "*"
                || (!entry.is_empty()
                    && (host.eq_ignore_ascii_case(&entry)
                        || host.to_ascii_lowercase().ends_with(&format!(".{entry}"))))
        });
    if bypassed {
        return None;
    }
    let names: [&'static str; 4] = if url.scheme() == "https" {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names.into_iter().find_map(|name| {
        let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty())?;
        Some((name, value))
    })
}

fn config_check(ctx: &Context) -> Check {
    let dir = ctx.store.dir();
    let file = ctx.store.path();
    let shown = dir.display().to_string();
    if !dir.exists() {
        return Check::ok("config", shown).detail("not created yet");
    }
    if let Err(e) = ctx.store.load() {
        return Check::failed("config", shown, e);
    }
    let mut modes = vec![format!("folder {}", mode(dir))];
    if file.exists() {
        modes.push(format!("nemo-cli.json {}", mode(&file)));
    }
    Check::ok("config", shown).detail(modes.join(", "))
}

#[cfg(unix)]
fn mode(path: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(meta) => format!("{:04o}", meta.permissions().mode() & 0o7777),
        Err(e) => format!("unreadable ({})", e.kind()),
    }
}

#[cfg(not(unix))]
fn mode(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(meta) if meta.permissions().readonly() => "read-only".into(),
        Ok(_) => "writable".into(),
        Err(e) => format!("unreadable ({})", e.kind()),
    }
}

/// The proxy variables in effect, with any password hidden.
fn proxy_check() -> Check {
    let set: Vec<String> = env::PROXIES
        .iter()
        .chain(env::NO_PROXY.iter())
        .filter_map(|name| {
            let value = std::env::var(name).ok().filter(|v| !v.trim().is_empty())?;
            Some(format!("{name}={}", hide_password(&value)))
        })
        .collect();
    if set.is_empty() {
        Check::ok("proxy", "none")
    } else {
        Check::ok("proxy", set.join(" "))
    }
}

/// `http://user:secret@host:3128` → `http://user:****@host:3128`.
fn hide_password(value: &str) -> String {
    match reqwest::Url::parse(value) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("****"));
            url.to_string()
        }
        _ => value.to_string(),
    }
}

fn tls_check() -> Check {
    let Some(file) = std::env::var_os(env::SSL_CERT_FILE).filter(|v| !v.is_empty()) else {
        return Check::ok("tls roots", "the system's (platform verifier)");
    };
    let path = Path::new(&file);
    let value = format!("{} (SSL_CERT_FILE)", path.display());
    match crate::api::read_cert_file(path) {
        Ok(certs) => {
            let trusted = if cfg!(target_os = "linux") {
                "trusted in place of the system's roots"
            } else {
                "trusted besides the system's roots"
            };
            let count = match certs.len() {
                1 => "1 certificate".to_string(),
                n => format!("{n} certificates"),
            };
            Check::ok("tls roots", value).detail(format!("{count}, {trusted}"))
        }
        Err(problem) => Check::failed(
            "tls roots",
            value,
            Error::new(
                Kind::Usage,
                format!("SSL_CERT_FILE cannot be used: {problem}"),
            )
            .with_hint("point it at a PEM file of CA certificates, or unset it"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_passwords_are_hidden() {
        assert_eq!(
            hide_password("http://me:secret@proxy.example:3128"),
            "http://me:****@proxy.example:3128/"
        );
        assert_eq!(hide_password("proxy.example:3128"), "proxy.example:3128");
    }
}
