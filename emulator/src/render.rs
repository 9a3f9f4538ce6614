//! Emulated render jobs (`../shared/spec/api.md` "Export"): submit, poll
//! (in both documented answer shapes), cancel, and the fallback download on
//! the API listener. The file itself is served by [`crate::cdn`].
//!
//! A render's progress is computed from wall-clock time stored in its record
//! (`created_ms`, `render_ms`), never from a timer in the process, so a
//! render submitted by one `nemo --sandbox` process can be followed by the
//! next. The output URL is built from the CDN listener's address when asked,
//! since `--sandbox` gets a new port each run.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::answer::{authorize, session_of};
use crate::cdn::{rendered_len, serve};
use crate::media::{FORMATS, Media, media};
use crate::model::{EmuState, now_millis, rfc3339};
use crate::server::App;
use crate::spec::draft_has_content;

mod faults;

pub use faults::RenderFaults;
use faults::{lost_answer, take_failure};

/// A render job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Render {
    pub id: String,
    pub user_id: String,
    pub session_id: String,
    pub format: String,
    pub quality: String,
    /// Unix milliseconds of the submit.
    pub created_ms: u64,
    /// How long it takes, fixed at submit time.
    pub render_ms: u64,
    /// The error it ends with, when it is to fail.
    #[serde(default)]
    pub fails_with: Option<String>,
    /// Unix milliseconds of a cancel.
    #[serde(default)]
    pub cancelled_ms: Option<u64>,
}

/// Where a render is at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Processing => "processing",
            Phase::Completed => "completed",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }
}

impl Render {
    /// The phase and progress (0–100) at `now_ms`.
    pub fn at(&self, now_ms: u64) -> (Phase, u8) {
        let elapsed = now_ms.saturating_sub(self.created_ms);
        let progress = |elapsed: u64| -> u8 {
            let done = elapsed.min(self.render_ms) * 90 / self.render_ms.max(1);
            (5 + done).min(99) as u8
        };
        if let Some(at) = self.cancelled_ms {
            return (
                Phase::Cancelled,
                progress(at.saturating_sub(self.created_ms)),
            );
        }
        if elapsed >= self.render_ms {
            return match self.fails_with {
                // Fails at about two thirds of the way.
                Some(_) => (Phase::Failed, progress(self.render_ms * 2 / 3)),
                None => (Phase::Completed, 100),
            };
        }
        if elapsed < self.render_ms / 5 {
            (Phase::Pending, 5)
        } else {
            (Phase::Processing, progress(elapsed))
        }
    }

    pub(crate) fn file_name(&self) -> String {
        format!("{}.{}", self.id, self.format)
    }

    /// The file it produces (none for a format the service does not
    /// render, which a submit never lets in).
    pub(crate) fn media(&self) -> Option<Media> {
        media(&self.format)
    }
}

/// Routes on the API listener.
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/render/proxy/lambda", post(submit))
        .route("/api/render/proxy/lambda/{id}", get(status))
        .route("/api/render/proxy/lambda/{id}/cancel", post(cancel))
        .route("/api/render/proxy/{id}/download", get(download))
}

/// `{"success":false,"error":…}` with `status`.
fn refuse(status: StatusCode, error: &str) -> Response {
    (
        status,
        axum::Json(json!({"success": false, "error": error})),
    )
        .into_response()
}

fn success(data: Value) -> Response {
    axum::Json(json!({"success": true, "data": data})).into_response()
}

/// Ids become file names and URL segments: keep them plain.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The backend cannot attribute a request without all three headers, and
/// then refuses export with HTTP 402 (`api.md` "Headers on every request").
fn attributed(headers: &HeaderMap) -> bool {
    ["x-skill-source", "x-skill-version", "x-skill-platform"]
        .iter()
        .all(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| !v.trim().is_empty())
        })
}

#[derive(Debug, Deserialize)]
struct SubmitBody {
    #[serde(default)]
    id: String,
    #[serde(rename = "sessionId", default)]
    session_id: String,
    #[serde(default)]
    draft: Value,
    #[serde(default)]
    output: OutputBody,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutputBody {
    format: Option<String>,
    quality: Option<String>,
}

async fn submit(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let (id, lost, late) = match take(&app, &headers, &body) {
        Ok(taken) => taken,
        Err(answer) => return answer,
    };
    if lost {
        return lost_answer();
    }
    if late > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(late)).await;
    }
    success(json!({"id": id, "status": "pending", "progress": 5}))
}

