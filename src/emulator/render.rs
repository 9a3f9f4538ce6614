//! Emulated renders (`../shared/spec/api.md` "Export"): submit, poll, cancel
//! and the fallback download on the API listener, and the CDN listener that
//! serves rendered files.
//!
//! A render's progress is computed from wall-clock time stored in its record
//! (`created_ms`, `render_ms`), never from a timer in the process, so a
//! render submitted by one `nemo --sandbox` process can be followed by the
//! next. Every completed render "produces" the same real, playable MP4
//! (`assets/render.mp4`, see `assets/README.md`). The output URL is built
//! from the CDN listener's address when asked, since `--sandbox` gets a new
//! port each run. The CDN honours `Range` (206 + `Content-Range`), and, like
//! every listener, has each request recorded with its headers, so tests can
//! check that no bearer token reached it.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{App, EmuState, authorize, now_millis, session_of};

/// The bytes of every rendered file: a 1 s, 160×90 H.264 MP4.
pub const RENDERED_MP4: &[u8] = include_bytes!("assets/render.mp4");

/// Fault switches and settings of renders (flattened into [`super::Faults`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderFaults {
    /// How long a render takes, in milliseconds of wall-clock time (the
    /// first fifth pending, then processing).
    pub render_ms: u64,
    /// Status answers use the top-level shape
    /// `{"id","status","progress","output":{"url",…}}` instead of
    /// `{"success":true,"data":{…,"outputUrl"}}`.
    pub render_status_flat: bool,
    /// Renders submitted while this is on end `failed` with
    /// `render_fail_error`.
    pub render_fail: bool,
    /// The `error` text of failed renders.
    pub render_fail_error: String,
    /// Submits answer HTTP 402 (the free plan may not export).
    pub render_plan_required: bool,
    /// The next N submits answer `{"success":false,"error":…}`.
    pub render_submit_fail_next: u32,
    /// Completed renders come without an output URL.
    pub render_no_output_url: bool,
    /// The CDN answers this HTTP status instead of the file.
    pub render_cdn_status: Option<u16>,
    /// The next CDN download is cut after this many bytes (once).
    pub render_cdn_cut_after: Option<u64>,
    /// The CDN ignores `Range` (whole file, HTTP 200, no `Accept-Ranges`).
    pub render_cdn_no_ranges: bool,
    /// The fallback download answers HTTP 302 to the CDN instead of the file.
    pub render_download_redirect: bool,
    /// Rendered files grow by a trailing MP4 `free` box of this many bytes
    /// (at least 8, at most 4 GiB − 1), still playable: for measuring that
    /// downloads stream (`bench/download-rss.sh`).
    pub render_pad_bytes: u64,
}

impl Default for RenderFaults {
    fn default() -> Self {
        RenderFaults {
            render_ms: 2500,
            render_status_flat: false,
            render_fail: false,
            render_fail_error: "Lambda render failed: the composition could not be encoded".into(),
            render_plan_required: false,
            render_submit_fail_next: 0,
            render_no_output_url: false,
            render_cdn_status: None,
            render_cdn_cut_after: None,
            render_cdn_no_ranges: false,
            render_download_redirect: false,
            render_pad_bytes: 0,
        }
    }
}

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

    fn file_name(&self) -> String {
        format!("{}.{}", self.id, self.format)
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

/// Routes on the CDN listener.
pub fn cdn_routes() -> Router<App> {
    Router::new().route("/renders/{file}", get(cdn_file))
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
    let mut st = app.lock();
    let user_id = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    if !attributed(&headers) {
        return refuse(
            StatusCode::PAYMENT_REQUIRED,
            "Payment Required: the request could not be attributed to a plan",
        );
    }
    if st.faults.render.render_plan_required {
        return refuse(
            StatusCode::PAYMENT_REQUIRED,
            "Payment Required: export is not included in the free plan",
        );
    }
    let Ok(body) = serde_json::from_slice::<SubmitBody>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "Invalid request body");
    };
    if st.faults.render.render_submit_fail_next > 0 {
        st.faults.render.render_submit_fail_next -= 1;
        return refuse(StatusCode::OK, "Render service is busy, try again");
    }
    if !valid_id(&body.id) {
        return refuse(StatusCode::OK, "Invalid render id");
    }
    if st.renders.contains_key(&body.id) {
        return refuse(
            StatusCode::OK,
            &format!("Render {} already exists", body.id),
        );
    }
    if let Err(answer) = session_of(&mut st, &user_id, &body.session_id) {
        return answer;
    }
    let has_content = crate::timeline::Timeline::from_draft(&body.draft).has_content();
    if !has_content {
        return refuse(StatusCode::OK, "The draft has nothing to render");
    }
    let format = body.output.format.unwrap_or_else(|| "mp4".into());
    if format != "mp4" {
        return refuse(
            StatusCode::OK,
            &format!("Unsupported output format: {format}"),
        );
    }
    let render = Render {
        id: body.id.clone(),
        user_id,
        session_id: body.session_id,
        format,
        quality: body.output.quality.unwrap_or_else(|| "high".into()),
        created_ms: now_millis(),
        render_ms: st.faults.render.render_ms,
        fails_with: st
            .faults
            .render
            .render_fail
            .then(|| st.faults.render.render_fail_error.clone()),
        cancelled_ms: None,
    };
    st.renders.insert(render.id.clone(), render);
    success(json!({"id": body.id, "status": "pending", "progress": 5}))
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
    let created_at = super::rfc3339(render.created_ms / 1000);
    let completed_at = super::rfc3339((render.created_ms + render.render_ms) / 1000);
    let error = (phase == Phase::Failed).then(|| render.fails_with.clone());
    if st.faults.render.render_status_flat {
        let mut answer = json!({"id": render.id, "status": phase.name(), "progress": progress});
        if let Some(url) = url {
            answer["output"] = json!({
                "url": url,
                "duration": 1.0,
                "size": rendered_len(st.faults.render.render_pad_bytes),
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
    let pad = st.faults.render.render_pad_bytes;
    serve(&headers, true, None, &render.file_name(), pad)
}

/// `GET /renders/<id>.<format>` on the CDN listener: no auth, like a
/// public or signed object URL.
async fn cdn_file(
    State(app): State<App>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut st = app.lock();
    let id = file
        .rsplit_once('.')
        .map_or(file.as_str(), |(stem, _)| stem);
    let ready = st
        .renders
        .get(id)
        .is_some_and(|r| r.at(now_millis()).0 == Phase::Completed && r.file_name() == file);
    if !ready {
        return cdn_error(StatusCode::NOT_FOUND, "NoSuchKey");
    }
    if let Some(status) = st.faults.render.render_cdn_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return cdn_error(status, "AccessDenied");
    }
    let ranges = !st.faults.render.render_cdn_no_ranges;
    let cut = st.faults.render.render_cdn_cut_after.take();
    serve(
        &headers,
        ranges,
        cut,
        &file,
        st.faults.render.render_pad_bytes,
    )
}

/// An S3-style XML error, as a CDN in front of a bucket answers.
fn cdn_error(status: StatusCode, code: &str) -> Response {
    super::bytes_response(
        status,
        "application/xml",
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code></Error>"),
    )
}

/// A byte range asked for with `Range`, resolved against the file length.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// Reads one `bytes=` range (`a-b`, `a-`, `-n`); anything else is served
/// whole, as RFC 9110 allows.
fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(len.saturating_sub(1))),
        (Ok(start), Err(_)) if b.is_empty() => (start, len.saturating_sub(1)),
        (Err(_), Ok(suffix)) if a.is_empty() && suffix > 0 => {
            (len.saturating_sub(suffix), len.saturating_sub(1))
        }
        _ => return Wanted::Whole,
    };
    if start >= len {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part { start, end }
}

