//! `nemo export` options and subcommands against their contract
//! (`../shared/spec/cli.md` "nemo export"): `--format`/`--quality` checked locally,
//! `cancel` on unreadable answers and on renders that already ended, the
//! wait giving up on an unreachable API, and `resume`/`cancel` without an id.

use std::net::TcpStream;
use std::time::Duration;

use crate::common::{Env, clip_draft, stderr, stdout};
use crate::raw_server::{RawServer, json_answer};

/// A logged-in env with a current session that has something to export.
fn ready(render_ms: u64) -> (Env, String) {
    let env = Env::new();
    let sid = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session exists").state["draft"] = clip_draft();
        s.faults.render.render_ms = render_ms;
    });
    (env, sid)
}

fn render_requests(env: &Env) -> usize {
    env.requests_to("/api/render/").len()
}

#[test]
fn an_unknown_format_or_quality_is_refused_locally() {
    let (env, _) = ready(200);
    for (flag, value, accepted) in [
        ("--format", "avi", "mp4"),
        ("--format", "mkv", "webm"),
        ("--quality", "ultra", "medium"),
    ] {
        let out = env
            .nemo()
            .current_dir(env.tmp.path())
            .args(["export", flag, value])
            .assert()
            .code(2);
        let err = stderr(&out);
        assert!(err.contains(flag), "{err}");
        assert!(err.contains(accepted), "lists the accepted values: {err}");
    }
    assert_eq!(render_requests(&env), 0, "nothing sent");
    // Upper case is the same value (the emulator renders mp4 only).
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--format", "MP4", "--quality", "Low", "--no-wait"])
        .assert()
        .success();
    let id = stdout(&out).trim().to_string();
    let render = env.emu.snapshot().renders[&id].clone();
    assert_eq!(
        (render.format.as_str(), render.quality.as_str()),
        ("mp4", "low")
    );
}

#[test]
fn cancel_never_reports_success_on_an_answer_it_cannot_read() {
    for body in ["[1,2,3]", "null", "{}"] {
        let env = Env::new();
        let server = RawServer::start(move |_line, socket: &mut TcpStream| {
            json_answer(socket, body);
        });
        let out = env
            .nemo()
            .env("NEMO_API_URL", &server.url)
            .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
            .args(["export", "cancel", "render_1742198400000"])
            .assert()
            .code(9);
        let err = stderr(&out);
        assert!(!err.contains("Cancelled"), "{body}: {err}");
        assert_eq!(err.matches("error: ").count(), 1, "{body}: {err}");
        assert!(
            server
                .requests()
                .iter()
                .any(|r| r.starts_with("POST /api/render/proxy/lambda/render_1742198400000/cancel")),
            "{:?}",
            server.requests()
        );
    }
}

#[test]
fn cancel_of_a_render_that_already_completed_is_nothing_to_cancel() {
    let (env, _) = ready(200);
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05", "-o", "done.mp4"])
        .assert()
        .success();
    assert!(stdout(&out).contains("done.mp4"));
    let id = env.config()["renders"][0]["render_id"]
        .as_str()
        .expect("recorded")
        .to_string();
    let out = env.nemo().args(["export", "cancel", &id]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("nothing to cancel"), "{err}");
    assert!(err.contains("completed"), "{err}");
    assert!(!err.contains("Cancelled"), "{err}");
    assert_eq!(env.config()["renders"][0]["status"], "completed");
}

#[test]
fn waiting_gives_up_after_a_run_of_network_errors_with_the_resume_hint() {
    let env = Env::new();
    let out = env
        .nemo()
        .timeout(Duration::from_secs(40))
        .env("NEMO_TOKEN", "nmt_test_token_for_the_dead_port")
        // The 2-minute tolerance, shortened for the test.
        .env("NEMO_POLL_NETWORK_TOLERANCE", "2")
        .current_dir(env.tmp.path())
        .args([
            "--api-url",
            "http://127.0.0.1:9",
            "export",
            "resume",
            "render_1742198400000",
            "--poll-interval",
            "0.2",
            "--timeout",
            "600",
        ])
        .assert()
        .code(9);
    let err = stderr(&out);
    assert!(
        err.contains("nemo export resume render_1742198400000"),
        "the resume hint: {err}"
    );
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
}

