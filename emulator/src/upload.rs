//! Emulated upload endpoint: `POST /api/upload-video/nemo_agent/me/<sid>`
//! (`api.md` "Upload"), multipart parts named `files` or JSON
//! `{"urls":[…],"source_type":"url"}`.
//!
//! Files are hashed (sha256) and counted as they arrive and never kept, so
//! a 500 MB upload costs no memory; what was received is kept as an
//! [`UploadRecord`] for tests to compare with what was sent. Accepted media
//! join the session's `video_infos`. The body is always read to its end
//! before answering, errors included, as a client sending a large body
//! expects. The axum body limit is lifted on this route: the size limit is
//! the service's (4002), checked here.

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::answer::{authorize, code, ok, session_of};
use crate::model::EmuState;
use crate::server::App;
use crate::spec::{Kind, UPLOAD_LIMIT_BYTES, accepted, path_segment};

/// Largest JSON body (the URL form) read.
const MAX_JSON_BODY: usize = 1024 * 1024;

/// Fault switches of uploads (flattened into [`crate::Faults`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadFaults {
    /// Per-file limit in bytes; over it the answer is 4002.
    pub upload_max_bytes: u64,
    /// Extensions refused with 4001 although the client accepts them (a
    /// server stricter than the client).
    pub upload_refused_types: Vec<String>,
    /// The next N uploads answer 1002 (session not found) after reading
    /// the body.
    pub upload_session_lost_next: u32,
}

impl Default for UploadFaults {
    fn default() -> Self {
        UploadFaults {
            upload_max_bytes: UPLOAD_LIMIT_BYTES,
            upload_refused_types: Vec::new(),
            upload_session_lost_next: 0,
        }
    }
}

/// A file (or URL) the emulator received.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UploadRecord {
    pub session_id: String,
    pub filename: String,
    /// Bytes received (files only).
    pub size: Option<u64>,
    /// Lowercase hex sha256 of the bytes received (files only).
    pub sha256: Option<String>,
    /// The part's `Content-Type` (files only).
    pub content_type: Option<String>,
    /// `file` or `url`.
    pub source: String,
    /// The URL given (URLs only).
    pub url: Option<String>,
}

pub fn routes() -> Router<App> {
    Router::new().route(
        "/api/upload-video/{agent}/me/{sid}",
        post(upload).layer(DefaultBodyLimit::disable()),
    )
}

/// One item of an upload, as read from the body.
struct Received {
    filename: String,
    size: Option<u64>,
    sha256: Option<String>,
    content_type: Option<String>,
    url: Option<String>,
}

async fn upload(
    State(app): State<App>,
    Path((agent, sid)): Path<(String, String)>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    if agent != "nemo_agent" {
        return detail(StatusCode::NOT_FOUND, format!("Unknown agent: {agent}"));
    }
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let received = if is_multipart {
        read_files(&app, request).await
    } else {
        read_urls(request.into_body()).await
    };
    let received = match received {
        Ok(items) => items,
        Err(answer) => return answer,
    };
    let mut st = app.lock();
    let user = match authorize(&st, &headers) {
        Ok(user) => user,
        Err(answer) => return answer,
    };
    if st.faults.upload.upload_session_lost_next > 0 {
        st.faults.upload.upload_session_lost_next -= 1;
        return code(1002, "Session not found");
    }
    if let Err(answer) = session_of(&mut st, &user, &sid) {
        return answer;
    }
    if received.is_empty() {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no files: send multipart parts named `files`, or {\"urls\":[…],\"source_type\":\"url\"}",
        );
    }
    let mut kinds = Vec::new();
    for item in &received {
        let kind = match accepted_kind(&st, item) {
            Ok(kind) => kind,
            Err(answer) => return answer,
        };
        if item
            .size
            .is_some_and(|s| s > st.faults.upload.upload_max_bytes)
        {
            return code(4002, "File too large (limit 500MB)");
        }
        kinds.push(kind);
    }
    let files: Vec<Value> = received
        .iter()
        .zip(kinds)
        .map(|(item, kind)| media_info(&app, &sid, item, kind))
        .collect();
    for item in received {
        let source = if item.url.is_some() { "url" } else { "file" };
        st.uploads.push(UploadRecord {
            session_id: sid.clone(),
            filename: item.filename,
            size: item.size,
            sha256: item.sha256,
            content_type: item.content_type,
            source: source.into(),
            url: item.url,
        });
    }
    if let Ok(session) = session_of(&mut st, &user, &sid) {
        add_media(&mut session.state, &files);
    }
    ok(json!({"files": files, "session_state_applied": true}))
}

