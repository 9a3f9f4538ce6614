//! The render submit written ahead and reconciled, and the local checks
//! made before anything remote (`../shared/spec/cli.md` "nemo export",
//! "Retries"): the render id is in the config before the submit goes out;
//! a submit whose answer was lost is polled by that id, never sent again
//! while the server has it; an export with no session, an output folder
//! that takes no write or an output path under a file stops before any
//! request.

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{Env, clip_draft, no_room, stderr, stdout};

/// A logged-in env with a current session that has something to export;
/// renders take 200 ms.
fn ready() -> (Env, String) {
    let env = Env::new();
    let sid = env.session();
    env.set_draft(&sid, clip_draft());
    env.emu.with_state(|s| s.faults.render.render_ms = 200);
    (env, sid)
}

fn export(env: &Env, args: &[&str]) -> Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05"])
        .args(args);
    cmd
}

fn submits(env: &Env) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/render/proxy/lambda")
        .count()
}

fn recorded(env: &Env) -> Vec<Value> {
    env.config()["renders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_submit_taken_whose_answer_is_lost_is_polled_and_finished_not_sent_again() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_submit_lost_next = 1);
    let out = export(&env, &["-o", "out.mp4"]).assert().success();
    assert_eq!(stdout(&out), "out.mp4\n");
    let err = stderr(&out);
    assert!(err.contains("was lost"), "{err}");

    assert_eq!(submits(&env), 1, "the submit was sent again");
    let on_server = env.emu.snapshot().renders;
    assert_eq!(on_server.len(), 1, "{:?}", on_server.keys());
    let id = on_server.keys().next().unwrap().clone();
    let records = recorded(&env);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["render_id"], id.as_str());
    assert_eq!(records[0]["status"], "completed");
    let file = std::fs::read(env.tmp.path().join("out.mp4")).unwrap();
    assert!(!file.is_empty());
}

#[test]
fn a_submit_lost_and_not_taken_is_sent_once_more_under_a_new_recorded_id() {
    let (env, _) = ready();
    // A 504 from a gateway: the render service never saw the submit.
    env.emu
        .with_state(|s| s.faults.render.render_submit_gateway_timeout_next = 1);
    let out = export(&env, &["-o", "out.mp4"]).assert().success();
    let err = stderr(&out);
    assert!(err.contains("did not take"), "{err}");
    assert_eq!(submits(&env), 2);
    let on_server = env.emu.snapshot().renders;
    assert_eq!(on_server.len(), 1);
    let id = on_server.keys().next().unwrap().clone();
    let records = recorded(&env);
    assert_eq!(
        records.len(),
        1,
        "the id never taken is forgotten: {records:?}"
    );
    assert_eq!(records[0]["render_id"], id.as_str());
    assert!(env.tmp.path().join("out.mp4").is_file());
}

#[test]
fn export_in_a_fresh_config_says_there_is_no_session_and_creates_nothing() {
    let env = Env::new();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .arg("export")
        .assert()
        .code(10);
    let err = stderr(&out);
    assert!(err.contains("no current session"), "{err}");
    assert_eq!(env.requests().len(), 0, "{:?}", env.requests());
    assert!(env.emu.snapshot().sessions.is_empty());
    assert!(!env.config_path().exists(), "a config was written");
    assert_eq!(
        std::fs::read_dir(env.tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name() != "home")
            .count(),
        0,
        "nothing created in the working folder"
    );
}

#[cfg(unix)]
#[test]
fn an_output_folder_that_takes_no_write_is_found_before_anything_is_sent() {
    let (env, _) = ready();
    let before = env.requests().len();
    let out = no_room(&env, &["export", "-o", "out.mp4"]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("cannot be written"), "{err}");
    assert_eq!(env.requests().len(), before, "{:?}", env.requests());
    assert!(recorded(&env).is_empty());
    let left: Vec<_> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n != "home" && n != "config")
        .collect();
    assert!(left.is_empty(), "the probe was left: {left:?}");
}

#[cfg(unix)]
#[test]
fn session_new_on_a_full_config_folder_creates_no_session() {
    let env = Env::new();
    env.login();
    let out = no_room(&env, &["session", "new"]).assert().failure();
    let err = stderr(&out);
    assert!(err.contains("not writable"), "{err}");
    assert!(
        env.requests_to("/api/tasks/").is_empty(),
        "a session was created on the server"
    );
    assert!(env.emu.snapshot().sessions.is_empty());
}

#[test]
fn an_output_under_a_file_says_that_file_is_not_a_folder() {
    let (env, _) = ready();
    std::fs::write(env.tmp.path().join("logo.png"), b"png").unwrap();
    let before = env.requests().len();
    for output in ["logo.png/x.mp4", "logo.png/"] {
        let out = export(&env, &["-o", output]).assert().code(7);
        let err = stderr(&out);
        assert!(err.contains("logo.png is not a folder"), "{output}: {err}");
        assert!(!err.contains("does not exist"), "{output}: {err}");
    }
    assert_eq!(env.requests().len(), before);
}

#[test]
fn an_extension_that_disagrees_with_the_format_is_warned_about() {
    let (env, _) = ready();
    let out = export(&env, &["--format", "mov", "-o", "x.mp4"])
        .assert()
        .success();
    let err = stderr(&out);
    assert!(
        err.contains("warning:") && err.contains(".mp4") && err.contains("mov"),
        "{err}"
    );
    // A name that fits says nothing.
    let out = export(&env, &["--format", "mov", "-o", "y.MOV"])
        .assert()
        .success();
    assert!(!stderr(&out).contains("warning:"), "{}", stderr(&out));
}

#[test]
fn resume_of_a_render_whose_submit_the_server_never_took_says_so_and_forgets_it() {
    let (env, sid) = ready();
    // What a kill between the record and a submit that never arrived leaves.
    let mut config = env.config();
    config["renders"] = serde_json::json!([{
        "render_id": "render_1700000000000",
        "session_id": sid,
        "format": "mp4",
        "output": env.tmp.path().join("lost.mp4"),
        "started_at": "2026-01-01T00:00:00Z",
        "status": "submitting",
    }]);
    std::fs::write(env.config_path(), config.to_string()).unwrap();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "resume", "--poll-interval", "0.05"])
        .assert()
        .code(7);
    let err = stderr(&out);
    assert!(err.contains("never took"), "{err}");
    assert!(err.contains("`nemo export`"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    assert!(recorded(&env).is_empty(), "{:?}", recorded(&env));
    assert_eq!(submits(&env), 0, "resume never submits");
}

#[test]
fn sandbox_export_in_a_fresh_config_says_there_is_no_session_and_makes_none() {
    let env = Env::new();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .env_remove("NEMO_API_URL")
        .args(["--sandbox", "export"])
        .assert()
        .code(10);
    let err = stderr(&out);
    assert!(err.contains("no current session"), "{err}");
    assert!(!err.contains("Created session"), "{err}");
    assert!(!err.contains("empty"), "{err}");
    assert!(
        err.contains("--sandbox"),
        "the hint carries --sandbox: {err}"
    );
    // No session in the sandbox's state, none recorded in the config.
    let state = env.config_dir().join("sandbox/emulator.json");
    if let Ok(bytes) = std::fs::read(&state) {
        let state: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(
            state["sessions"].as_object().is_none_or(|s| s.is_empty()),
            "{state}"
        );
    }
    assert!(
        env.config()["sessions"]
            .as_array()
            .is_none_or(|s| s.is_empty())
    );
    assert!(env.requests().is_empty());
}
