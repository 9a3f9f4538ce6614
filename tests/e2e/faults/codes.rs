//! Rows: API code 1001 and 1002 on every command, 2001 on chat, HTTP 402
//! on export — on the emulator, whose fault switches produce them.

use super::{Setup, error_line};

/// A token the user gave (NEMO_TOKEN) that the server rejects: exit 3 on
/// every command, nothing sent twice, the config untouched.
#[test]
fn code_1001_on_every_command_is_exit_3() {
    let setup = Setup::new();
    for args in [
        &["credits"][..],
        &["state"],
        &["session", "new"],
        &["chat", "hello"],
        &["export", "-o", "out.mp4"],
    ] {
        let before = setup.env.requests_to("/run_sse").len();
        let out = setup
            .env
            .nemo()
            .env("NEMO_TOKEN", "nmv_usr_not_known_to_the_server")
            .current_dir(setup.env.tmp.path())
            .args(args)
            .assert()
            .code(3);
        let line = error_line(&out);
        assert!(line.contains("rejected"), "{args:?}: {line}");
        assert!(setup.env.requests_to("/run_sse").len() - before <= 1);
        setup.assert_config_intact();
    }
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

/// A session named by NEMO_SESSION that the server does not know: exit 10,
/// no new session, the config untouched.
#[test]
fn code_1002_on_every_session_command_is_exit_10() {
    let setup = Setup::new();
    for args in [
        &["state"][..],
        &["chat", "hello"],
        &["export", "-o", "out.mp4"],
    ] {
        let sessions = setup.env.emu.with_state(|s| s.sessions.len());
        let out = setup
            .env
            .nemo()
            .env("NEMO_SESSION", "999")
            .current_dir(setup.env.tmp.path())
            .args(args)
            .assert()
            .code(10);
        let line = error_line(&out);
        assert!(line.contains("session"), "{args:?}: {line}");
        assert_eq!(setup.env.emu.with_state(|s| s.sessions.len()), sessions);
        assert!(setup.env.requests_to("/run_sse").len() <= 1);
        setup.assert_config_intact();
    }
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

#[test]
fn code_2001_on_chat_is_exit_4_and_sent_once() {
    let setup = Setup::new();
    setup.env.emu.with_state(|s| {
        s.faults.no_credits = true;
        s.faults.chat.chat_pace_ms = 2;
        s.faults.chat.chat_tool_ms = 60;
    });
    let out = setup
        .env
        .nemo()
        .args(["chat", "generate a video of a fish"])
        .assert()
        .code(4);
    assert_eq!(error_line(&out), "error: no credits left");
    assert_eq!(setup.env.requests_to("/run_sse").len(), 1);
    setup.assert_config_intact();
}

#[test]
fn http_402_on_export_is_exit_5_and_no_file() {
    let setup = Setup::new();
    let sid = setup.env.config()["session"]["id"]
        .as_str()
        .map(str::to_string);
    setup.env.emu.with_state(|s| {
        for (id, session) in s.sessions.iter_mut() {
            if sid.as_deref().is_none_or(|sid| sid == id) {
                session.state["draft"] = crate::common::clip_draft();
            }
        }
        s.faults.render.render_plan_required = true;
    });
    let out = setup
        .env
        .nemo()
        .current_dir(setup.env.tmp.path())
        .args(["export", "-o", "out.mp4"])
        .assert()
        .code(5);
    assert_eq!(
        error_line(&out),
        "error: export is blocked by your plan (HTTP 402)"
    );
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}