/// Reads every multipart field to its end, hashing `files` parts as they
/// arrive and dropping other fields.
async fn read_files(app: &App, request: Request) -> Result<Vec<Received>, Response> {
    let mut multipart = Multipart::from_request(request, app)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut items = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(detail(e.status(), e.body_text())),
        };
        let wanted = field.name() == Some("files");
        let filename = field.file_name().unwrap_or("upload").to_string();
        let content_type = field.content_type().map(str::to_string);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    size += chunk.len() as u64;
                    if wanted {
                        hasher.update(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(detail(e.status(), e.body_text())),
            }
        }
        if wanted {
            items.push(Received {
                filename,
                size: Some(size),
                sha256: Some(hex(&hasher.finalize())),
                content_type,
                url: None,
            });
        }
    }
    Ok(items)
}

#[derive(Deserialize)]
struct UrlBody {
    urls: Vec<String>,
    #[serde(default)]
    source_type: Option<String>,
}

async fn read_urls(body: Body) -> Result<Vec<Received>, Response> {
    let bytes = axum::body::to_bytes(body, MAX_JSON_BODY)
        .await
        .map_err(|_| detail(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))?;
    let body: UrlBody = serde_json::from_slice(&bytes).map_err(|e| {
        detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("expected {{\"urls\":[…],\"source_type\":\"url\"}}: {e}"),
        )
    })?;
    if body.source_type.as_deref() != Some("url") {
        return Err(detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "source_type must be \"url\"",
        ));
    }
    let mut items = Vec::new();
    for url in body.urls {
        let parsed = url::Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        let Some(parsed) = parsed else {
            return Err(detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("not an http(s) URL: {url}"),
            ));
        };
        let filename = parsed
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "remote".into());
        items.push(Received {
            filename,
            size: None,
            sha256: None,
            content_type: None,
            url: Some(url),
        });
    }
    Ok(items)
}

/// The kind of an item, or the 4001 answer. A URL whose name shows no
/// extension is taken as a video (the service fetches and inspects it).
fn accepted_kind(st: &EmuState, item: &Received) -> Result<Kind, Response> {
    let refused = |extension: &str| {
        st.faults
            .upload
            .upload_refused_types
            .iter()
            .any(|t| t.trim_start_matches('.').eq_ignore_ascii_case(extension))
    };
    let unsupported = || code(4001, "Unsupported file type");
    match accepted(&item.filename) {
        Some((extension, _)) if refused(extension) => Err(unsupported()),
        Some((_, kind)) => Ok(kind),
        None if item.url.is_some() && !item.filename.contains('.') => Ok(Kind::Video),
        None => Err(unsupported()),
    }
}

/// A `files` entry as `api.md` documents it, with plausible media facts:
/// duration from the size at a typical bitrate, 1080p at 30 fps for video.
fn media_info(app: &App, sid: &str, item: &Received, kind: Kind) -> Value {
    let hash = item
        .sha256
        .clone()
        .or_else(|| {
            item.url
                .as_deref()
                .map(|u| hex(&Sha256::digest(u.as_bytes())))
        })
        .unwrap_or_default();
    let cdn_url = format!(
        "{}/media/{}/{}/{}",
        app.cdn_url,
        path_segment(sid),
        &hash[..hash.len().min(16)],
        path_segment(&item.filename)
    );
    let seconds = |bits_per_second: f64| match item.size {
        Some(size) => {
            ((size as f64 * 8.0 / bits_per_second) * 10.0)
                .round()
                .max(10.0)
                / 10.0
        }
        None => 30.5,
    };
    let mut info = json!({
        "filename": item.filename,
        "file_type": kind.file_type(),
        "cdn_url": cdn_url,
        "hash": hash,
    });
    let extra = match kind {
        Kind::Video => json!({
            "duration": seconds(4_000_000.0), "width": 1920, "height": 1080, "fps": 30
        }),
        Kind::Image => json!({"width": 1080, "height": 1080}),
        Kind::Audio => json!({"duration": seconds(128_000.0)}),
    };
    if let (Some(info), Some(extra)) = (info.as_object_mut(), extra.as_object()) {
        info.extend(extra.clone());
    }
    info
}

/// Appends the new media to the session's `video_infos`.
fn add_media(state: &mut Value, files: &[Value]) {
    let Some(state) = state.as_object_mut() else {
        return;
    };
    let infos = state
        .entry("video_infos")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !infos.is_array() {
        *infos = Value::Array(Vec::new());
    }
    if let Some(infos) = infos.as_array_mut() {
        infos.extend(files.iter().cloned());
    }
}

fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"detail": message.into()}))).into_response()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
