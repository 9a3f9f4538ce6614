//! The fault matrix (RELIABILITY.md): one test per row, each asserting the exit
//! code, the one `error:` line and the state afterwards (the config byte
//! for byte, `/run_sse` sent at most once). Hostile servers are the
//! raw-socket server (`raw_server.rs`) where a well-behaved HTTP stack
//! cannot produce the fault, and the emulator's fault switches where it
//! can. RELIABILITY.md lists the rows with these tests' names.

mod codes;
mod download;
mod malformed;
mod network;
mod notice;
mod poll;
mod rate_limit;
mod stall;
mod status;
mod wire;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Env, stderr};
use crate::raw_server::RawServer;

/// An env logged in against the emulator with a current session, so that
/// the config holds a token, a client id and a session; its bytes are
/// kept to check that no fault changes them.
pub struct Setup {
    pub env: Env,
    pub config: Vec<u8>,
}

impl Setup {
    pub fn new() -> Setup {
        let env = Env::new();
        env.session();
        let config = std::fs::read(env.config_path()).expect("a config after session new");
        Setup { env, config }
    }

    /// `nemo ARGS` against `server` instead of the emulator, quick to give
    /// up (no rate-limit wait), run in the temp folder.
    pub fn against(&self, server: &RawServer, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.env.nemo();
        cmd.env("NEMO_API_URL", &server.url)
            .env("NEMO_RATE_LIMIT_WAIT", "0")
            .env("NEMO_CHAT_TIME_SCALE", "0.002")
            .current_dir(self.env.tmp.path())
            .timeout(Duration::from_secs(30))
            .args(args);
        cmd
    }

    /// The config is exactly as it was before the fault.
    pub fn assert_config_intact(&self) {
        let now = std::fs::read(self.env.config_path()).expect("the config is still there");
        assert_eq!(
            String::from_utf8_lossy(&now),
            String::from_utf8_lossy(&self.config),
            "the config changed"
        );
    }
}

/// The commands that read each endpoint, with the config of a [`Setup`].
pub const READERS: [&[&str]; 4] = [
    &["credits"],
    &["state"],
    &["session", "new"],
    &["chat", "hello"],
];

/// The one `error:` line of a failed command (and that there is one).
pub fn error_line(out: &assert_cmd::assert::Assert) -> String {
    let err = stderr(out);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "exactly one error line: {err}");
    for internal in [
        "invalid type",
        "expected struct",
        "Other(",
        "Error {",
        "panicked",
    ] {
        assert!(!err.contains(internal), "Rust internals shown: {err}");
    }
    lines[0].to_string()
}

/// How many requests the server saw whose line starts with `start`.
pub fn seen(server: &RawServer, start: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.starts_with(start))
        .count()
}

/// Writes a whole answer: status line, extra header lines, body.
pub fn respond(socket: &mut TcpStream, status: &str, headers: &str, body: &[u8]) {
    let _ = write!(
        socket,
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = socket.write_all(body);
}

/// A server answering every request the same way.
pub fn every_request(answer: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |_, socket| answer(socket))
}
