//! Rows: connection refused, reset before the headers, reset mid-body (for
//! every try, and once then a good answer). A stall mid-body and a server
//! that never answers are in `stall.rs`.

use std::io::Write;
use std::net::Shutdown;

use super::{READERS, Setup, error_line, every_request, respond, seen};
use crate::raw_server::RawServer;

const JSON: &str = "Content-Type: application/json\r\n";

#[test]
fn connection_refused_exits_9_on_every_reader() {
    let setup = Setup::new();
    for args in READERS {
        let mut cmd = setup.env.nemo();
        let out = cmd
            .env("NEMO_API_URL", "http://127.0.0.1:1")
            .current_dir(setup.env.tmp.path())
            .args(args)
            .assert()
            .code(9);
        let line = error_line(&out);
        assert!(
            line.starts_with("error: cannot connect to 127.0.0.1:1"),
            "{args:?}: {line}"
        );
        setup.assert_config_intact();
    }
}

#[test]
fn reset_before_the_headers_is_tried_three_times_for_a_read_then_exit_9() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let _ = socket.shutdown(Shutdown::Both);
    });
    let out = setup.against(&server, &["credits"]).assert().code(9);
    let line = error_line(&out);
    assert!(
        line.starts_with("error: lost the connection to 127.0.0.1:"),
        "{line}"
    );
    assert_eq!(seen(&server, "GET /api/credits/"), 3);
    setup.assert_config_intact();
}

#[test]
fn reset_before_the_headers_of_run_sse_never_sends_it_twice() {
    let setup = Setup::new();
    let state = r#"{"code":0,"data":{"session_id":"s","task_id":"t","state":{"draft":{}}}}"#;
    let server = RawServer::start(move |line, socket| {
        if line.starts_with("POST /run_sse") {
            let _ = socket.shutdown(Shutdown::Both);
        } else {
            respond(socket, "200 OK", JSON, state.as_bytes());
        }
    });
    let out = setup.against(&server, &["chat", "hello"]).assert().code(9);
    let line = error_line(&out);
    assert!(
        !line.contains("try again"),
        "never invites a second charge: {line}"
    );
    assert_eq!(seen(&server, "POST /run_sse"), 1, "sent once");
    setup.assert_config_intact();
}

#[test]
fn reset_mid_body_on_every_try_exits_9_after_three() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\nConnection: close\r\n\r\n{\"code\":0,",
        );
        let _ = socket.shutdown(Shutdown::Both);
    });
    let out = setup.against(&server, &["credits"]).assert().code(9);
    let line = error_line(&out);
    assert!(line.contains("broke midway through its answer"), "{line}");
    assert_eq!(seen(&server, "GET /api/credits/"), 3);
    setup.assert_config_intact();
}

/// A body cut after the headers is a network error like any other: a read
/// is tried again and the second try's answer used (it once exited 9 on
/// the first cut).
#[test]
fn reset_mid_body_once_is_tried_again_and_succeeds() {
    let setup = Setup::new();
    let tries = std::sync::atomic::AtomicUsize::new(0);
    let server = every_request(move |socket| {
        if tries.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let _ = socket.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\nConnection: close\r\n\r\n{\"code\":0,",
            );
            let _ = socket.shutdown(Shutdown::Both);
        } else {
            respond(
                socket,
                "200 OK",
                JSON,
                br#"{"code":0,"data":{"available":42,"frozen":0,"total":42}}"#,
            );
        }
    });
    let out = setup.against(&server, &["credits"]).assert().success();
    assert_eq!(
        crate::common::stdout(&out),
        "available 42\nfrozen 0\ntotal 42\n"
    );
    assert_eq!(seen(&server, "GET /api/credits/"), 2);
}
