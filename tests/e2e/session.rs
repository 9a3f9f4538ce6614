//! `nemo session`: new, show, list, use, open.

use crate::common::{Env, WEB_URL, json, stderr, stdout};

#[test]
fn new_creates_and_makes_current() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["session", "new", "--name", "panda", "--language", "ja"])
        .assert()
        .success();
    let id = stdout(&out).trim().to_string();
    assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");
    assert_eq!(env.config()["current_session"], id.as_str());
    let sent = env.requests_to("/api/tasks/me/with-session/nemo_agent");
    assert_eq!(sent.len(), 1);
    let state = env.emu.snapshot();
    let session = &state.sessions[&id];
    assert_eq!(session.task_name, "panda");
    assert_eq!(session.language, "ja");

    let doc = json(
        &env.nemo()
            .args(["session", "new", "--json"])
            .assert()
            .success(),
    );
    assert!(doc["session_id"].is_string());
    assert!(doc["task_id"].as_str().unwrap().starts_with("task_"));
}

#[test]
fn language_defaults_from_the_locale() {
    for (vars, expected) in [
        (vec![("LANG", "zh_CN.UTF-8")], "zh-CN"),
        (
            vec![("LANG", "en_US.UTF-8"), ("LC_ALL", "zh_TW.UTF-8")],
            "zh-TW",
        ),
        (
            vec![("LC_MESSAGES", "de_DE.UTF-8"), ("LANG", "fr_FR")],
            "de",
        ),
        (vec![("LANG", "C")], "en"),
        (vec![], "en"),
    ] {
        let env = Env::new();
        let mut cmd = env.nemo();
        for (k, v) in &vars {
            cmd.env(k, v);
        }
        let id = stdout(&cmd.args(["session", "new"]).assert().success())
            .trim()
            .to_string();
        assert_eq!(
            env.emu.snapshot().sessions[&id].language,
            expected,
            "{vars:?}"
        );
    }
}

#[test]
fn show_exits_10_without_a_session() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["session", "show", "--json"])
        .assert()
        .code(10);
    assert_eq!(json(&out)["error"]["kind"], "session");
    assert!(stderr(&out).contains("nemo session new"));
    let out = env.nemo().args(["session", "show"]).assert().code(10);
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "error: no current session\n\
         hint: start one with `nemo session new`, or pick one with `nemo session use ID`\n"
    );
}

#[test]
fn show_and_list() {
    let env = Env::new();
    let first = env.session();
    let second = env.session();
    let doc = json(
        &env.nemo()
            .args(["session", "show", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["session_id"], second.as_str());
    assert!(doc["task_id"].is_string());
    assert!(doc["created_at"].is_string());

    let list = json(
        &env.nemo()
            .args(["session", "list", "--json"])
            .assert()
            .success(),
    );
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["session_id"], first.as_str());
    assert_eq!(list[0]["current"], false);
    assert_eq!(list[1]["current"], true);

    let text = stdout(&env.nemo().args(["session", "list"]).assert().success());
    assert!(
        text.lines()
            .any(|l| l.starts_with("* ") && l.contains(&second)),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("  ") && l.contains(&first)),
        "{text}"
    );
}

