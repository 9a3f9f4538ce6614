//! `nemo chat` when the connection breaks after the message went out but
//! before the answer's headers (the message may have been taken and paid
//! for, so it must never be sent twice): a dropped stream whose
//! result is watched for, never a hint to send again; `--timeout` bounds the
//! watch too; absurd time limits and a message that is not UTF-8 are usage
//! errors found before anything is sent.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Env, stderr};
use crate::raw_server::{RawServer, json_answer};

const STATE: &str =
    r#"{"code":0,"data":{"session_id":"s1","task_id":"t1","task_name":"t","state":{"draft":{}}}}"#;

/// A server whose session state never changes and which closes the
/// connection of every `/run_sse` once it has read the message, before any
/// header.
fn resetting_server() -> RawServer {
    RawServer::start(|line, socket: &mut TcpStream| {
        if line.starts_with("GET /api/state/") {
            json_answer(socket, STATE);
        } else if line.starts_with("POST /run_sse") {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        } else {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    })
}

fn nemo(env: &Env, server: &RawServer) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.env("NEMO_API_URL", &server.url)
        .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
        .env("NEMO_SESSION", "s1")
        .timeout(Duration::from_secs(40));
    cmd
}

fn count(server: &RawServer, start: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.starts_with(start))
        .count()
}

#[test]
fn a_reset_before_the_headers_is_a_dropped_stream_watched_never_a_try_again() {
    let env = Env::new();
    let server = resetting_server();
    let out = nemo(&env, &server)
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .args(["chat", "hello"])
        .assert()
        .code(9);
    let err = stderr(&out);
    assert!(
        err.contains("Watching the session"),
        "the state is watched after the drop: {err}"
    );
    assert!(err.contains("no change showed up in the session"), "{err}");
    assert!(
        !err.contains("try again"),
        "never invite a second send: {err}"
    );
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert_eq!(count(&server, "POST /run_sse"), 1, "never sent twice");
    // The state before the message, then at least two reads of the watch.
    assert!(
        count(&server, "GET /api/state/") >= 3,
        "{:?}",
        server.requests()
    );
}

#[test]
fn the_timeout_bounds_the_watch_of_a_dropped_stream() {
    let env = Env::new();
    let server = resetting_server();
    // The unscaled watch lasts about five minutes: only --timeout can end
    // it before the harness kills the command at 40 s.
    let out = nemo(&env, &server)
        .args(["chat", "--timeout", "3", "hello"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("within 3 s (--timeout)"), "{err}");
    assert!(!err.contains("try again"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert_eq!(count(&server, "POST /run_sse"), 1, "never sent twice");
}

#[test]
fn absurd_time_limits_are_usage_errors_before_anything_is_sent() {
    let env = Env::new();
    env.session();
    for args in [
        ["--timeout", "18446744073709551615"],
        ["--idle-timeout", "18446744073709551615"],
        ["--timeout", "86401"],
        ["--idle-timeout", "0"],
    ] {
        let out = env
            .nemo()
            .arg("chat")
            .args(args)
            .arg("hello")
            .assert()
            .code(2);
        let err = stderr(&out);
        assert!(err.contains(args[0]), "names the flag: {err}");
        assert!(err.contains("86400"), "says the bound: {err}");
    }
    assert!(env.requests_to("/run_sse").is_empty(), "nothing sent");
}

#[test]
fn a_message_on_stdin_that_is_not_utf8_is_a_usage_error_naming_stdin() {
    let env = Env::new();
    env.session();
    let out = env
        .nemo()
        .args(["chat", "-"])
        .write_stdin(b"hi \xff there".to_vec())
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(err.contains("stdin"), "{err}");
    assert!(err.contains("UTF-8"), "{err}");
    assert!(env.requests_to("/run_sse").is_empty(), "nothing sent");
}

#[test]
fn after_a_reset_before_the_headers_a_change_in_the_session_is_reported_exit_0() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let reads = Arc::new(AtomicUsize::new(0));
    let seen = reads.clone();
    let server = RawServer::start(move |line, socket: &mut TcpStream| {
        if line.starts_with("GET /api/state/") {
            // The state before the message, then the agent's work.
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                json_answer(socket, STATE);
            } else {
                json_answer(
                    socket,
                    r#"{"code":0,"data":{"session_id":"s1","task_id":"t1","task_name":"t","state":{"draft":{"t":[{"tt":7,"sg":[{"d":3000,"m":{"text":"Paradise Found"}}]}]}}}}"#,
                );
            }
        } else if line.starts_with("POST /run_sse") {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        } else {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let env = Env::new();
    let out = nemo(&env, &server)
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .args(["chat", "add a title"])
        .assert()
        .success();
    let err = stderr(&out);
    assert!(
        err.contains("the reply was cut off, but the agent went on"),
        "{err}"
    );
    assert!(!err.contains("try again"), "{err}");
    assert!(!err.contains("error: "), "{err}");
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("Paradise Found"), "{text}");
    assert_eq!(count(&server, "POST /run_sse"), 1, "never sent twice");
}

#[test]
fn the_timeout_bounds_the_state_read_before_the_message_too() {
    let server = RawServer::start(|line, socket: &mut TcpStream| {
        if line.starts_with("GET /api/state/") {
            // Never answers (the harness kills the command at 40 s).
            std::thread::sleep(Duration::from_secs(45));
        } else {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let env = Env::new();
    let out = nemo(&env, &server)
        .args(["chat", "--timeout", "2", "hello"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("within 2 s (--timeout)"), "{err}");
    assert!(err.contains("the message was not sent"), "{err}");
    assert_eq!(count(&server, "POST /run_sse"), 0);
}
