//! `nemo generate` as a job that never loses a paid video and never pays
//! twice: a paid reply whose state read failed names the session and is
//! finished by running the same command again; `--session` with a prompt
//! that made nothing is exit 8; the output path is claimed before the
//! prompt is sent; a dropped stream is warned about; `credits_spent` is
//! honest.

use std::process::Stdio;

use serde_json::Value;

use crate::common::{json, stderr};
use crate::generate::{count, fast_env, fixture, generate, set_credits, wait_bounded};

const RUN: &str = "/run_sse";

/// The journals of unfinished `generate` jobs in the test's folder.
fn journals(env: &crate::common::Env) -> usize {
    std::fs::read_dir(env.tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".nemo-generate-")
        })
        .count()
}

#[test]
fn a_paid_reply_whose_state_read_failed_names_its_session_and_the_same_command_finishes_it() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 2);
    let out = generate(&env, &["generate a panda", "-o", "panda.mp4"])
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .assert()
        .code(6);
    let err = stderr(&out);
    let session = env.config()["sessions"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        err.contains(&format!("nemo --session {session} export -o panda.mp4")),
        "{err}"
    );
    assert_eq!(journals(&env), 1, "the unfinished job is on record");
    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 0);
    generate(&env, &["generate a panda", "-o", "panda.mp4"])
        .assert()
        .success();
    assert_eq!(journals(&env), 0, "a finished job leaves no journal");
    assert_eq!(count(&env, "POST", RUN), 1, "the prompt was paid twice");
    assert_eq!(
        std::fs::read(env.tmp.path().join("panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_prompt_that_makes_no_video_in_a_session_that_had_one_is_exit_8() {
    let env = fast_env();
    let sid = env.session();
    set_credits(&env, 1000);
    env.set_draft(&sid, crate::common::clip_draft());
    let out = generate(&env, &["--session", &sid, "hello there", "-o", "x.mp4"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("The agent replied:"), "{err}");
    assert!(err.contains(&format!("nemo --session {sid} chat")), "{err}");
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 0);
    assert!(!env.tmp.path().join("x.mp4").exists());
}

#[test]
fn three_generates_to_one_path_pay_once_the_others_exit_7_before_sending() {
    let env = fast_env();
    env.login();
    set_credits(&env, 10_000);
    // Slow enough that all three are under way together.
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 800);
    let children: Vec<_> = (0..3)
        .map(|_| {
            let mut cmd = env.nemo_process();
            cmd.current_dir(env.tmp.path())
                .args([
                    "generate",
                    "--poll-interval",
                    "0.05",
                    "generate a panda",
                    "-o",
                    "same.mp4",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let codes: Vec<(i32, String)> = children
        .into_iter()
        .map(|c| {
            let out = wait_bounded(c);
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect();
    let ok = codes.iter().filter(|(c, _)| *c == 0).count();
    let sevens = codes.iter().filter(|(c, _)| *c == 7).count();
    assert_eq!((ok, sevens), (1, 2), "{codes:?}");
    assert_eq!(count(&env, "POST", RUN), 1, "{codes:?}");
    assert_eq!(
        std::fs::read(env.tmp.path().join("same.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_dropped_stream_is_warned_about_and_marked_in_the_json() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    env.emu
        .with_state(|s| s.faults.chat.chat_drop_stream = true);
    let out = generate(&env, &["generate a panda", "-o", "p.mp4", "--json"])
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .assert()
        .success();
    let err = stderr(&out);
    assert!(err.contains("warning: the reply was cut off"), "{err}");
    assert_eq!(json(&out)["dropped"], true);
    assert_eq!(count(&env, "POST", RUN), 1);
}

#[test]
fn credits_spent_is_the_job_s_own_or_null_when_another_overlapped() {
    let env = fast_env();
    env.login();
    set_credits(&env, 10_000);
    let alone = generate(&env, &["generate a panda", "-o", "a.mp4", "--json"])
        .assert()
        .success();
    assert_eq!(json(&alone)["credits_spent"], 100);

    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 800);
    let children: Vec<_> = ["b.mp4", "c.mp4"]
        .iter()
        .map(|path| {
            let mut cmd = env.nemo_process();
            cmd.current_dir(env.tmp.path())
                .args([
                    "generate",
                    "--poll-interval",
                    "0.05",
                    "generate a cat",
                    "-o",
                    path,
                    "--json",
                ])
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
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            doc["credits_spent"].is_null() || doc["credits_spent"] == 100,
            "another job's spending: {doc}"
        );
    }
}

#[test]
fn a_generate_killed_while_the_agent_works_is_finished_by_the_same_command_without_paying_again() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 1500);
    let mut child = env.nemo_process();
    child
        .current_dir(env.tmp.path())
        .args([
            "generate",
            "--poll-interval",
            "0.05",
            "generate a panda",
            "-o",
            "p.mp4",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = child.spawn().unwrap();
    let start = std::time::Instant::now();
    while count(&env, "POST", RUN) == 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no prompt went out"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(journals(&env), 1);
    let out = generate(&env, &["generate a panda", "-o", "p.mp4"])
        .env("NEMO_CHAT_TIME_SCALE", "0.05")
        .assert()
        .success();
    assert!(
        stderr(&out).contains("without sending the prompt again"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 1, "the prompt was paid twice");
    assert_eq!(
        std::fs::read(env.tmp.path().join("p.mp4")).unwrap(),
        fixture()
    );
    assert_eq!(journals(&env), 0);
}
