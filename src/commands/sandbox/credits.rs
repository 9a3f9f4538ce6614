//! `nemo sandbox credits N`: the balance of a running `nemo sandbox`
//! (`NEMO_API_URL` at a loopback URL, through its `POST /_sandbox/credits`),
//! else of the `--sandbox` state's current user (through the in-process
//! emulator's same endpoint).

use reqwest::Url;
use serde_json::json;

use super::in_process::InProcess;
use crate::error::{Error, Kind, Result};
use crate::printer::Printer;
use crate::report::Shown;
use crate::settings::Settings;

/// `nemo sandbox credits N`: of the running emulator `NEMO_API_URL`
/// points at (a loopback URL: `nemo sandbox` listens nowhere else),
/// else of the current `--sandbox` user (made now when there is none).
pub(super) async fn set_credits(
    credits: u32,
    settings: &Settings,
    printer: &Printer,
) -> Result<()> {
    if !settings.sandbox && is_loopback(&settings.api_url) {
        return set_running_credits(credits, &settings.api_url, printer).await;
    }
    let mut settings = settings.clone();
    settings.sandbox = true;
    let sandbox = InProcess::start(&mut settings, printer).await?;
    let api_url = settings.api_url.clone();
    let ctx = crate::context(settings, printer)?;
    let answer = match ctx.api.credential().await {
        Ok(token) => post_credits(&api_url, Some(token.token.expose()), credits).await,
        Err(err) => Err(err),
    };
    sandbox.finish().await?;
    let answer = answer?;
    let user = answer["users"][0].clone();
    printer.report(
        &Shown::new(json!({ "user_id": user, "available": credits }))
            .line(format!("Sandbox balance: {credits} credits")),
    )
}

/// The balance of every user of the emulator at `api_url`, and of the
/// anonymous users it makes from now on.
async fn set_running_credits(credits: u32, api_url: &Url, printer: &Printer) -> Result<()> {
    let answer = post_credits(api_url, None, credits).await?;
    let host = api_url.as_str().trim_end_matches('/');
    printer.report(
        &Shown::new(json!({
            "api_url": host,
            "available": credits,
            "users": answer["users"],
        }))
        .line(format!(
            "Balance of the sandbox at {host}: {credits} credits"
        )),
    )
}

/// Whether `url` is plain http to this machine.
fn is_loopback(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    url.scheme() == "http"
        && (host.eq_ignore_ascii_case("localhost")
            || bare
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()))
}

/// `POST /_sandbox/credits` to the emulator at `api_url` (directly,
/// never through a proxy: it is on this machine).
async fn post_credits(
    api_url: &Url,
    token: Option<&str>,
    credits: u32,
) -> Result<serde_json::Value> {
    let host = api_url.as_str().trim_end_matches('/');
    let not_there = || {
        // No `nemo sandbox` in the advice: the printer would add
        // `--sandbox` to it, which is not what runs an emulator.
        Error::network(format!(
            "no sandbox emulator answers at {host} (NEMO_API_URL)"
        ))
        .with_hint(
            "start the emulator again (its first line gives the URL to set), or unset NEMO_API_URL to set the balance of the --sandbox state",
        )
    };
    let endpoint = api_url.join("_sandbox/credits").map_err(|_| not_there())?;
    // reqwest is built without a TLS provider of its own; none is used
    // here, but building a client needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only(std::iter::empty())
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| Error::network(format!("cannot set up HTTP: {e}")))?;
    let mut request = client.post(endpoint).json(&json!({ "available": credits }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| not_there().with_source(e))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status.is_success() && body["available"].is_number() {
        return Ok(body);
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(Error::new(
            Kind::BadAnswer,
            format!("{host} (NEMO_API_URL) answers, but it is not a sandbox emulator"),
        )
        .with_hint("point NEMO_API_URL at the URL the emulator printed first, or unset it"));
    }
    let detail = body["detail"].as_str().unwrap_or("no reason given");
    Err(Error::new(
        Kind::BadAnswer,
        format!(
            "the sandbox at {host} did not set the balance (HTTP {}): {}",
            status.as_u16(),
            crate::sanitize::strip_controls(detail)
        ),
    ))
}
