//! Each output format a render may ask for (`"output":{"format":…}`, api.md
//! "Export"), over HTTP on loopback: the output URL's extension, and the
//! bytes and `Content-Type` the CDN and the fallback download serve; the
//! `render_pad_bytes` padding where the container can carry it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use nemo_emulator::{
    BackgroundEmulator, EmuState, RENDERED_GIF, RENDERED_MOV, RENDERED_MP4, RENDERED_WEBM,
};
use serde_json::{Value, json};

/// One HTTP/1.1 exchange with `Connection: close`: the status, the head
/// (lowercase) and the raw body (never chunked here: files are sent with a
/// length, JSON answers are read as text).
fn http(
    base: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, String, Vec<u8>) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         X-Client-Id: 6f1c2d4e-0000-4000-8000-00000000000f\r\n\
         X-Skill-Source: t\r\nX-Skill-Version: 1\r\nX-Skill-Platform: unknown\r\n"
    );
    if let Some(token) = bearer {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read the answer");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head[9..12].parse().expect("a status code");
    (status, head, raw[split + 4..].to_vec())
}

/// JSON of a non-chunked or chunked answer body.
fn json_of(head: &str, body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body).into_owned();
    let text = if head.contains("transfer-encoding: chunked") {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    } else {
        text
    };
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

struct Api {
    emu: BackgroundEmulator,
    token: String,
    sid: String,
}

impl Api {
    fn start() -> Api {
        let emu = BackgroundEmulator::start(EmuState::default()).expect("start the emulator");
        emu.with_state(|s| s.faults.render.render_ms = 0);
        let (_, head, body) = http(
            &emu.api_url,
            "POST",
            "/api/auth/anonymous-token",
            None,
            None,
        );
        let token = json_of(&head, &body)["data"]["token"]
            .as_str()
            .expect("a token")
            .to_string();
        let mut api = Api {
            emu,
            token,
            sid: String::new(),
        };
        let session = api.call(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            Some(&json!({"task_name": "project", "language": "en"})),
        );
        api.sid = session["data"]["session_id"]
            .as_str()
            .expect("a session")
            .to_string();
        api
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (_, head, body) = http(&self.emu.api_url, method, path, Some(&self.token), body);
        json_of(&head, &body)
    }

    /// Submits render `id` in `format`; its answer.
    fn submit(&self, id: &str, format: &str) -> Value {
        let draft = json!({"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"name": "x"}}]}], "d": 1000});
        self.call(
            "POST",
            "/api/render/proxy/lambda",
            Some(&json!({"id": id, "sessionId": self.sid, "draft": draft,
                "output": {"format": format, "quality": "high"}})),
        )
    }

    /// The output URL of completed render `id`.
    fn output_url(&self, id: &str) -> String {
        let status = self.call("GET", &format!("/api/render/proxy/lambda/{id}"), None);
        assert_eq!(status["data"]["status"], "completed", "{status}");
        status["data"]["outputUrl"]
            .as_str()
            .expect("an output URL")
            .to_string()
    }
}

const FORMATS: [(&str, &str, &[u8]); 4] = [
    ("mp4", "video/mp4", RENDERED_MP4),
    ("mov", "video/quicktime", RENDERED_MOV),
    ("webm", "video/webm", RENDERED_WEBM),
    ("gif", "image/gif", RENDERED_GIF),
];

#[test]
fn each_format_is_served_as_itself_by_the_cdn_and_the_fallback() {
    let api = Api::start();
    for (format, content_type, bytes) in FORMATS {
        let id = format!("render_{format}");
        let submitted = api.submit(&id, format);
        assert_eq!(submitted["success"], true, "{format}: {submitted}");
        let url = api.output_url(&id);
        assert!(url.ends_with(&format!("/renders/{id}.{format}")), "{url}");
        let path = url.trim_start_matches(&api.emu.cdn_url);
        let (status, head, body) = http(&api.emu.cdn_url, "GET", path, None, None);
        assert_eq!(status, 200, "{format}: {head}");
        assert!(
            head.contains(&format!("content-type: {content_type}\r\n")),
            "{format}: {head}"
        );
        assert!(body == bytes, "{format}: the CDN's bytes differ");
        let (status, head, body) = http(
            &api.emu.api_url,
            "GET",
            &format!("/api/render/proxy/{id}/download"),
            Some(&api.token),
            None,
        );
        assert_eq!(status, 200, "{format}: {head}");
        assert!(
            head.contains(&format!("content-type: {content_type}\r\n")),
            "{format}: {head}"
        );
        assert!(
            head.contains(&format!("filename=\"{id}.{format}\"")),
            "{head}"
        );
        assert!(body == bytes, "{format}: the fallback's bytes differ");
    }
    // The magic of each container.
    assert_eq!(&RENDERED_MP4[4..12], b"ftypisom");
    assert_eq!(&RENDERED_MOV[4..12], b"ftypqt  ");
    assert_eq!(&RENDERED_WEBM[..4], b"\x1a\x45\xdf\xa3");
    assert_eq!(&RENDERED_GIF[..6], b"GIF89a");
}

#[test]
fn other_formats_are_refused_and_nothing_is_rendered() {
    let api = Api::start();
    for format in ["avi", "MP4", ""] {
        let answer = api.submit("render_x", format);
        assert_eq!(answer["success"], false, "{format}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap_or("")
                .starts_with("Unsupported output format"),
            "{answer}"
        );
    }
    assert!(api.emu.with_state(|s| s.renders.is_empty()));
}

#[test]
fn padding_grows_mp4_and_mov_and_leaves_webm_and_gif_alone() {
    let api = Api::start();
    api.emu
        .with_state(|s| s.faults.render.render_pad_bytes = 1000);
    for (format, _, bytes) in FORMATS {
        let id = format!("render_{format}");
        api.submit(&id, format);
        let url = api.output_url(&id);
        let path = url.trim_start_matches(&api.emu.cdn_url);
        let (status, _, body) = http(&api.emu.cdn_url, "GET", path, None, None);
        assert_eq!(status, 200);
        assert_eq!(&body[..bytes.len()], bytes, "{format}");
        if matches!(format, "mp4" | "mov") {
            assert_eq!(body.len(), bytes.len() + 1000, "{format}");
            let pad = &body[bytes.len()..];
            assert_eq!(&pad[..8], b"\0\0\x03\xe8free", "{format}");
        } else {
            assert_eq!(body.len(), bytes.len(), "{format}");
        }
    }
}
