//! `POST /api/upload-video/nemo_agent/me/<sid>` (`api.md` "Upload"): local
//! files as multipart parts named `files`, streamed from disk, and URLs in
//! one JSON request. Also the accepted formats and the size limit, shared
//! with the command's checks and the emulator.
//!
//! A file is never read into memory: each try opens it again and streams
//! it in [`CHUNK`]-sized pieces, read by one blocking thread into a bounded
//! channel of [`PIECES_AHEAD`] pieces, so a retry (429, a renewed token, a
//! new session) re-streams it from disk and memory stays at a few pieces.
//! It does not print; progress goes to the callback the caller gives.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiClient, Retry, read_json, segment, unwrap_envelope};
use crate::error::{Error, Kind, Result};

/// The server's limit per file: 500 MB (500 × 1024 × 1024 bytes).
pub const MAX_UPLOAD_BYTES: u64 = 500 * 1024 * 1024;

/// Size of the pieces a file is read and sent in: big enough that the
/// hand-off between the reading thread and the connection costs little
/// per byte (BENCHMARKS.md "Profile-driven fixes", upload).
pub const CHUNK: usize = 1024 * 1024;
/// Pieces read ahead of the connection, at most.
pub const PIECES_AHEAD: usize = 2;

/// Give up when no byte of the file could be sent for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Give up when the server has not answered this long after the last byte.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(300);

/// What kind of media a format is, as the server's `file_type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Video,
    Image,
    Audio,
}

impl MediaKind {
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Video => "video",
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
        }
    }
}

/// An accepted file format: extension (lowercase), content type, kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    pub extension: &'static str,
    pub content_type: &'static str,
    pub kind: MediaKind,
}

/// Every format the service accepts (`api.md` "Upload"; `jpeg` as `jpg`).
pub const FORMATS: [Format; 14] = [
    fmt("mp4", "video/mp4", MediaKind::Video),
    fmt("mov", "video/quicktime", MediaKind::Video),
    fmt("avi", "video/x-msvideo", MediaKind::Video),
    fmt("webm", "video/webm", MediaKind::Video),
    fmt("mkv", "video/x-matroska", MediaKind::Video),
    fmt("jpg", "image/jpeg", MediaKind::Image),
    fmt("jpeg", "image/jpeg", MediaKind::Image),
    fmt("png", "image/png", MediaKind::Image),
    fmt("gif", "image/gif", MediaKind::Image),
    fmt("webp", "image/webp", MediaKind::Image),
    fmt("mp3", "audio/mpeg", MediaKind::Audio),
    fmt("wav", "audio/wav", MediaKind::Audio),
    fmt("m4a", "audio/mp4", MediaKind::Audio),
    fmt("aac", "audio/aac", MediaKind::Audio),
];

const fn fmt(extension: &'static str, content_type: &'static str, kind: MediaKind) -> Format {
    Format {
        extension,
        content_type,
        kind,
    }
}

/// The accepted format of a file name's extension (case-insensitive).
pub fn format_of_name(name: &str) -> Option<&'static Format> {
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    FORMATS.iter().find(|f| f.extension == ext)
}

/// A local file checked and ready to send.
#[derive(Debug, Clone)]
pub struct LocalFile {
    pub path: PathBuf,
    /// The name sent as the part's file name (the path's last component).
    pub name: String,
    /// Bytes, from the metadata at check time; exactly this many are sent.
    pub size: u64,
    pub format: &'static Format,
}

/// Told how many bytes of the file have been handed to the connection in
/// the current try (back to 0 when a try starts over).
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// The `data` of an upload answer. `files` are kept as the server sent
/// them (`--json` prints them unchanged); [`UploadedFile`] reads them.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadAnswer {
    #[serde(default)]
    pub files: Vec<Value>,
    #[serde(default)]
    pub session_state_applied: Option<bool>,
}

