//! The one raw HTTP/1.1 client of the emulator's integration tests: a
//! request with `Connection: close` over a plain `TcpStream`, so a test
//! sees exactly what went over the wire (chunking, a cut stream, binary
//! bodies). Each test file shapes its own calls on top of it.

// Every test file is its own crate and uses part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// An answer as received: the status, the head (status line and headers,
/// as sent) and the raw body (still chunked if it was).
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// Whether the answer has header `name: value` (both compared
    /// without case).
    pub fn has_header(&self, name: &str, value: &str) -> bool {
        self.head.lines().any(|line| {
            line.split_once(':').is_some_and(|(n, v)| {
                n.trim().eq_ignore_ascii_case(name) && v.trim().eq_ignore_ascii_case(value)
            })
        })
    }

    /// The body as text (lossy), de-chunked when it was sent chunked.
    pub fn text(&self) -> String {
        let raw = String::from_utf8_lossy(&self.body).into_owned();
        if !self.has_header("transfer-encoding", "chunked") {
            return raw;
        }
        let mut out = String::new();
        let mut rest = raw.as_str();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        let text = self.text();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

/// One exchange with the listener at `base` (`http://127.0.0.1:PORT`).
/// A stream the server cuts ends the body early: what arrived is kept.
pub fn exchange(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect to the emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    // A dropped stream may end in a reset: keep what arrived.
    let _ = stream.read_to_end(&mut raw);
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head[9..12].parse().expect("a status code");
    Answer {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

/// [`exchange`] as a client sends it: `client_id` as `X-Client-Id`, the
/// three attribution headers, and the token when there is one.
pub fn as_client(
    base: &str,
    method: &str,
    path: &str,
    client_id: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let authorization = bearer.map(|token| format!("Bearer {token}"));
    let mut headers = vec![
        ("X-Client-Id", client_id),
        ("X-Skill-Source", "t"),
        ("X-Skill-Version", "1"),
        ("X-Skill-Platform", "unknown"),
    ];
    if let Some(value) = &authorization {
        headers.push(("Authorization", value));
    }
    exchange(base, method, path, &headers, body)
}
