//! `nemo generate` end to end: a prompt to a byte-identical file with one
//! `/run_sse`, the current session left alone, `--dry-run` sending no POST,
//! exit 4 before sending, exit 8 without a video, `--json`, and three
//! parallel runs against one config dir.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::common::{Env, json, stderr, stdout};

/// The file every emulated render produces.
pub fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("emulator/assets/render.mp4");
    std::fs::read(path).expect("the MP4 fixture")
}

/// An emulator whose agent and renders are quick.
pub fn fast_env() -> Env {
    let env = Env::fast();
    env.emu.with_state(|s| s.faults.render.render_ms = 200);
    env
}

/// Gives every user of the emulator `credits` available.
pub fn set_credits(env: &Env, credits: i64) {
    env.emu.with_state(|s| {
        for user in s.users.values_mut() {
            user.available = credits;
        }
    });
}

pub fn count(env: &Env, method: &str, path: &str) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

fn posts(env: &Env) -> Vec<String> {
    env.requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path)
        .collect()
}

/// `nemo generate …` in the test's temp folder, polling fast.
pub fn generate(env: &Env, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["generate", "--poll-interval", "0.05"])
        .args(args);
    cmd
}

#[test]
fn a_prompt_becomes_a_byte_identical_file_with_one_run_and_the_current_session_untouched() {
    let env = fast_env();
    let current = env.session();
    set_credits(&env, 1000);
    let out = generate(&env, &["generate a panda", "-o", "panda.mp4", "--json"])
        .assert()
        .success();
    let doc = json(&out);
    let file = env.tmp.path().join("panda.mp4");
    assert_eq!(std::fs::read(&file).unwrap(), fixture());
    assert!(!env.tmp.path().join("panda.mp4.part").exists());
    assert_eq!(count(&env, "POST", "/run_sse"), 1);
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 1);

    let mut keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let mut expected = [
        "session_id",
        "task_id",
        "render_id",
        "path",
        "bytes",
        "credits_spent",
        "reply",
        "project_url",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(doc["path"], "panda.mp4");
    assert_eq!(doc["bytes"], fixture().len() as u64);
    // Measured from the balance before and after: the emulator charges 100.
    assert_eq!(doc["credits_spent"], 100);
    assert!(
        doc["reply"]
            .as_str()
            .unwrap()
            .contains("Your video is ready")
    );
    assert!(
        doc["project_url"]
            .as_str()
            .unwrap()
            .starts_with("https://web.nemo.test/workspace/claim?ct=")
    );
    let session = doc["session_id"].as_str().unwrap();
    assert_ne!(session, current);

    // The current session is the one it was; the new one is known, not current.
    let config = env.config();
    assert_eq!(config["current_session"], current.as_str());
    assert!(
        config["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["session_id"] == session && s["name"] == "generate")
    );
    // The render was recorded (resumable) and is downloaded.
    let renders = config["renders"].as_array().unwrap();
    assert_eq!(renders.len(), 1);
    assert_eq!(renders[0]["render_id"], doc["render_id"]);
    assert_eq!(renders[0]["session_id"], session);
    assert_eq!(renders[0]["bytes"], fixture().len() as u64);
    // The message went to the new session.
    let runs = env.emu.with_state(|s| {
        s.chat
            .runs
            .iter()
            .map(|r| r.body.clone())
            .collect::<Vec<Value>>()
    });
    assert_eq!(runs[0]["session_id"], session);
}

#[test]
fn human_output_is_the_path_on_stdout_and_the_phases_on_stderr() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    let out = generate(&env, &["make a cat", "-o", "cat.mp4", "--name", "cats"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "cat.mp4\n");
    let err = stderr(&out);
    for line in [
        "Creating a session…",
        "Generating…",
        "Rendering…",
        "Downloading…",
    ] {
        assert!(err.contains(line), "{line:?} missing from {err}");
    }
    assert!(err.contains("Project: https://web.nemo.test/workspace/claim?ct="));
    assert_eq!(env.config()["current_session"], Value::Null);
    assert_eq!(env.config()["sessions"][0]["name"], "cats");
}

#[test]
fn dry_run_checks_and_prints_the_plan_without_a_single_post() {
    let env = fast_env();
    // No token stored: nothing is requested, the plan says what would be.
    let out = generate(&env, &["generate a panda", "--dry-run", "-o", "p.mp4"])
        .assert()
        .success();
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    let text = stdout(&out);
    assert!(text.contains("output:    p.mp4"), "{text}");
    assert!(text.contains("a free one would be requested"), "{text}");
    assert!(stderr(&out).contains("Dry run: nothing was sent"));

    // With a token: the balance is read (a GET), still no POST.
    env.login();
    let before = posts(&env).len();
    let out = generate(&env, &["generate a panda", "--dry-run", "--json"])
        .assert()
        .success();
    assert_eq!(posts(&env).len(), before);
    let doc = json(&out);
    assert_eq!(doc["estimated_credits"], 100);
    assert_eq!(doc["available"], 100);
    assert_eq!(doc["dry_run"], true);
}

#[test]
fn too_few_credits_is_exit_4_before_anything_is_sent() {
    let env = fast_env();
    env.login();
    set_credits(&env, 40);
    let before = posts(&env).len();
    let out = generate(&env, &["generate a panda"]).assert().code(4);
    assert!(
        stderr(&out).starts_with(
            "error: only 40 credits available; a generation costs about 100: nothing was sent\nhint: register to get more credits: "
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(posts(&env).len(), before);
}

#[test]
fn checks_come_first_bad_upload_existing_output_bad_format() {
    let env = fast_env();
    std::fs::write(env.tmp.path().join("taken.mp4"), b"mine").unwrap();
    generate(&env, &["generate a panda", "-o", "taken.mp4"])
        .assert()
        .code(7);
    let out = generate(&env, &["generate a panda", "--upload", "missing.png"])
        .assert()
        .code(7);
    assert!(stderr(&out).contains("cannot upload missing.png: no such file"));
    generate(&env, &["generate a panda", "--format", "m p4"])
        .assert()
        .code(2);
    assert!(env.requests().is_empty());
    assert_eq!(
        std::fs::read(env.tmp.path().join("taken.mp4")).unwrap(),
        b"mine"
    );
}

#[test]
fn an_agent_that_makes_no_video_is_exit_8_with_its_reply_and_no_render() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    let out = generate(&env, &["hello there", "-o", "x.mp4"])
        .assert()
        .code(8);
    let err = stderr(&out);
    let session = env.config()["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains("The agent replied:\n  Hi! I'm NemoVideo's agent."),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "error: the agent answered without making a video (session {session})\nhint: go on with `nemo --session {session} chat"
        )),
        "{err}"
    );
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 0);
    assert_eq!(count(&env, "POST", "/run_sse"), 1);
    assert!(!env.tmp.path().join("x.mp4").exists());
}

#[test]
fn three_parallel_generates_share_one_token_and_record_three_renders() {
    let env = fast_env();
    // Each gets the free 100 credits' check; the agent charges nothing here.
    env.emu.with_state(|s| s.faults.chat.chat_generate_cost = 0);
    let children: Vec<_> = (0..3)
        .map(|i| {
            generate_process(&env)
                .args(["generate", "--poll-interval", "0.05"])
                .arg(format!("generate clip {i}"))
                .args(["-o", &format!("clip{i}.mp4")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = wait_bounded(child);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for i in 0..3 {
        assert_eq!(
            std::fs::read(env.tmp.path().join(format!("clip{i}.mp4"))).unwrap(),
            fixture()
        );
    }
    assert_eq!(count(&env, "POST", "/api/auth/anonymous-token"), 1);
    assert_eq!(count(&env, "POST", "/run_sse"), 3);
    let config = env.config();
    assert_eq!(config["renders"].as_array().unwrap().len(), 3);
    assert_eq!(config["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(config["current_session"], Value::Null);
}

fn generate_process(env: &Env) -> std::process::Command {
    let mut cmd = env.nemo_process();
    cmd.current_dir(env.tmp.path());
    cmd
}

/// Waits at most a minute for a child; kills it after that.
pub fn wait_bounded(mut child: std::process::Child) -> std::process::Output {
    let start = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "the child did not end within a minute: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_session_named_by_session_is_used_and_never_replaced_when_lost() {
    let env = fast_env();
    let current = env.session();
    let named = env.session();
    env.nemo()
        .args(["session", "use", &current])
        .assert()
        .success();
    set_credits(&env, 1000);
    // The named session is used, the current one left alone.
    let out = generate(&env, &["--session", &named, "generate a fox", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out)["session_id"], named.as_str());
    assert_eq!(env.config()["current_session"], current.as_str());

    // Lost on the server: exit 10, no new session, the current one kept.
    let sessions = env.config()["sessions"].as_array().unwrap().len();
    env.emu
        .with_state(|s| s.faults.chat.chat_session_lost_next = 1);
    let out = generate(&env, &["--session", &named, "generate a fox"])
        .assert()
        .code(10);
    assert!(
        stderr(&out).contains(&format!("session {named} was not found on the server")),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(&env, "POST", "/api/tasks/me/with-session/nemo_agent"),
        2
    );
    assert_eq!(env.config()["sessions"].as_array().unwrap().len(), sessions);
    assert_eq!(env.config()["current_session"], current.as_str());
}

#[test]
fn the_timeout_bounds_the_whole_job_and_says_how_to_go_on() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    // The generation alone takes longer than the whole job may.
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 20_000);
    let start = std::time::Instant::now();
    let out = generate(&env, &["generate a panda", "--timeout", "1"])
        .assert()
        .code(8);
    assert!(start.elapsed() < std::time::Duration::from_secs(15));
    let err = stderr(&out);
    let session = env.config()["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The job's deadline, or the reply's (the same instant) passed first.
    assert!(err.starts_with("Creating a session…"), "{err}");
    assert!(
        err.contains("error: the job did not finish within ") && err.contains("--timeout"),
        "{err}"
    );
    assert!(
        err.contains(&format!("`nemo --session {session} state` shows")),
        "{err}"
    );
    assert_eq!(count(&env, "POST", "/run_sse"), 1);
}

#[test]
fn uploads_go_to_the_job_s_own_session_before_the_prompt() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    std::fs::write(env.tmp.path().join("logo.png"), b"\x89PNG\r\n\x1a\nlogo").unwrap();
    let out = generate(
        &env,
        &[
            "generate a teaser",
            "--upload",
            "logo.png",
            "--upload",
            "https://example.com/clip.mp4",
            "-o",
            "teaser.mp4",
            "--json",
        ],
    )
    .assert()
    .success();
    let session = json(&out)["session_id"].as_str().unwrap().to_string();
    let uploads = env.emu.snapshot().uploads;
    assert_eq!(uploads.len(), 2);
    assert!(uploads.iter().all(|u| u.session_id == session));
    assert_eq!(uploads[0].filename, "logo.png");
    assert_eq!(
        uploads[1].url.as_deref(),
        Some("https://example.com/clip.mp4")
    );
    // Uploads first, then the one prompt.
    let paths: Vec<String> = env.requests().into_iter().map(|r| r.path).collect();
    let first_upload = paths
        .iter()
        .position(|p| p.starts_with("/api/upload"))
        .unwrap();
    let run = paths.iter().position(|p| p == "/run_sse").unwrap();
    assert!(first_upload < run);
}

#[test]
fn on_a_terminal_one_status_line_stdout_unchanged() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    let out = generate(&env, &["generate a panda", "-o", "p.mp4"])
        .env("NEMO_PRETEND_TTY", "stderr")
        .assert()
        .success();
    assert_eq!(stdout(&out), "p.mp4\n");
    let err = stderr(&out);
    // The phases are drawn on one line, not printed a line each.
    assert!(!err.contains("Generating…\n"), "{err}");
    assert!(err.contains("generating"), "{err}");
    assert!(err.contains("Saved render "), "{err}");
}

#[test]
fn the_prompt_can_come_from_stdin() {
    let env = fast_env();
    let out = generate(&env, &["-", "--dry-run", "--json"])
        .write_stdin("generate a sunrise over the sea\n")
        .assert()
        .success();
    assert_eq!(json(&out)["dry_run"], true);
    let out = generate(&env, &["-", "--dry-run"])
        .write_stdin("  \n")
        .assert()
        .code(2);
    assert!(stderr(&out).starts_with("error: the prompt is empty"));
    assert!(env.requests().is_empty());
}