#[test]
fn session_flag_and_env_override_the_current_one() {
    let env = Env::new();
    let first = env.session();
    env.session();
    let doc = json(
        &env.nemo()
            .args(["--session", &first, "session", "show", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["session_id"], first.as_str());
    let doc = json(
        &env.nemo()
            .env("NEMO_SESSION", &first)
            .args(["session", "show", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["session_id"], first.as_str());
}

#[test]
fn use_checks_the_session_exists() {
    let env = Env::new();
    let first = env.session();
    env.session();
    env.nemo()
        .args(["session", "use", &first])
        .assert()
        .success()
        .stdout("")
        .stderr(format!("Now working in session {first}\n"));
    assert_eq!(env.config()["current_session"], first.as_str());

    let out = env.nemo().args(["session", "use", "999"]).assert().code(10);
    assert_eq!(
        stderr(&out),
        "error: session 999 was not found on the server\n\
         hint: start a new one with `nemo session new`, or pick one with `nemo session use ID`\n"
    );
    assert_eq!(env.config()["current_session"], first.as_str());
}

#[test]
fn use_adopts_a_session_made_elsewhere() {
    let env = Env::new();
    env.login();
    // Another client (same user) made this session.
    let other = json(
        &env.nemo()
            .args(["session", "new", "--json"])
            .assert()
            .success(),
    );
    let id = other["session_id"].as_str().unwrap().to_string();
    let mut config = env.config();
    config["sessions"] = serde_json::json!([]);
    config["current_session"] = serde_json::Value::Null;
    std::fs::write(env.config_path(), config.to_string()).unwrap();

    env.nemo().args(["session", "use", &id]).assert().success();
    let config = env.config();
    assert_eq!(config["current_session"], id.as_str());
    assert_eq!(config["sessions"][0]["task_id"], other["task_id"]);
}

#[test]
fn open_prints_a_claim_link_without_the_token() {
    let env = Env::new();
    let token = env.login();
    env.session();
    let out = env.nemo().args(["session", "open"]).assert().success();
    let link = stdout(&out).trim().to_string();
    assert!(
        link.starts_with(&format!("{WEB_URL}/workspace/claim?ct=clm_")),
        "{link}"
    );
    assert!(!link.contains(&token));
    let claim = &env.requests_to("/api/auth/claim-token")[0];
    assert!(claim.query.is_none());
}

#[test]
fn lost_session_stops_with_exit_10_for_reads() {
    let env = Env::new();
    let id = env.session();
    env.emu.with_state(|s| s.lose_all_sessions());
    let out = env.nemo().args(["session", "use", &id]).assert().code(10);
    assert!(stderr(&out).contains("not found"));
    env.emu
        .with_state(|s| s.faults.session_not_found_as_404 = true);
    env.nemo().args(["session", "use", &id]).assert().code(10);
}

/// Session ids are checked before anything is sent: `..` must never reach
/// a request path (it would collapse `/api/state/nemo_agent/me/../latest`).
#[test]
fn session_ids_are_checked_before_anything_is_sent() {
    let env = Env::new();
    for bad in ["..", "a/b", "x y", &"9".repeat(65)] {
        let out = env
            .nemo()
            .args(["--session", bad, "state"])
            .assert()
            .code(2);
        let err = stderr(&out);
        assert!(
            err.starts_with("error: --session ") && err.contains("is not a session id"),
            "{err}"
        );
        let out = env.nemo().args(["session", "use", bad]).assert().code(2);
        assert!(
            stderr(&out).contains("is not a session id"),
            "{}",
            stderr(&out)
        );
        let out = env
            .nemo()
            .args(["state"])
            .env("NEMO_SESSION", bad)
            .assert()
            .code(2);
        assert!(stderr(&out).contains("is not a session id"));
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    // The documented alphabet passes the check (and reaches the server).
    env.nemo()
        .args(["--session", "Ab_9-x", "state"])
        .assert()
        .code(10);
}

/// A session the caller named (`--session`, `NEMO_SESSION`) that the server
/// does not know is exit 10: no new session, the current one untouched.
#[test]
fn a_named_session_the_server_does_not_know_is_exit_10_and_nothing_changes() {
    let env = Env::new();
    let old = env.session();
    let config_before = env.config();
    let sessions_before = env.emu.with_state(|s| s.sessions.len());

    let out = env
        .nemo()
        .args(["--session", "999", "chat", "hi"])
        .assert()
        .code(10);
    let err = stderr(&out);
    assert!(
        err.contains("error: session 999 was not found on the server\n"),
        "{err}"
    );
    assert!(!err.contains("started a new session"), "{err}");
    assert_eq!(stdout(&out), "");

    let file = env.tmp.path().join("take.mp4");
    std::fs::write(&file, vec![7u8; 4096]).unwrap();
    let out = env
        .nemo()
        .env("NEMO_SESSION", "999")
        .args(["--json", "upload", file.to_str().unwrap()])
        .assert()
        .code(10);
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "session");
    assert_eq!(doc["error"]["api_code"], 1002);

    assert_eq!(env.emu.with_state(|s| s.chat.runs.len()), 0);
    assert_eq!(env.emu.with_state(|s| s.sessions.len()), sessions_before);
    assert_eq!(env.config(), config_before);
    assert_eq!(env.config()["current_session"], old.as_str());
}

/// Lost while sending: the named session is not replaced either, and the
/// message is not sent again.
#[test]
fn a_named_session_lost_at_run_sse_is_not_replaced() {
    let env = Env::new();
    let old = env.session();
    env.emu
        .with_state(|s| s.faults.chat.chat_session_lost_next = 1);
    let out = env
        .nemo()
        .args(["--session", &old, "chat", "hi"])
        .assert()
        .code(10);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "error: session {old} was not found on the server\n"
        )),
        "{err}"
    );
    assert!(
        err.contains("hint: check the id given with --session"),
        "{err}"
    );
    assert_eq!(env.emu.with_state(|s| s.chat.runs.len()), 1);
    assert_eq!(env.config()["current_session"], old.as_str());
    assert_eq!(env.config()["sessions"].as_array().map(Vec::len), Some(1));
}