/// What the client shows of one uploaded file; every field is optional and
/// read leniently (numbers may come as strings).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct UploadedFile {
    #[serde(deserialize_with = "lenient_text")]
    pub filename: Option<String>,
    #[serde(deserialize_with = "lenient_text")]
    pub file_type: Option<String>,
    #[serde(deserialize_with = "lenient_number")]
    pub duration: Option<f64>,
    #[serde(deserialize_with = "lenient_number")]
    pub width: Option<f64>,
    #[serde(deserialize_with = "lenient_number")]
    pub height: Option<f64>,
}

impl UploadedFile {
    /// Reads one entry of `files`; an entry that is not an object reads as
    /// empty.
    pub fn from_value(value: &Value) -> UploadedFile {
        UploadedFile::deserialize(value).unwrap_or_default()
    }
}

fn lenient_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite() && *f >= 0.0))
}

impl ApiClient {
    fn upload_path(session_id: &str) -> String {
        format!("/api/upload-video/nemo_agent/me/{}", segment(session_id))
    }

    /// Uploads one local file as a multipart part named `files`, streamed
    /// from disk. Each try (after a 429, a refused connection, or a
    /// connection that broke before the whole file went out) opens and
    /// streams the file again.
    pub async fn upload_file(
        &self,
        session_id: &str,
        file: &LocalFile,
        progress: Progress,
    ) -> Result<UploadAnswer> {
        self.signed_in(|| self.upload_file_once(session_id, file, progress.clone()))
            .await
    }

    async fn upload_file_once(
        &self,
        session_id: &str,
        file: &LocalFile,
        progress: Progress,
    ) -> Result<UploadAnswer> {
        let path = Self::upload_path(session_id);
        // Bytes of the file handed to the connection in this try; the
        // watchdog reads it on its own timer (no wake-up per piece).
        let sent = Arc::new(AtomicU64::new(0));
        // An I/O failure inside the body stream reaches us as a reqwest
        // error; keep its real reason to report it as what it is.
        let read_failure: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let build = || {
            sent.store(0, Ordering::Relaxed);
            progress(0);
            let part = file_part(file, sent.clone(), progress.clone(), &read_failure)?;
            Ok(self
                .request(Method::POST, &path, true)?
                .multipart(Form::new().part("files", part)))
        };
        let mut tries = 0;
        let response = loop {
            tries += 1;
            let send = self.send(Retry::Write, None, &build);
            let result = tokio::select! {
                result = send => result,
                // A stall is not retried: waiting as long again rarely helps.
                err = watchdog(&sent, file.size, self.scaled(STALL_TIMEOUT), self.scaled(ANSWER_TIMEOUT)) => return Err(err),
            };
            if let Some(reason) = read_failure.lock().ok().and_then(|mut f| f.take()) {
                return Err(Error::new(
                    Kind::Io,
                    format!("cannot read {}: {reason}", file.path.display()),
                ));
            }
            let went_out = sent.load(Ordering::Relaxed);
            match result {
                // The connection broke before the whole body went out:
                // the server cannot have taken an incomplete file, so it is
                // safe to send it again, once. (A server that answers early
                // — a gateway's 429, say — and closes also ends up here.)
                Err(err) if err.is(Kind::Network) && tries < 2 && went_out < file.size => {
                    self.log(|| {
                        format!(
                            "the connection closed after {went_out} of {} bytes; sending {} again",
                            file.size, file.name
                        )
                    });
                    super::http::backoff(1).await;
                }
                other => break other?,
            }
        };
        let data = unwrap_envelope(read_json(response).await?)?;
        serde_json::from_value(data)
            .map_err(|e| Error::bad_answer(format!("the upload answer cannot be read: {e}")))
    }

    /// Uploads URLs in one JSON request `{"urls":[…],"source_type":"url"}`.
    pub async fn upload_urls(&self, session_id: &str, urls: &[String]) -> Result<UploadAnswer> {
        let path = Self::upload_path(session_id);
        let body = json!({ "urls": urls, "source_type": "url" });
        self.signed_in(|| {
            self.call(Retry::Write, || {
                Ok(self.request(Method::POST, &path, true)?.json(&body))
            })
        })
        .await
    }
}

