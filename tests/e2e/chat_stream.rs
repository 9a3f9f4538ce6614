//! The agent's stream against a hostile server (the raw-socket server):
//! a huge `data:` line is refused quickly (exit 9) with bounded work, and
//! `--timeout` still fires while a huge line trickles in (a server that
//! never ends a line must not hold nemo past its time limit).

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Env, stderr};
use crate::raw_server::{RawServer, json_answer, sse_head};

const STATE: &str =
    r#"{"code":0,"data":{"session_id":"s1","task_id":"t1","task_name":"t","state":{"draft":{}}}}"#;

/// A server with an unchanging session state whose `/run_sse` answer is
/// written by `reply` after the SSE head.
fn server(reply: fn(&mut TcpStream) -> std::io::Result<()>) -> RawServer {
    RawServer::start(move |line, socket| {
        if line.starts_with("GET /api/state/") {
            json_answer(socket, STATE);
        } else if line.starts_with("POST /run_sse") {
            let _ = sse_head(socket).and_then(|()| reply(socket));
        } else {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    })
}

/// The start of one text event whose text never ends in what is sent.
const OPEN_EVENT: &[u8] = b"data: {\"partial\":true,\"content\":{\"parts\":[{\"text\":\"";

fn nemo(env: &Env, server: &RawServer) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.env("NEMO_API_URL", &server.url)
        .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
        .env("NEMO_SESSION", "s1")
        // The watch after a cut reply takes about half a second.
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .timeout(Duration::from_secs(30));
    cmd
}

fn runs(server: &RawServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.starts_with("POST /run_sse"))
        .count()
}

#[test]
fn a_20_mb_data_line_is_refused_with_exit_9() {
    let env = Env::new();
    let server = server(|socket| {
        socket.write_all(OPEN_EVENT)?;
        let piece = vec![b'a'; 1 << 20];
        for _ in 0..20 {
            socket.write_all(&piece)?;
        }
        socket.write_all(b"\"}]}}\n\n")?;
        // Then hold the connection: only the cap can end the reply.
        std::thread::sleep(Duration::from_secs(40));
        Ok(())
    });
    let out = nemo(&env, &server).args(["chat", "hello"]).assert().code(9);
    let err = stderr(&out);
    assert!(
        err.contains("error: the agent sent an event over 16 MiB"),
        "the cap is the error, not a dropped stream: {err}"
    );
    assert!(!err.contains("dropped"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert!(!err.contains("try again"), "{err}");
    assert_eq!(runs(&server), 1, "never sent twice");
}

#[test]
fn the_timeout_fires_while_a_huge_line_trickles_in() {
    let env = Env::new();
    let server = server(|socket| {
        socket.write_all(OPEN_EVENT)?;
        // 12 MB (under the cap) at about 3 MB/s, then nothing.
        let piece = vec![b'a'; 64 * 1024];
        for _ in 0..192 {
            socket.write_all(&piece)?;
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_secs(40));
        Ok(())
    });
    // A parser that starves the timer runs on long after 2 s: killed at 20.
    let out = nemo(&env, &server)
        .timeout(Duration::from_secs(20))
        .args(["chat", "--timeout", "2", "hello"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("did not end within 2 s (--timeout)"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert_eq!(runs(&server), 1, "never sent twice");
}
