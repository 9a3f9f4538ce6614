//! `nemo auth status` checks the token with the server (`--offline` only
//! locally), `auth logout --json` says so, and logging out of a free token
//! that still works warns about the week's limit (a second free token is
//! refused for a week, so the user must know before giving this one up).

use serde_json::json;

use crate::common::{Env, json, stderr, stdout};

fn credits_reads(env: &Env) -> usize {
    env.requests_to("/api/credits/").len()
}

#[test]
fn a_token_the_server_rejects_is_not_logged_in_exit_3() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_TOKEN", "garbage")
        .args(["auth", "status"])
        .assert()
        .code(3);
    let err = stderr(&out);
    assert!(
        err.contains("error: the server rejected the token"),
        "{err}"
    );
    assert!(err.contains("NEMO_TOKEN"), "{err}");
    assert!(!err.contains("garbage"), "never the token itself: {err}");
    assert_eq!(credits_reads(&env), 1, "one credits read");
    assert!(
        env.requests_to("/api/auth/anonymous-token").is_empty(),
        "no renewal"
    );

    let doc = json(
        &env.nemo()
            .env("NEMO_TOKEN", "garbage")
            .args(["auth", "status", "--json"])
            .assert()
            .code(3),
    );
    assert_eq!(doc["logged_in"], false);
    assert_eq!(doc["source"], "env");

    // --offline only looks at presence and expiry: nothing is sent.
    let doc = json(
        &env.nemo()
            .env("NEMO_TOKEN", "garbage")
            .args(["auth", "status", "--offline", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["logged_in"], true);
    assert_eq!(credits_reads(&env), 2, "--offline sent nothing");
}

#[test]
fn a_usable_token_is_checked_with_one_credits_read() {
    let env = Env::new();
    env.login();
    let before = credits_reads(&env);
    let out = env.nemo().args(["auth", "status"]).assert().success();
    assert!(
        stdout(&out).contains("server:    accepted (100 credits)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(credits_reads(&env), before + 1);
}

#[test]
fn logout_json_says_logged_out_and_warns_about_the_free_token_limit() {
    let env = Env::new();
    env.login();
    let out = env
        .nemo()
        .args(["auth", "logout", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out), json!({"logged_out": true}));
    let err = stderr(&out);
    assert!(
        err.contains("cannot get another free one for up to 7 days"),
        "{err}"
    );
    assert!(env.stored_token().is_none());

    // Nothing left to forget: the same document, no warning.
    let out = env
        .nemo()
        .args(["auth", "logout", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out), json!({"logged_out": true}));
    assert!(!stderr(&out).contains("7 days"), "{}", stderr(&out));
}

#[test]
fn logging_out_of_a_registered_token_gives_no_free_token_warning() {
    let env = Env::new();
    let token = "nmv_usr_registered_for_logout";
    env.emu.with_state(|s| s.add_registered_user(token, 10));
    env.nemo()
        .args(["auth", "login", "--with-token"])
        .write_stdin(token)
        .assert()
        .success();
    let out = env.nemo().args(["auth", "logout"]).assert().success();
    assert_eq!(stderr(&out), "Logged out\n");
}

#[test]
fn a_token_on_stdin_that_is_not_utf8_is_a_usage_error_naming_stdin() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["auth", "login", "--with-token"])
        .write_stdin(b"nmv_usr_\xff\xfe".to_vec())
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(err.contains("stdin") && err.contains("UTF-8"), "{err}");
    assert!(env.stored_token().is_none());
    assert_eq!(credits_reads(&env), 0, "nothing sent");
}

/// Right after a free 7-day token is issued it expires "in 7 days": the
/// distance is rounded, not cut down to 6 days and 23 hours.
#[test]
fn a_fresh_seven_day_token_expires_in_seven_days() {
    let env = Env::new();
    env.login();
    let out = env
        .nemo()
        .args(["auth", "status", "--offline"])
        .assert()
        .success();
    let text = stdout(&out);
    assert!(text.contains("(in 7 days)"), "{text}");
}
