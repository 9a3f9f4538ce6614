//! The render endpoints (`../shared/spec/api.md` "Export"): submit
//! (`POST /api/render/proxy/lambda`), status (`GET …/lambda/<id>`, both
//! documented answer shapes), cancel (`POST …/lambda/<id>/cancel`) and the
//! URL of the fallback download (`GET /api/render/proxy/<id>/download`).
//!
//! Downloading the file itself (CDN, `Range`, `.part`) belongs to
//! `commands::export`; this module only speaks the JSON endpoints.

use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ApiClient, Retry, segment};
use crate::error::{Error, Kind, Result};

/// The body of a render submit. `sessionId` is the API's one camelCase key.
#[derive(Debug, Clone, Serialize)]
pub struct RenderRequest<'a> {
    pub id: &'a str,
    #[serde(rename = "sessionId")]
    pub session_id: &'a str,
    pub draft: &'a Value,
    pub output: RenderOutput<'a>,
}

/// `output` of a render submit.
#[derive(Debug, Clone, Serialize)]
pub struct RenderOutput<'a> {
    pub format: &'a str,
    pub quality: &'a str,
}

/// The `data` of an accepted submit. The server only echoes the id nemo
/// sent: its echo is taken when it satisfies the id rule (a number as its
/// exact digits), else it is `None` and the id nemo sent stays the id —
/// an odd echo is never a refusal, which would submit a second render.
#[derive(Debug, Clone, Deserialize)]
pub struct Submitted {
    #[serde(default, deserialize_with = "crate::ids::echoed_id")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "crate::sanitize::opt_clean")]
    pub status: Option<String>,
}

/// Where a render is, as the server says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderState {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
    /// A status this client does not know; waited on like `processing`.
    Other(String),
}

impl RenderState {
    pub fn parse(status: &str) -> RenderState {
        match status.trim().to_ascii_lowercase().as_str() {
            "pending" | "queued" | "submitted" => RenderState::Pending,
            "processing" | "rendering" | "running" | "in_progress" => RenderState::Processing,
            "completed" | "complete" | "done" | "succeeded" | "success" => RenderState::Completed,
            "failed" | "error" => RenderState::Failed,
            "cancelled" | "canceled" => RenderState::Cancelled,
            _ => RenderState::Other(clean(status, 40)),
        }
    }

    /// The name nemo records and prints.
    pub fn name(&self) -> &str {
        match self {
            RenderState::Pending => "pending",
            RenderState::Processing => "processing",
            RenderState::Completed => "completed",
            RenderState::Failed => "failed",
            RenderState::Cancelled => "cancelled",
            RenderState::Other(name) => name,
        }
    }
}

/// A status answer, read from either documented shape.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderStatus {
    pub state: RenderState,
    /// 0–100.
    pub progress: Option<u8>,
    pub output_url: Option<String>,
    /// The file size, when the server says.
    pub size: Option<u64>,
    /// The server's reason for a failure, single-line and control-free.
    pub error: Option<String>,
}

/// The fields of both shapes: `{"success":true,"data":{status, progress,
/// outputUrl, error}}` and `{"id","status","progress","output":{"url","size"}}`.
#[derive(Debug, Deserialize)]
struct StatusBody {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    progress: Option<Value>,
    #[serde(default, rename = "outputUrl", alias = "output_url")]
    output_url: Option<String>,
    #[serde(default)]
    output: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

impl RenderStatus {
    /// Reads a status answer of either shape.
    pub fn from_answer(answer: &Value) -> Result<RenderStatus> {
        let body = match answer.get("data") {
            Some(data) if data.is_object() => data,
            _ => answer,
        };
        let body: StatusBody = serde_json::from_value(body.clone()).map_err(|e| {
            Error::bad_answer("the render status answer is not in the documented form")
                .with_source(e)
        })?;
        let status = body
            .status
            .ok_or_else(|| Error::bad_answer("the render status answer has no status"))?;
        let (nested_url, size) = match &body.output {
            Some(Value::String(url)) => (Some(url.clone()), None),
            Some(Value::Object(output)) => (
                output
                    .get("url")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                output.get("size").and_then(Value::as_u64),
            ),
            _ => (None, None),
        };
        let progress = match &body.progress {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().trim_end_matches('%').parse::<f64>().ok(),
            _ => None,
        }
        .filter(|p| p.is_finite())
        .map(|p| p.clamp(0.0, 100.0).round() as u8);
        let error = match &body.error {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(e)) => e.get("message").and_then(Value::as_str).map(str::to_string),
            _ => None,
        }
        .map(|e| clean(&e, 300))
        .filter(|e| !e.is_empty());
        Ok(RenderStatus {
            state: RenderState::parse(&status),
            progress,
            output_url: body
                .output_url
                .or(nested_url)
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty()),
            size,
            error,
        })
    }
}

