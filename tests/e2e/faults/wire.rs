//! Rows of answers that are legal HTTP but unusual (RFC 9110/9112, RFC
//! 8259): what nemo asks for (`Accept-Encoding: identity`), coded bodies
//! decoded (gzip, deflate) or refused (br), a byte-order mark before JSON,
//! an obsolete folded header line, 150 header fields, and a redirect of
//! `/run_sse` — each read as the RFCs ask of a client, never "lost the
//! connection".

use std::io::Write;
use std::net::TcpStream;

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};

use super::{Setup, error_line, every_request, respond, seen};
use crate::common::{stderr, stdout};
use crate::raw_server::RawServer;

const CREDITS: &str =
    r#"{"code":0,"message":"success","data":{"available":870,"frozen":3,"total":873}}"#;
const CREDITS_OUT: &str = "available 870\nfrozen 3\ntotal 873\n";

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut coder = GzEncoder::new(Vec::new(), Compression::default());
    coder.write_all(bytes).expect("gzip");
    coder.finish().expect("gzip")
}

/// HTTP's `deflate` is the zlib format (RFC 9110 §8.4.1.2).
fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut coder = ZlibEncoder::new(Vec::new(), Compression::default());
    coder.write_all(bytes).expect("deflate");
    coder.finish().expect("deflate")
}

fn credits_coded(coding: &'static str, body: Vec<u8>) -> (Setup, RawServer) {
    let setup = Setup::new();
    let server = every_request(move |socket| {
        respond(
            socket,
            "200 OK",
            &format!("Content-Type: application/json\r\nContent-Encoding: {coding}\r\n"),
            &body,
        )
    });
    (setup, server)
}

#[test]
fn api_requests_ask_for_no_coding() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        respond(
            socket,
            "200 OK",
            "Content-Type: application/json\r\n",
            CREDITS.as_bytes(),
        )
    });
    setup.against(&server, &["credits"]).assert().success();
    let heads = server.heads();
    assert_eq!(heads.len(), 1, "{heads:?}");
    assert!(
        heads[0]
            .lines()
            .any(|l| l.eq_ignore_ascii_case("accept-encoding: identity")),
        "{heads:?}"
    );
}

#[test]
fn a_gzip_json_answer_is_decoded() {
    let (setup, server) = credits_coded("gzip", gzip(CREDITS.as_bytes()));
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(stdout(&out), CREDITS_OUT);
}

#[test]
fn a_deflate_json_answer_is_decoded() {
    let (setup, server) = credits_coded("deflate", zlib(CREDITS.as_bytes()));
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(stdout(&out), CREDITS_OUT);
}

/// Brotli is refused, not decoded (its decoder would add a third to the
/// binary for a coding nemo never asks for): exit 9 naming it, once.
#[test]
fn a_br_json_answer_is_refused_in_words() {
    let (setup, server) = credits_coded("br", b"\x0b\x02\x80{}\x03".to_vec());
    let out = setup.against(&server, &["credits"]).assert().code(9);
    let line = error_line(&out);
    assert!(line.contains("compressed") && line.contains("br"), "{line}");
    assert_eq!(seen(&server, "GET /api/credits/"), 1, "not tried again");
    setup.assert_config_intact();
}

#[test]
fn a_json_answer_with_a_byte_order_mark_is_read_without_it() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend_from_slice(CREDITS.as_bytes());
        respond(
            socket,
            "200 OK",
            "Content-Type: application/json\r\n",
            &body,
        )
    });
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(stdout(&out), CREDITS_OUT);
}

/// RFC 9112 §5.2: a client replaces an obsolete line fold with a space.
#[test]
fn a_folded_header_line_is_read() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        respond(
            socket,
            "200 OK",
            "Content-Type: application/json\r\nX-Note: a\r\n  b\r\n",
            CREDITS.as_bytes(),
        )
    });
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(stdout(&out), CREDITS_OUT);
}

#[test]
fn an_answer_with_150_header_fields_is_read() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let mut headers = String::from("Content-Type: application/json\r\n");
        for i in 0..150 {
            headers.push_str(&format!("X-Field-{i}: {i}\r\n"));
        }
        respond(socket, "200 OK", &headers, CREDITS.as_bytes())
    });
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(stdout(&out), CREDITS_OUT);
}

const STATE: &str =
    r#"{"code":0,"data":{"session_id":"1","task_id":"t","state":{"draft":{"t":[]}}}}"#;

/// A server for chat: the state for the reads before and after, `sse` for
/// `/run_sse`.
fn agent(sse: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |line, socket| {
        if line.starts_with("POST /run_sse") {
            sse(socket)
        } else {
            respond(
                socket,
                "200 OK",
                "Content-Type: application/json\r\n",
                STATE.as_bytes(),
            )
        }
    })
}

#[test]
fn a_gzip_event_stream_is_decoded() {
    let setup = Setup::new();
    let server = agent(|socket| {
        let events = "data: {\"author\":\"nemo_agent\",\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"Hello from a gzip stream\"}]},\"partial\":false}\n\n";
        let body = gzip(events.as_bytes());
        let _ = write!(
            socket,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n"
        );
        let _ = socket.write_all(&body);
    });
    let out = setup
        .against(&server, &["chat", "hello"])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "Hello from a gzip stream\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(seen(&server, "POST /run_sse"), 1);
}

/// A 307 is the server's answer, not a dropped stream: exit 9 at once,
/// nothing sent again, no watching of the state for a result.
#[test]
fn a_redirect_of_run_sse_is_its_answer() {
    let setup = Setup::new();
    let server = agent(|socket| {
        respond(
            socket,
            "307 Temporary Redirect",
            "Location: http://127.0.0.1:9/run_sse\r\n",
            b"",
        )
    });
    let out = setup.against(&server, &["chat", "hello"]).assert().code(9);
    let line = error_line(&out);
    assert!(line.contains("redirect"), "{line}");
    assert!(!line.contains("dropped"), "{line}");
    assert_eq!(seen(&server, "POST /run_sse"), 1);
    let states_after = server
        .requests()
        .iter()
        .skip_while(|r| !r.starts_with("POST /run_sse"))
        .filter(|r| r.starts_with("GET /api/state/"))
        .count();
    assert_eq!(states_after, 0, "no state watch: {:?}", server.requests());
    setup.assert_config_intact();
}