/// The multipart part of one file: opened now, streamed while sent, at
/// most `file.size` bytes (the length declared up front), and an error if
/// the file got shorter meanwhile. One blocking thread reads [`CHUNK`]s
/// with `std::fs::File` into a channel of [`PIECES_AHEAD`]; it stops when
/// the request is dropped (the channel closes).
fn file_part(
    file: &LocalFile,
    sent: Arc<AtomicU64>,
    progress: Progress,
    read_failure: &Arc<Mutex<Option<String>>>,
) -> Result<Part> {
    let opened = std::fs::File::open(&file.path).map_err(|e| {
        Error::bad_input(
            format!(
                "cannot open {}: {}",
                file.path.display(),
                crate::error::io_reason(&e)
            ),
            None,
        )
    })?;
    let size = file.size;
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(PIECES_AHEAD);
    let failure = read_failure.clone();
    // Started by the body's first poll, so a request that never gets to
    // its body reads nothing.
    let mut start = Some(move || read_pieces(opened, size, &tx, &failure));
    let body = futures::stream::poll_fn(move |cx| {
        if let Some(read) = start.take() {
            tokio::task::spawn_blocking(read);
        }
        rx.poll_recv(cx)
    })
    .map(move |piece| {
        if let Ok(bytes) = &piece {
            let now = sent.fetch_add(bytes.len() as u64, Ordering::Relaxed) + bytes.len() as u64;
            progress(now);
        }
        piece
    });
    Part::stream_with_length(reqwest::Body::wrap_stream(body), size)
        .file_name(file.name.clone())
        .mime_str(file.format.content_type)
        .map_err(|e| Error::bad_input(format!("bad content type: {e}"), None))
}

/// The reading thread: `size` bytes of `file` in [`CHUNK`]s into `tx`, or
/// an error (remembered in `failure` too) when reading fails or the file
/// ends early. Returns when done or when the receiver is gone.
fn read_pieces(
    file: std::fs::File,
    size: u64,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
    failure: &Arc<Mutex<Option<String>>>,
) {
    let mut file = file.take(size);
    let mut got: u64 = 0;
    while got < size {
        let want = CHUNK.min(usize::try_from(size - got).unwrap_or(CHUNK));
        let mut piece = Vec::with_capacity(want);
        let error = match (&mut file).take(want as u64).read_to_end(&mut piece) {
            Err(e) => Some(e),
            Ok(0) => {
                let reason =
                    format!("the file got shorter while it was being sent ({got} of {size} bytes)");
                Some(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    reason,
                ))
            }
            Ok(n) => {
                got += n as u64;
                None
            }
        };
        if let Some(e) = error {
            remember(failure, crate::error::io_reason(&e));
            let _ = tx.blocking_send(Err(e));
            return;
        }
        if tx.blocking_send(Ok(Bytes::from(piece))).is_err() {
            return;
        }
    }
}

fn remember(slot: &Arc<Mutex<Option<String>>>, reason: String) {
    if let Ok(mut slot) = slot.lock() {
        slot.get_or_insert(reason);
    }
}

