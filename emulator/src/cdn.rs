//! The CDN stand-in: `GET /renders/<id>.<format>` on the second listener,
//! without auth like a public or signed object URL, and the serving of the
//! rendered file shared with the API's fallback download. It honours `Range`
//! (206 + `Content-Range`, 416), and its faults: an error status, a cut
//! connection, no ranges, and padding (a trailing MP4 `free` box, made on
//! the fly, for MP4 and QuickTime) for measuring that downloads stream.
//!
//! Every completed render "produces" the same real, playable file of its
//! format ([`crate::media`]), served with that format's `Content-Type`.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;

use crate::answer::bytes_response;
use crate::media::{Media, media};
use crate::model::now_millis;
use crate::render::Phase;
use crate::server::App;

/// Routes on the CDN listener.
pub fn routes() -> Router<App> {
    Router::new().route("/renders/{file}", get(cdn_file))
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
        .filter(|r| r.at(now_millis()).0 == Phase::Completed && r.file_name() == file)
        .and_then(|r| media(&r.format));
    let Some(media) = ready else {
        return cdn_error(StatusCode::NOT_FOUND, "NoSuchKey");
    };
    if let Some(status) = st.faults.render.render_cdn_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return cdn_error(status, "AccessDenied");
    }
    let ranges = !st.faults.render.render_cdn_no_ranges;
    let cut = st.faults.render.render_cdn_cut_after.take();
    let pad = st.faults.render.render_pad_bytes;
    serve(&headers, ranges, cut, &file, media, pad)
}

/// An S3-style XML error, as a CDN in front of a bucket answers.
fn cdn_error(status: StatusCode, code: &str) -> Response {
    bytes_response(
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

/// The size of the `free` box that `render_pad_bytes` asks for (none for
/// a format that cannot carry one).
fn pad_box_len(media: Media, pad: u64) -> u64 {
    if pad == 0 || !media.pads {
        0
    } else {
        pad.clamp(8, u64::from(u32::MAX))
    }
}

/// The rendered file's length: the fixture plus the padding box.
pub fn rendered_len(media: Media, pad: u64) -> u64 {
    media.bytes.len() as u64 + pad_box_len(media, pad)
}

/// Bytes `start..end` of the rendered file, made on the fly in 64 KiB
/// pieces so that a padded file of any size costs no memory.
fn rendered_pieces(
    media: Media,
    pad: u64,
    start: u64,
    end: u64,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    const PIECE: u64 = 64 * 1024;
    let fixture = media.bytes.len() as u64;
    let boxed = pad_box_len(media, pad);
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
                *byte = media.bytes[at as usize];
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
pub(crate) fn serve(
    headers: &HeaderMap,
    ranges: bool,
    cut: Option<u64>,
    file: &str,
    media: Media,
    pad: u64,
) -> Response {
    let len = rendered_len(media, pad);
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
            Body::from_stream(rendered_pieces(media, pad, start, start + n).chain(broken))
        }
        _ => Body::from_stream(rendered_pieces(media, pad, start, end + 1)),
    };
    let mut response = (status, stream_body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type),
    );
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
    fn mp4_and_mov_are_padded_webm_and_gif_are_not() {
        let mp4 = media("mp4").unwrap();
        assert!(mp4.bytes.len() > 1000);
        assert_eq!(rendered_len(mp4, 0), mp4.bytes.len() as u64);
        assert_eq!(rendered_len(mp4, 3), mp4.bytes.len() as u64 + 8);
        let mov = media("mov").unwrap();
        assert_eq!(rendered_len(mov, 100), mov.bytes.len() as u64 + 100);
        for format in ["webm", "gif"] {
            let media = media(format).unwrap();
            assert_eq!(rendered_len(media, 100), media.bytes.len() as u64);
        }
    }
}