#[test]
fn resume_and_cancel_without_an_id_take_the_latest_recorded_render() {
    let (env, _) = ready(600_000);
    for sub in ["resume", "cancel"] {
        let out = env.nemo().args(["export", sub]).assert().code(7);
        let err = stderr(&out);
        assert!(err.contains("no render recorded"), "{sub}: {err}");
    }
    let submit = |name: &str| {
        let out = env
            .nemo()
            .current_dir(env.tmp.path())
            .args(["export", "--no-wait", "-o", name])
            .assert()
            .success();
        stdout(&out).trim().to_string()
    };
    let _older = submit("a.mp4");
    let latest = submit("b.mp4");
    let out = env.nemo().args(["export", "cancel"]).assert().success();
    assert_eq!(stderr(&out), format!("Cancelled render {latest}\n"));
    assert_eq!(
        env.requests_to(&format!("/api/render/proxy/lambda/{latest}/cancel"))
            .len(),
        1
    );
    // resume without an id follows the same render (cancelled: exit 8).
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "resume", "--poll-interval", "0.05"])
        .assert()
        .code(8);
    assert!(
        stderr(&out).contains(&format!("render {latest} was cancelled")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_elapsed_time_moves_every_second_between_polls() {
    let (env, _) = ready(6_000);
    // One poll every 3.5 s: any elapsed time drawn between them comes from
    // the bar's own tick.
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stderr")
        .current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "3.5", "-o", "tick.mp4"])
        .assert()
        .success();
    let err = stderr(&out);
    let seconds: std::collections::BTreeSet<&str> = ["(1s)", "(2s)", "(3s)"]
        .into_iter()
        .filter(|s| err.contains(s))
        .collect();
    assert!(seconds.len() >= 2, "the bar drew {seconds:?}: {err:?}");
}

#[test]
fn resume_after_the_latest_render_was_saved_says_where_exit_0() {
    let (env, _) = ready(200);
    env.nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05", "-o", "done.mp4"])
        .assert()
        .success();
    let requests = env.requests().len();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "resume"])
        .assert()
        .success();
    let saved = env.tmp.path().join("done.mp4");
    let saved = std::path::absolute(&saved).unwrap();
    assert_eq!(stdout(&out).trim(), saved.display().to_string());
    let err = stderr(&out);
    assert!(err.contains("already saved"), "{err}");
    assert!(!err.contains("error:"), "{err}");
    assert_eq!(
        env.requests().len(),
        requests,
        "nothing asked of the server"
    );
    // A file changed since is downloaded again only when asked (--force).
    std::fs::write(&saved, b"something else").unwrap();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "resume"])
        .assert()
        .code(7);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
}

#[test]
fn cancel_of_a_saved_render_does_not_send_to_resume() {
    let (env, _) = ready(200);
    env.nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05", "-o", "done.mp4"])
        .assert()
        .success();
    let out = env.nemo().args(["export", "cancel"]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("nothing to cancel"), "{err}");
    assert!(!err.contains("export resume"), "a hint that fails: {err}");
    assert!(err.contains("done.mp4"), "says where it was saved: {err}");
}

#[test]
fn cancel_with_nothing_recorded_hints_at_something_that_works() {
    let env = Env::new();
    let out = env.nemo().args(["export", "cancel"]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("no render recorded"), "{err}");
    assert!(!err.contains("RENDER_ID"), "{err}");
    assert!(!err.contains("export resume"), "{err}");
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn cancelling_a_cancelled_render_is_nothing_to_cancel() {
    let (env, _) = ready(600_000);
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--no-wait"])
        .assert()
        .success();
    let id = stdout(&out).trim().to_string();
    env.nemo()
        .args(["export", "cancel", &id])
        .assert()
        .success();
    let out = env.nemo().args(["export", "cancel", &id]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("nothing to cancel"), "{err}");
    assert!(err.contains("cancelled"), "{err}");
    assert!(!err.contains("Cancelled render"), "{err}");
    assert!(!err.contains("export resume"), "{err}");
}
