//! Rows: answers that cannot be read, on every endpoint reader (credits,
//! state, session new, chat's reads, auth login): invalid JSON, an array,
//! `null`, wrong types, huge numbers, deep nesting past serde_json's
//! recursion limit, and a 200 MB body (refused after 16 MiB). Always exit
//! 9 with one error line in the user's words (no Rust type names), the
//! config untouched, nothing sent twice.

use std::io::Write;

use super::{READERS, Setup, error_line, every_request, respond, seen};
use crate::common::Env;

const JSON: &str = "Content-Type: application/json\r\n";

/// Every reader against a server answering `body` to everything.
fn every_reader_exits_9(body: Vec<u8>) {
    let setup = Setup::new();
    let body = std::sync::Arc::new(body);
    let shared = body.clone();
    let server = every_request(move |socket| respond(socket, "200 OK", JSON, &shared));
    for args in READERS {
        let out = setup.against(&server, args).assert().code(9);
        error_line(&out);
        setup.assert_config_intact();
    }
    assert!(seen(&server, "POST /run_sse") <= 1);
    assert!(
        seen(&server, "POST /api/tasks/") <= 1,
        "a write is never sent twice"
    );
    // The anonymous-token reader, on a fresh config.
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_API_URL", &server.url)
        .args(["auth", "login"])
        .assert()
        .code(9);
    error_line(&out);
    assert!(env.stored_token().is_none());
}

#[test]
fn invalid_json_on_every_reader() {
    every_reader_exits_9(br#"{"code":0,"data":{"available":"#.to_vec());
}

#[test]
fn an_array_on_every_reader() {
    every_reader_exits_9(b"[1,2,3]".to_vec());
}

#[test]
fn null_on_every_reader() {
    every_reader_exits_9(b"null".to_vec());
}

/// Messages speak of the user's world: "invalid type: string, expected
/// i64" and "expected struct AnonymousToken" were once what they said.
#[test]
fn wrong_types_on_every_reader() {
    every_reader_exits_9(
        br#"{"code":0,"data":{"available":"many","frozen":[],"session_id":{"a":1},"task_name":5,"token":5,"state":1}}"#
            .to_vec(),
    );
}

#[test]
fn huge_numbers_on_every_reader() {
    every_reader_exits_9(
        br#"{"code":0,"data":{"available":123456789012345678901234567890,"session_id":1e400,"token":1e400}}"#
            .to_vec(),
    );
}

#[test]
fn nesting_past_the_recursion_limit_on_every_reader() {
    let mut body = br#"{"code":0,"data":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', 100_000));
    every_reader_exits_9(body);
}

/// 200 MB without a Content-Length: refused after 16 MiB, in bounded
/// memory, not tried again.
#[test]
fn a_200_mb_body_is_refused() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        let _ = socket.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"code\":0,\"data\":\"",
        );
        let piece = vec![b'a'; 1 << 20];
        for _ in 0..200 {
            if socket.write_all(&piece).is_err() {
                return;
            }
        }
    });
    let out = setup.against(&server, &["credits"]).assert().code(9);
    let line = error_line(&out);
    assert!(
        line.contains("is over 16 MiB; nemo stopped reading it"),
        "{line}"
    );
    assert_eq!(seen(&server, "GET /api/credits/"), 1);
    setup.assert_config_intact();
}