/// Server text made safe to print: no controls, one line, at most `max`
/// characters.
fn clean(text: &str, max: usize) -> String {
    let text = crate::sanitize::strip_controls(text);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut short: String = text.chars().take(max).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

impl ApiClient {
    /// Submits a render. A refusal (`{"success":false}`, e.g. a duplicate
    /// id) is an `Error::Api`; HTTP 402 is `Error::Plan`.
    pub async fn submit_render(&self, request: &RenderRequest<'_>) -> Result<Submitted> {
        self.signed_in(|| async {
            let answer = self
                .fetch(Retry::Write, || {
                    Ok(self
                        .request(Method::POST, "/api/render/proxy/lambda", true)?
                        .json(request))
                })
                .await?;
            let bytes = answer.body.clone();
            super::check_envelope(&super::decode(answer)?)?;
            crate::ids::data_of(&bytes, "the render submit's answer")
        })
        .await
    }

    /// Reads a render's status (a read: retried on network errors and 5xx).
    pub async fn render_status(&self, id: &str) -> Result<RenderStatus> {
        let path = format!("/api/render/proxy/lambda/{}", segment(id));
        let answer = self
            .signed_in(|| self.call_value(Retry::Read, || self.request(Method::GET, &path, true)))
            .await
            .map_err(|err| not_found(err, id))?;
        RenderStatus::from_answer(&answer)
    }

    /// Cancels a render in the cloud; the answer as it came (a refusal,
    /// `{"success":false}`, is an `Error::Api`). What it says is the
    /// caller's to read: an answer that does not say the render was
    /// cancelled is not a success.
    pub async fn cancel_render(&self, id: &str) -> Result<Value> {
        let path = format!("/api/render/proxy/lambda/{}/cancel", segment(id));
        self.signed_in(|| self.call_value(Retry::Write, || self.request(Method::POST, &path, true)))
            .await
            .map_err(|err| not_found(err, id))
    }

    /// The fallback download on the API host (sent with the bearer token,
    /// since it is the API's origin).
    pub fn render_download_url(&self, id: &str) -> Result<Url> {
        self.url(&format!("/api/render/proxy/{}/download", segment(id)))
    }
}

/// HTTP 404 on a render endpoint: the id is unknown (to this user).
fn not_found(err: Error, id: &str) -> Error {
    match err {
        err if err.is(Kind::Http) && err.status() == Some(404) => Error::bad_input(
            format!("the server knows no render {}", clean(id, 100)),
            Some("`nemo export list` shows the renders this config recorded".into()),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_data_shape() {
        let s = RenderStatus::from_answer(&json!({"success":true,"data":{
            "id":"render_1","status":"completed","progress":100,
            "outputUrl":"https://cdn.example/render_1.mp4","createdAt":1,"completedAt":2}}))
        .unwrap();
        assert_eq!(s.state, RenderState::Completed);
        assert_eq!(s.progress, Some(100));
        assert_eq!(
            s.output_url.as_deref(),
            Some("https://cdn.example/render_1.mp4")
        );
    }

    #[test]
    fn reads_the_flat_shape() {
        let s = RenderStatus::from_answer(&json!({"id":"render_1","status":"completed",
            "progress":100,"output":{"url":"https://cdn.example/x.mp4","duration":1.0,"size":3565}}))
        .unwrap();
        assert_eq!(s.state, RenderState::Completed);
        assert_eq!(s.output_url.as_deref(), Some("https://cdn.example/x.mp4"));
        assert_eq!(s.size, Some(3565));
    }

    #[test]
    fn failures_carry_a_clean_error() {
        let s = RenderStatus::from_answer(&json!({"id":"r","status":"failed","progress":"40%",
            "error":"\u{1b}[31mout of\nmemory\u{7}"}))
        .unwrap();
        assert_eq!(s.state, RenderState::Failed);
        assert_eq!(s.progress, Some(40));
        assert_eq!(s.error.as_deref(), Some("out of memory"));
    }

    #[test]
    fn unknown_statuses_are_kept_and_missing_ones_are_errors() {
        let s = RenderStatus::from_answer(&json!({"success":true,"data":{"status":"Encoding"}}))
            .unwrap();
        assert_eq!(s.state, RenderState::Other("Encoding".into()));
        assert_eq!(s.progress, None);
        assert!(
            RenderStatus::from_answer(&json!({"success":true,"data":{"progress":3}}))
                .is_err_and(|e| e.is(Kind::BadAnswer))
        );
    }
}

#[cfg(test)]
mod props;
