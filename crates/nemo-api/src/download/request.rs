//! One download request: the GET (with `Range` and `If-Range` when
//! resuming), redirects
//! followed by hand, and error answers turned into typed errors. The token
//! and attribution headers go only to the API's origin, through the
//! client's credentials (renewed like any call); every other host gets a plain request. No
//! answer headers within a minute counts as a stall.

use std::time::Duration;

use reqwest::header;
use reqwest::{Method, Response, StatusCode, Url};

use super::{Level, Progress};
use crate::error::{Error, Kind, Result};
use crate::{self as api, ApiClient, Retry};

/// A stalled transfer (no headers, or no bytes) is given up after this.
pub(super) const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed from one URL.
const MAX_REDIRECTS: usize = 5;

/// `host:port` of a URL, for messages.
pub(super) fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => "the output URL".into(),
    }
}

/// Sends the GET for `url` (from `offset` when above zero, only if the
/// file is still `if_range` when one is known) and follows
/// redirects by hand. Answers that are errors become typed errors; 206 and
/// 416 come back to the caller, with the URL they came from in the end.
pub(super) async fn open<P: Progress>(
    api: &ApiClient,
    progress: &P,
    url: &Url,
    offset: u64,
    if_range: Option<&str>,
) -> Result<(Response, String)> {
    let mut current = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        let response = if api.is_api_origin(&current) {
            let target = current.clone();
            tokio::time::timeout(
                api.scaled(STALL_TIMEOUT),
                api.signed_in(|| send(api, &target, offset, if_range, true)),
            )
            .await
        } else {
            tokio::time::timeout(
                api.scaled(STALL_TIMEOUT),
                send(api, &current, offset, if_range, false),
            )
            .await
        }
        .map_err(|_| {
            Error::new(
                Kind::Network,
                format!("{} did not answer in time", host_of(&current)),
            )
        })??;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    Error::bad_answer("the download answered a redirect without a location")
                })?;
            current = current
                .join(location)
                .map_err(|_| Error::bad_answer("the download redirects to an invalid URL"))?;
            if !matches!(current.scheme(), "http" | "https") {
                return Err(Error::bad_answer(
                    "the download redirects to something that is not http(s)",
                ));
            }
            progress.note(
                Level::Debug,
                &format!("following a redirect to {}", host_of(&current)),
            );
            continue;
        }
        return Ok((response, current.to_string()));
    }
    Err(Error::bad_answer("the download redirects too many times"))
}

/// One GET: with the token and attribution headers on the API's origin,
/// plain elsewhere. Retried as a read.
async fn send(
    api: &ApiClient,
    url: &Url,
    offset: u64,
    if_range: Option<&str>,
    auth: bool,
) -> Result<Response> {
    let response = api
        .send(Retry::Read, None, || {
            let builder = if auth {
                api.request_to(Method::GET, url.clone(), true)?
            } else {
                api.client_for(url)?.get(url.clone())
            };
            if offset == 0 {
                return Ok(builder);
            }
            let builder = builder.header(header::RANGE, format!("bytes={offset}-"));
            // The validator came in a header, so it can go back in one.
            Ok(match if_range {
                Some(validator) => builder.header(header::IF_RANGE, validator),
                None => builder,
            })
        })
        .await?;
    let status = response.status();
    if status.is_redirection() || status == StatusCode::RANGE_NOT_SATISFIABLE {
        return Ok(response);
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if !status.is_success() {
        // An error page: JSON, `detail`, HTML or XML from a CDN.
        return Err(api::read_json(response)
            .await
            .err()
            .unwrap_or_else(|| api::status_error(status, None)));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim_start().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("text/html") {
        // A web page with a success status: a CDN's or proxy's error page.
        return Err(Error::bad_answer(
            "the download server answered a web page instead of the file",
        ));
    }
    if content_type.starts_with("text/") {
        // "Access Denied", "Not Found": an error in words, not a render.
        return Err(Error::bad_answer(
            "the download server answered text instead of the file",
        ));
    }
    if is_json {
        // A JSON answer where a file was expected: an API error (1001…)
        // in the envelope, or something this client cannot use.
        let value = api::read_json(response).await?;
        api::check_envelope(&value)?;
        return Err(Error::bad_answer(
            "the download answered JSON instead of the file",
        ));
    }
    Ok(response)
}