/// Takes a submit (the render exists from here on), or the answer that
/// refuses it; a taken submit comes with whether its answer is to be lost
/// and how late it is to come.
fn take(app: &App, headers: &HeaderMap, body: &Bytes) -> Result<(String, bool, u64), Response> {
    let mut st = app.lock();
    if st.faults.render.render_submit_gateway_timeout_next > 0 {
        st.faults.render.render_submit_gateway_timeout_next -= 1;
        return Err((
            StatusCode::GATEWAY_TIMEOUT,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>",
        )
            .into_response());
    }
    let user_id = authorize(&st, headers)?;
    if !attributed(headers) {
        return Err(refuse(
            StatusCode::PAYMENT_REQUIRED,
            "Payment Required: the request could not be attributed to a plan",
        ));
    }
    if st.faults.render.render_plan_required {
        return Err(refuse(
            StatusCode::PAYMENT_REQUIRED,
            "Payment Required: export is not included in the free plan",
        ));
    }
    let Ok(body) = serde_json::from_slice::<SubmitBody>(body) else {
        return Err(refuse(StatusCode::BAD_REQUEST, "Invalid request body"));
    };
    if st.faults.render.render_submit_fail_next > 0 {
        st.faults.render.render_submit_fail_next -= 1;
        return Err(refuse(StatusCode::OK, "Render service is busy, try again"));
    }
    if !valid_id(&body.id) {
        return Err(refuse(StatusCode::OK, "Invalid render id"));
    }
    if st.renders.contains_key(&body.id) {
        return Err(refuse(
            StatusCode::OK,
            &format!("Render {} already exists", body.id),
        ));
    }
    session_of(&mut st, &user_id, &body.session_id)?;
    if !draft_has_content(&body.draft) {
        return Err(refuse(StatusCode::OK, "The draft has nothing to render"));
    }
    let format = body.output.format.unwrap_or_else(|| "mp4".into());
    if !FORMATS.contains(&format.as_str()) {
        return Err(refuse(
            StatusCode::OK,
            &format!("Unsupported output format: {format}"),
        ));
    }
    let fails = take_failure(&mut st);
    let render = Render {
        id: body.id.clone(),
        user_id,
        session_id: body.session_id,
        format,
        quality: body.output.quality.unwrap_or_else(|| "high".into()),
        created_ms: now_millis(),
        render_ms: st.faults.render.render_ms,
        fails_with: fails.then(|| st.faults.render.render_fail_error.clone()),
        cancelled_ms: None,
    };
    st.renders.insert(render.id.clone(), render);
    let lost = st.faults.render.render_submit_lost_next > 0;
    if lost {
        st.faults.render.render_submit_lost_next -= 1;
    }
    let late = st.faults.render.render_submit_answer_ms;
    Ok((body.id, lost, late))
}

/// The caller's render `id`, or the answer to send instead.
fn render_of(st: &EmuState, headers: &HeaderMap, id: &str) -> Result<Render, Response> {
    let user_id = authorize(st, headers)?;
    match st.renders.get(id) {
        Some(render) if render.user_id == user_id => Ok(render.clone()),
        _ => Err(refuse(StatusCode::NOT_FOUND, "Render not found")),
    }
}

async fn status(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let st = app.lock();
    let render = match render_of(&st, &headers, &id) {
        Ok(render) => render,
        Err(answer) => return answer,
    };
    let (phase, progress) = render.at(now_millis());
    let url = (phase == Phase::Completed && !st.faults.render.render_no_output_url)
        .then(|| format!("{}/renders/{}", app.cdn_url, render.file_name()));
    let created_at = rfc3339(render.created_ms / 1000);
    let completed_at = rfc3339((render.created_ms + render.render_ms) / 1000);
    let error = (phase == Phase::Failed).then(|| render.fails_with.clone());
    if st.faults.render.render_status_flat {
        let mut answer = json!({"id": render.id, "status": phase.name(), "progress": progress});
        if let Some(url) = url {
            answer["output"] = json!({
                "url": url,
                "duration": 1.0,
                "size": render.media().map(|m| rendered_len(m, st.faults.render.render_pad_bytes)),
            });
        }
        if let Some(error) = error {
            answer["error"] = json!(error);
        }
        return axum::Json(answer).into_response();
    }
    let mut data = json!({
        "id": render.id,
        "status": phase.name(),
        "progress": progress,
        "createdAt": created_at,
    });
    if let Some(url) = url {
        data["outputUrl"] = json!(url);
        data["completedAt"] = json!(completed_at);
    }
    if let Some(error) = error {
        data["error"] = json!(error);
    }
    success(data)
}

