//! Each output format a render may ask for (`"output":{"format":…}`, api.md
//! "Export"), over HTTP on loopback: the output URL's extension, and the
//! bytes and `Content-Type` the CDN and the fallback download serve; the
//! `render_pad_bytes` padding where the container can carry it.

mod common;

use common::{Answer, as_client};
use nemo_emulator::{
    BackgroundEmulator, EmuState, RENDERED_GIF, RENDERED_MOV, RENDERED_MP4, RENDERED_WEBM,
};
use serde_json::{Value, json};

/// One exchange as a client with an id and the attribution headers.
fn http(
    base: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    as_client(
        base,
        method,
        path,
        "6f1c2d4e-0000-4000-8000-00000000000f",
        bearer,
        body,
    )
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
        let answer = http(
            &emu.api_url,
            "POST",
            "/api/auth/anonymous-token",
            None,
            None,
        );
        let token = answer.json()["data"]["token"]
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
        http(&self.emu.api_url, method, path, Some(&self.token), body).json()
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
        let cdn = http(&api.emu.cdn_url, "GET", path, None, None);
        assert_eq!(cdn.status, 200, "{format}: {}", cdn.head);
        assert!(cdn.has_header("content-type", content_type), "{}", cdn.head);
        assert!(cdn.body == bytes, "{format}: the CDN's bytes differ");
        let fallback = http(
            &api.emu.api_url,
            "GET",
            &format!("/api/render/proxy/{id}/download"),
            Some(&api.token),
            None,
        );
        let head = &fallback.head;
        assert_eq!(fallback.status, 200, "{format}: {head}");
        assert!(fallback.has_header("content-type", content_type), "{head}");
        assert!(
            head.contains(&format!("filename=\"{id}.{format}\"")),
            "{head}"
        );
        assert!(
            fallback.body == bytes,
            "{format}: the fallback's bytes differ"
        );
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
        let Answer { status, body, .. } = http(&api.emu.cdn_url, "GET", path, None, None);
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
