//! Process-level faults (the "kill -9" and "32 processes" rows of the
//! fault matrix in RELIABILITY.md): a download killed mid-way (SIGKILL, or
//! SIGTERM handled as Ctrl-C) is completed byte for byte by `export
//! resume`; a config write killed at any point leaves the old or
//! the new config, never a torn one; 32 processes writing the config at
//! once lose nothing.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Env;
use crate::raw_server::{RawServer, json_answer};

/// The render's bytes: a pattern that shows any misplaced byte.
const SIZE: usize = 2_000_000;
const HALF: usize = SIZE / 2;

fn body() -> Vec<u8> {
    (0..SIZE).map(|i| (i % 251) as u8).collect()
}

/// Waits (bounded) for `cond`; false when it never held.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// The API and CDN of one completed render, `render_1`: the first
/// download sends half the file and then nothing (the process is stopped
/// meanwhile), the next one the rest as the range asked for. Counts the
/// downloads.
fn half_then_rest() -> (RawServer, Arc<AtomicUsize>) {
    let downloads = Arc::new(AtomicUsize::new(0));
    let seen = downloads.clone();
    let server = RawServer::start(move |line, socket: &mut TcpStream| {
        let bytes = body();
        if line.starts_with("GET /api/render/proxy/lambda/render_1") {
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
            let status = format!(
                r#"{{"id":"render_1","status":"completed","progress":100,"output":{{"url":"http://127.0.0.1:{port}/cdn/render_1.mp4","size":{SIZE}}}}}"#
            );
            json_answer(socket, &status);
        } else if line.starts_with("GET /cdn/render_1.mp4") {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                // The first download: half the file, then nothing (the
                // process is killed meanwhile).
                let _ = write!(
                    socket,
                    "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: {SIZE}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(&bytes[..HALF]);
                let _ = socket.flush();
                std::thread::sleep(Duration::from_secs(30));
            } else {
                // The resume: the rest, as the range it asks for.
                let _ = write!(
                    socket,
                    "HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nContent-Range: bytes {HALF}-{}/{SIZE}\r\nConnection: close\r\n\r\n",
                    SIZE - HALF,
                    SIZE - 1
                );
                let _ = socket.write_all(&bytes[HALF..]);
            }
        } else {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (server, downloads)
}

#[cfg(unix)]
#[test]
fn a_download_killed_with_sigkill_is_completed_byte_for_byte_by_resume() {
    let env = Env::new();
    let (server, downloads) = half_then_rest();
    let out = env.tmp.path().join("out.mp4");
    let part = env.tmp.path().join("out.mp4.part");
    let run = || {
        let mut cmd = env.nemo_process();
        cmd.env("NEMO_API_URL", &server.url)
            .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
            .current_dir(env.tmp.path())
            .args(["export", "resume", "render_1", "-o", "out.mp4"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let mut child = run().spawn().unwrap();
    let half_in = wait_for(Duration::from_secs(30), || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() == HALF as u64)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(half_in, "the first half never reached {}", part.display());
    assert!(!out.exists(), "nothing under the final name after the kill");

    let status = run().status().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read(&out).unwrap(), body(), "byte for byte");
    assert!(!part.exists());
    assert_eq!(downloads.load(Ordering::SeqCst), 2);
}

#[cfg(unix)]
#[test]
fn a_download_stopped_by_sigterm_is_handled_as_ctrl_c_and_resumed_byte_for_byte() {
    let env = Env::new();
    let (server, downloads) = half_then_rest();
    let out = env.tmp.path().join("out.mp4");
    let part = env.tmp.path().join("out.mp4.part");
    let run = || {
        let mut cmd = env.nemo_process();
        cmd.env("NEMO_API_URL", &server.url)
            .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
            .current_dir(env.tmp.path())
            .args(["export", "resume", "render_1", "-o", "out.mp4"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let child = run()
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let half_in = wait_for(Duration::from_secs(30), || {
        std::fs::metadata(&part).is_ok_and(|m| m.len() == HALF as u64)
    });
    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let stopped = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&stopped.stderr).into_owned();
    assert!(half_in, "the first half never reached {}", part.display());
    // As Ctrl-C: its own exit code, the resume hint, the lock let go.
    assert_eq!(stopped.status.code(), Some(143), "{text}");
    // The JSON error document says the code the process exits with.
    let doc: Value = serde_json::from_slice(&stopped.stdout).expect("one JSON document");
    assert_eq!(doc["error"]["exit_code"], 143, "{doc}");
    assert_eq!(doc["error"]["kind"], "interrupted", "{doc}");
    assert!(text.contains("nemo export resume render_1"), "{text}");
    assert!(!env.tmp.path().join("out.mp4.part.lock").exists());
    assert!(!out.exists(), "nothing under the final name after SIGTERM");

    let status = run().status().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(std::fs::read(&out).unwrap(), body(), "byte for byte");
    assert!(!part.exists());
    assert_eq!(downloads.load(Ordering::SeqCst), 2);
}

/// The config as JSON, or Null when there is none; panics on a torn file.
fn config_of(path: &Path) -> Value {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("torn config ({e}): {:?}", String::from_utf8_lossy(&bytes))),
        Err(_) => Value::Null,
    }
}

#[cfg(unix)]
#[test]
fn a_config_write_killed_with_sigkill_leaves_the_old_or_the_new_config() {
    let env = Env::new();
    env.session();
    let path = env.config_path();
    let mut before = config_of(&path)["sessions"].as_array().unwrap().len();
    for round in 0..24u64 {
        let mut child = env
            .nemo_process()
            .args(["session", "new"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the command's life (a few ms to ~50 ms).
        std::thread::sleep(Duration::from_millis(2 * round + fastrand_ms(round)));
        let _ = child.kill();
        child.wait().unwrap();
        let config = config_of(&path);
        let sessions = config["sessions"].as_array().expect("sessions").len();
        assert!(
            sessions == before || sessions == before + 1,
            "round {round}: {before} -> {sessions}"
        );
        assert!(
            config["token"]["value"].is_string(),
            "round {round}: token kept"
        );
        before = sessions;
    }
    // And it still works.
    env.session();
    assert_eq!(
        config_of(&path)["sessions"].as_array().unwrap().len(),
        before + 1
    );
}

/// A small spread without a random crate: 0–9 ms.
fn fastrand_ms(round: u64) -> u64 {
    (round * 7 + 3) % 10
}

#[test]
fn thirty_two_processes_writing_the_config_at_once_lose_nothing() {
    let env = Env::new();
    let children: Vec<_> = (0..32)
        .map(|_| {
            env.nemo_process()
                .args(["session", "new"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 32, "32 distinct sessions");
    let config = config_of(&env.config_path());
    let mut recorded: Vec<String> = config["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_string())
        .collect();
    recorded.sort();
    assert_eq!(recorded, ids, "every session recorded");
    assert_eq!(
        env.requests_to("/api/auth/anonymous-token").len(),
        1,
        "one token for all"
    );
    assert!(config["token"]["value"].is_string());
}

#[cfg(unix)]
#[test]
fn a_kill_between_the_record_and_the_submit_answer_is_finished_by_resume() {
    let env = Env::new();
    let sid = env.session();
    env.set_draft(&sid, crate::common::clip_draft());
    env.emu.with_state(|s| {
        s.faults.render.render_ms = 200;
        // The server takes the render, then answers a minute later.
        s.faults.render.render_submit_answer_ms = 60_000;
    });
    let mut child = env
        .nemo_process()
        .current_dir(env.tmp.path())
        .args(["export", "-o", "out.mp4"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let taken = wait_for(Duration::from_secs(30), || {
        !env.emu.snapshot().renders.is_empty()
    });
    child.kill().unwrap(); // SIGKILL, before any answer came
    child.wait().unwrap();
    assert!(taken, "the server never got the submit");
    let id = env.emu.snapshot().renders.keys().next().unwrap().clone();
    let recorded = config_of(&env.config_path())["renders"].clone();
    assert_eq!(recorded.as_array().map(Vec::len), Some(1), "{recorded}");
    assert_eq!(recorded[0]["render_id"], id.as_str());

    env.emu
        .with_state(|s| s.faults.render.render_submit_answer_ms = 0);
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "resume", "--poll-interval", "0.05"])
        .assert()
        .success();
    assert_eq!(
        String::from_utf8_lossy(&out.get_output().stdout).trim(),
        std::path::absolute(env.tmp.path().join("out.mp4"))
            .unwrap()
            .display()
            .to_string()
    );
    assert!(env.tmp.path().join("out.mp4").is_file());
    assert_eq!(env.emu.snapshot().renders.len(), 1, "one render, not two");
    let submits = env
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/render/proxy/lambda")
        .count();
    assert_eq!(submits, 1);
}