/// The size of the `free` box that `render_pad_bytes` asks for.
fn pad_box_len(pad: u64) -> u64 {
    if pad == 0 {
        0
    } else {
        pad.clamp(8, u64::from(u32::MAX))
    }
}

/// The rendered file's length: the fixture plus the padding box.
pub fn rendered_len(pad: u64) -> u64 {
    RENDERED_MP4.len() as u64 + pad_box_len(pad)
}

/// Bytes `start..end` of the rendered file, made on the fly in 64 KiB
/// pieces so that a padded file of any size costs no memory.
fn rendered_pieces(
    pad: u64,
    start: u64,
    end: u64,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    const PIECE: u64 = 64 * 1024;
    let fixture = RENDERED_MP4.len() as u64;
    let boxed = pad_box_len(pad);
    let mut header = [0u8; 8];
    header[..4].copy_from_slice(&(boxed as u32).to_be_bytes());
    header[4..].copy_from_slice(b"free");
    let starts = (start..end).step_by(PIECE as usize);
    futures::stream::iter(starts.map(move |from| {
        let to = (from + PIECE).min(end);
        let mut piece = vec![0u8; (to - from) as usize];
        for (i, byte) in piece.iter_mut().enumerate() {
            let at = from + i as u64;
            if at < fixture {
                *byte = RENDERED_MP4[at as usize];
            } else if at - fixture < 8 {
                *byte = header[(at - fixture) as usize];
            } else {
                // Everything past the header is zero: skip the rest.
                break;
            }
        }
        Ok(Bytes::from(piece))
    }))
}

/// Serves the rendered file, honouring `Range` when `ranges`; `cut`: drop
/// the connection after that many body bytes.
fn serve(headers: &HeaderMap, ranges: bool, cut: Option<u64>, file: &str, pad: u64) -> Response {
    let len = rendered_len(pad);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let want = if ranges {
        wanted(range, len)
    } else {
        Wanted::Whole
    };
    let (status, start, end) = match want {
        Wanted::Whole => (StatusCode::OK, 0, len - 1),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end),
        Wanted::Unsatisfiable => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{len}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return response;
        }
    };
    let body_len = end + 1 - start;
    let stream_body = match cut {
        Some(n) if n < body_len => {
            // The first n bytes go out, then the connection breaks.
            let broken = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "cut by the render_cdn_cut_after fault",
                ))
            });
            Body::from_stream(rendered_pieces(pad, start, start + n).chain(broken))
        }
        _ => Body::from_stream(rendered_pieces(pad, start, end + 1)),
    };
    let mut response = (status, stream_body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    if let Ok(value) = HeaderValue::from_str(&body_len.to_string()) {
        h.insert(header::CONTENT_LENGTH, value);
    }
    if ranges {
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
    {
        h.insert(header::CONTENT_RANGE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(
            wanted(Some("bytes=10-"), 100),
            Wanted::Part { start: 10, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=10-19"), 100),
            Wanted::Part { start: 10, end: 19 }
        );
        assert_eq!(
            wanted(Some("bytes=90-200"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(
            wanted(Some("bytes=-10"), 100),
            Wanted::Part { start: 90, end: 99 }
        );
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=5-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
    }

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

    #[test]
    fn the_fixture_is_an_mp4() {
        assert!(RENDERED_MP4.len() > 1000);
        assert_eq!(rendered_len(0), RENDERED_MP4.len() as u64);
        assert_eq!(rendered_len(3), RENDERED_MP4.len() as u64 + 8);
        assert_eq!(&RENDERED_MP4[4..8], b"ftyp");
    }
}
