//! Rows: a server that never answers (it reads the request and sends
//! nothing) and a body that stalls (headers and a first piece, then
//! silence with the connection open), end to end. The network waits are
//! the real ones (60 s an answer, 10 s a stalled body, 60 s a stalled
//! download) scaled by the hidden `NEMO_HTTP_TIME_SCALE`, so each row ends
//! in about a second; the unit tests in `src/api/http/tests.rs` hold the
//! same rows at the client's level.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::{READERS, Setup, error_line, every_request, respond, seen};
use crate::raw_server::RawServer;

/// A 60 s wait becomes 0.6 s.
const SCALE: &str = "0.01";

/// Holds the connection open, sending nothing, until the client gives up
/// and closes it.
fn hold(socket: &mut TcpStream) {
    let mut sink = [0u8; 256];
    while matches!(socket.read(&mut sink), Ok(n) if n > 0) {}
}

#[test]
fn a_server_that_never_answers_is_given_up_on_every_reader() {
    let setup = Setup::new();
    let server = every_request(hold);
    for args in READERS {
        let out = setup
            .against(&server, args)
            .env("NEMO_HTTP_TIME_SCALE", SCALE)
            .assert()
            .code(9);
        let line = error_line(&out);
        assert!(line.contains("127.0.0.1"), "{args:?}: {line}");
        setup.assert_config_intact();
    }
    // Reads are tried three times; nothing was ever sent to the agent.
    assert_eq!(seen(&server, "GET /api/credits/"), 3);
    assert_eq!(seen(&server, "POST /run_sse"), 0);
}

#[test]
fn a_body_that_stalls_is_tried_again_then_exit_9() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let _ = write!(
            socket,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\nConnection: close\r\n\r\n{{\"code\":0,\"data\":{{"
        );
        let _ = socket.flush();
        hold(socket);
    });
    let out = setup
        .against(&server, &["credits"])
        .env("NEMO_HTTP_TIME_SCALE", SCALE)
        .assert()
        .code(9);
    let line = error_line(&out);
    assert!(line.contains("127.0.0.1"), "{line}");
    assert_eq!(seen(&server, "GET /api/credits/"), 3);
    setup.assert_config_intact();
}

#[test]
fn a_download_that_stalls_ends_bounded_with_nothing_under_the_final_name() {
    let setup = Setup::new();
    let render = "render_1742198400000";
    let server = RawServer::start(move |line, socket| {
        // The render's file, and the fallback download on the API host.
        if !line.starts_with(&format!("GET /api/render/proxy/lambda/{render} ")) {
            let _ = write!(
                socket,
                "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(&[0u8; 1000]);
            let _ = socket.flush();
            hold(socket);
        } else {
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
            let body = format!(
                r#"{{"success":true,"data":{{"id":"{render}","status":"completed","progress":100,"outputUrl":"http://127.0.0.1:{port}/files/{render}.mp4"}}}}"#
            );
            respond(
                socket,
                "200 OK",
                "Content-Type: application/json\r\n",
                body.as_bytes(),
            );
        }
    });
    let out = setup
        .against(
            &server,
            &[
                "export",
                "resume",
                render,
                "-o",
                "clip.mp4",
                "--timeout",
                "20",
            ],
        )
        .env("NEMO_HTTP_TIME_SCALE", SCALE)
        .assert()
        .code(9);
    let line = error_line(&out);
    assert!(
        line.contains("stall") || line.contains("in time"),
        "{line}: {:?}",
        server.requests()
    );
    let dir = setup.env.tmp.path();
    assert!(
        !dir.join("clip.mp4").exists(),
        "nothing under the final name"
    );
    assert!(seen(&server, "GET /files/") >= 1);
}