async fn cancel(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let mut st = app.lock();
    let render = match render_of(&st, &headers, &id) {
        Ok(render) => render,
        Err(answer) => return answer,
    };
    let now = now_millis();
    let (phase, _) = render.at(now);
    match phase {
        Phase::Pending | Phase::Processing => {
            if let Some(render) = st.renders.get_mut(&id) {
                render.cancelled_ms = Some(now);
            }
            success(json!({"id": id, "status": "cancelled"}))
        }
        Phase::Cancelled => success(json!({"id": id, "status": "cancelled"})),
        done => refuse(
            StatusCode::OK,
            &format!("Render {id} has already {}", done.name()),
        ),
    }
}

/// The fallback download on the API host (with auth).
async fn download(State(app): State<App>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let st = app.lock();
    let render = match render_of(&st, &headers, &id) {
        Ok(render) => render,
        Err(answer) => return answer,
    };
    if render.at(now_millis()).0 != Phase::Completed {
        return refuse(StatusCode::CONFLICT, "Render is not completed");
    }
    if st.faults.render.render_download_redirect {
        let location = format!("{}/renders/{}", app.cdn_url, render.file_name());
        return match HeaderValue::from_str(&location) {
            Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
            Err(_) => refuse(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect"),
        };
    }
    let Some(media) = render.media() else {
        return refuse(StatusCode::NOT_FOUND, "Render not found");
    };
    let pad = st.faults.render.render_pad_bytes;
    serve(&headers, true, None, &render.file_name(), media, pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_clock() {
        let render = Render {
            id: "render_1".into(),
            user_id: "u".into(),
            session_id: "s".into(),
            format: "mp4".into(),
            quality: "high".into(),
            created_ms: 1_000,
            render_ms: 1_000,
            fails_with: None,
            cancelled_ms: None,
        };
        assert_eq!(render.at(1_000), (Phase::Pending, 5));
        let (phase, progress) = render.at(1_500);
        assert_eq!(phase, Phase::Processing);
        assert!((6..100).contains(&progress));
        assert_eq!(render.at(2_000), (Phase::Completed, 100));
        let failing = Render {
            fails_with: Some("x".into()),
            ..render.clone()
        };
        assert_eq!(failing.at(5_000).0, Phase::Failed);
        let cancelled = Render {
            cancelled_ms: Some(1_300),
            ..render
        };
        assert_eq!(cancelled.at(9_000).0, Phase::Cancelled);
    }

    #[test]
    fn a_default_render_takes_seconds_and_the_poll_at_2_s_sees_progress() {
        let render = Render {
            id: "render_1".into(),
            user_id: "u".into(),
            session_id: "s".into(),
            format: "mp4".into(),
            quality: "high".into(),
            created_ms: 0,
            render_ms: RenderFaults::default().render_ms,
            fails_with: None,
            cancelled_ms: None,
        };
        assert!(render.render_ms <= 3_000);
        assert_eq!(render.at(0), (Phase::Pending, 5));
        let (phase, progress) = render.at(2_000);
        assert_eq!(phase, Phase::Processing);
        assert!(progress > 50, "{progress}");
        assert_eq!(render.at(3_000), (Phase::Completed, 100));
    }

    /// The outcome of the next `n` submits.
    fn outcomes(st: &mut EmuState, n: usize) -> Vec<bool> {
        (0..n).map(|_| take_failure(st)).collect()
    }

    #[test]
    fn fail_nth_and_fail_on_name_positions_of_one_list() {
        let mut st = EmuState::default();
        st.faults.render.render_fail_on = vec![2];
        assert_eq!(outcomes(&mut st, 2), [false, true]);
        // Two submits in: "the 3rd from now" is the 5th.
        st.faults.render.render_fail_nth = 3;
        assert_eq!(outcomes(&mut st, 1), [false]);
        assert_eq!(st.faults.render.render_fail_nth, 0);
        assert_eq!(st.faults.render.render_fail_on, [2, 5]);
        assert_eq!(outcomes(&mut st, 3), [false, true, false]);
        // 1: the very next one.
        st.faults.render.render_fail_nth = 1;
        assert_eq!(outcomes(&mut st, 2), [true, false]);
        st.faults.render.render_fail = true;
        assert_eq!(outcomes(&mut st, 1), [true]);
    }

    #[test]
    fn all_three_attribution_headers_are_needed() {
        let mut headers = HeaderMap::new();
        for name in ["x-skill-source", "x-skill-version", "x-skill-platform"] {
            assert!(!attributed(&headers));
            headers.insert(name, HeaderValue::from_static("x"));
        }
        assert!(attributed(&headers));
        headers.insert("x-skill-platform", HeaderValue::from_static(" "));
        assert!(!attributed(&headers));
    }
}
