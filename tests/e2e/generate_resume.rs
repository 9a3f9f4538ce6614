//! A `generate` finished by running the same command again, in a
//! `--session` that already held a video: the draft as it was before the
//! prompt is on record, so the re-run takes only a changed draft as the
//! prompt's work — it never exports the old video as the new one.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Env, clip_draft, stderr};
use crate::generate::{count, fast_env, fixture, generate, set_credits};

const RUN: &str = "/run_sse";

/// A logged-in env whose session already holds a video; its id.
fn session_with_a_video() -> (Env, String) {
    let env = fast_env();
    let sid = env.session();
    set_credits(&env, 1000);
    env.set_draft(&sid, clip_draft());
    (env, sid)
}

/// When the agent's last edit to `sid` lands (Unix ms), once it is
/// scheduled.
fn work_lands_at(env: &Env, sid: &str) -> u64 {
    let start = Instant::now();
    loop {
        let at = env.emu.with_state(|s| {
            s.chat
                .pending
                .iter()
                .filter(|p| p.session_id == sid)
                .map(|p| p.apply_at_ms)
                .max()
        });
        if let Some(at) = at {
            return at;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the agent scheduled no work"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_generate_killed_while_the_agent_works_in_a_session_with_a_video_waits_for_the_new_one() {
    let (env, sid) = session_with_a_video();
    // The agent's work lands 1.5 s after the prompt: the re-run starts
    // well before, while the session still shows the old video.
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 1500);
    let mut child = env.nemo_process();
    child
        .current_dir(env.tmp.path())
        .args([
            "--session",
            &sid,
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
    let lands = work_lands_at(&env, &sid);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(count(&env, "POST", RUN), 1);

    let out = generate(
        &env,
        &["--session", &sid, "generate a panda", "-o", "p.mp4"],
    )
    .env("NEMO_CHAT_TIME_SCALE", "0.05")
    .assert()
    .success();
    let err = stderr(&out);
    assert!(err.contains("without sending the prompt again"), "{err}");
    assert_eq!(count(&env, "POST", RUN), 1, "the prompt was paid twice");
    let renders = env.emu.snapshot().renders;
    assert_eq!(renders.len(), 1, "{:?}", renders.keys());
    let render = renders.values().next().unwrap();
    assert!(
        render.created_ms >= lands,
        "the old video was rendered: submitted at {} ms, the prompt's work landed at {lands} ms",
        render.created_ms
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join("p.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_paid_reply_that_made_nothing_in_a_session_with_a_video_is_exit_8_on_the_rerun_too() {
    let (env, sid) = session_with_a_video();
    // The reply ends (paid), then the state read that judges it fails.
    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 2);
    generate(&env, &["--session", &sid, "hello there", "-o", "x.mp4"])
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .assert()
        .code(6);
    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 0);
    let out = generate(&env, &["--session", &sid, "hello there", "-o", "x.mp4"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("without making a video"), "{err}");
    assert!(err.contains(&format!("nemo --session {sid} chat")), "{err}");
    assert_eq!(count(&env, "POST", RUN), 1, "the prompt was paid twice");
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 0);
    assert!(!env.tmp.path().join("x.mp4").exists());
}

/// A job whose prompt was refused before any work (2001) keeps its session
/// for the re-run; when that session is gone from the server by then, the
/// re-run starts in a new one (nothing was sent there) instead of failing
/// with exit 10 on every run.
#[test]
fn a_refused_job_whose_session_is_gone_starts_afresh_on_the_rerun() {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    env.emu
        .with_state(|s| s.faults.chat.chat_generate_cost = 5000);
    generate(&env, &["a panda in the snow", "-o", "panda.mp4"])
        .assert()
        .code(4);
    assert_eq!(count(&env, "POST", RUN), 1);
    let first = env.emu.with_state(|s| {
        let sessions: Vec<String> = s.sessions.keys().cloned().collect();
        s.sessions.clear();
        s.faults.chat.chat_generate_cost = 0;
        sessions
    });
    assert_eq!(first.len(), 1, "{first:?}");

    let out = generate(&env, &["a panda in the snow", "-o", "panda.mp4"])
        .assert()
        .success();
    let said = stderr(&out);
    assert!(said.contains("is gone from the server"), "{said}");
    assert_eq!(count(&env, "POST", RUN), 2);
    assert_eq!(
        std::fs::read(env.tmp.path().join("panda.mp4")).unwrap(),
        fixture()
    );
}