/// Resolves with an error when the upload stalls: no byte sent for `stall`
/// while sending, or no answer `answer` after the last byte. It reads the
/// try's byte count on a timer of its own (a fraction of the limits, at
/// most a second), so sending a piece wakes nobody. A new try resets the
/// count to 0, which counts as a change and so starts watching afresh. It
/// is a timer on progress, not a total timeout: a slow but moving upload
/// never trips it.
async fn watchdog(sent: &AtomicU64, size: u64, stall: Duration, answer: Duration) -> Error {
    let tick = (stall.min(answer) / 8).min(Duration::from_secs(1));
    let mut last = sent.load(Ordering::Relaxed);
    let mut since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(tick).await;
        let now = sent.load(Ordering::Relaxed);
        if now != last {
            last = now;
            since = tokio::time::Instant::now();
            continue;
        }
        let done = now >= size;
        if since.elapsed() < if done { answer } else { stall } {
            continue;
        }
        return if done {
            Error::new(
                Kind::Network,
                format!(
                    "the server did not answer within {} s after the upload",
                    answer.as_secs()
                ),
            )
        } else {
            Error::new(
                Kind::Network,
                format!(
                    "the upload stalled: nothing could be sent for {} s",
                    stall.as_secs()
                ),
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(format_of_name("a.MP4").unwrap().content_type, "video/mp4");
        assert_eq!(format_of_name("a.b.JPEG").unwrap().kind, MediaKind::Image);
        assert_eq!(format_of_name("x.m4a").unwrap().content_type, "audio/mp4");
        assert!(format_of_name("mp4").is_none());
        assert!(format_of_name("notes.txt").is_none());
        assert!(format_of_name("a.mp4.").is_none());
    }

    #[test]
    fn uploaded_files_read_leniently() {
        let f = UploadedFile::from_value(&json!({
            "filename": "a.mp4", "file_type": "video", "duration": "30.5",
            "width": 1920, "height": null, "extra": {"x": 1}
        }));
        assert_eq!(f.filename.as_deref(), Some("a.mp4"));
        assert_eq!(f.duration, Some(30.5));
        assert_eq!(f.width, Some(1920.0));
        assert_eq!(f.height, None);
        assert_eq!(UploadedFile::from_value(&json!(5)), UploadedFile::default());
        assert_eq!(
            UploadedFile::from_value(&json!({"duration": "NaN", "width": -3})),
            UploadedFile::default()
        );
    }

    #[tokio::test]
    async fn watchdog_trips_on_a_stall_and_after_the_last_byte() {
        let short = Duration::from_millis(50);
        let long = Duration::from_secs(30);
        let sent = AtomicU64::new(0);
        let err = watchdog(&sent, 10, short, long).await;
        assert!(err.to_string().contains("stalled"), "{err}");

        let sent = Arc::new(AtomicU64::new(0));
        let dog = {
            let sent = sent.clone();
            tokio::spawn(async move { watchdog(&sent, 10, long, short).await })
        };
        sent.store(10, Ordering::Relaxed);
        let err = dog.await.unwrap();
        assert!(err.to_string().contains("did not answer"), "{err}");
    }

    #[tokio::test]
    async fn watchdog_keeps_quiet_while_bytes_move() {
        let sent = Arc::new(AtomicU64::new(0));
        let dog = {
            let sent = sent.clone();
            tokio::spawn(async move {
                watchdog(
                    &sent,
                    100,
                    Duration::from_millis(200),
                    Duration::from_secs(30),
                )
                .await
            })
        };
        for n in 1..10 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sent.store(n, Ordering::Relaxed);
        }
        assert!(!dog.is_finished());
        dog.abort();
    }

    #[test]
    fn a_file_is_read_in_pieces_and_a_short_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.mp4");
        let bytes: Vec<u8> = (0..CHUNK * 2 + 5).map(|i| i as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (tx, mut rx) = mpsc::channel(PIECES_AHEAD);
        let failure = Arc::new(Mutex::new(None));
        let file = std::fs::File::open(&path).unwrap();
        let reader =
            std::thread::spawn(move || read_pieces(file, bytes.len() as u64, &tx, &failure));
        let mut got = Vec::new();
        let mut pieces = 0;
        while let Some(piece) = rx.blocking_recv() {
            got.extend_from_slice(&piece.unwrap());
            pieces += 1;
        }
        reader.join().unwrap();
        assert_eq!(pieces, 3);
        assert_eq!(got, std::fs::read(&path).unwrap());

        // Declared one byte longer than it is: the last item is an error,
        // remembered for the report.
        let (tx, mut rx) = mpsc::channel(PIECES_AHEAD);
        let failure = Arc::new(Mutex::new(None));
        let file = std::fs::File::open(&path).unwrap();
        let size = got.len() as u64 + 1;
        let slot = failure.clone();
        let reader = std::thread::spawn(move || read_pieces(file, size, &tx, &slot));
        let mut last = None;
        while let Some(piece) = rx.blocking_recv() {
            last = Some(piece);
        }
        reader.join().unwrap();
        assert!(matches!(last, Some(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof));
        let reason = failure.lock().unwrap().clone().unwrap();
        assert!(reason.contains("got shorter"), "{reason}");
    }
}
