//! `nemo credits`: balance, `--min` gate, and 2001.

use crate::common::{Env, WEB_URL, json, stderr, stdout};

#[test]
fn human_and_json_balance() {
    let env = Env::new();
    let out = env.nemo().arg("credits").assert().success();
    assert_eq!(stdout(&out), "available 100\nfrozen 0\ntotal 100\n");
    let doc = json(&env.nemo().args(["credits", "--json"]).assert().success());
    assert_eq!(
        doc,
        serde_json::json!({"available": 100, "frozen": 0, "total": 100})
    );
}

#[test]
fn min_gate_exits_4_below_and_0_at_or_above() {
    let env = Env::new();
    env.nemo()
        .args(["credits", "--min", "100"])
        .assert()
        .success();
    let out = env
        .nemo()
        .args(["credits", "--min", "101"])
        .assert()
        .code(4);
    assert_eq!(
        stderr(&out),
        "error: only 100 credits available, 101 required\n"
    );
    let doc = json(
        &env.nemo()
            .args(["credits", "--min", "500", "--json"])
            .assert()
            .code(4),
    );
    assert_eq!(doc["error"]["kind"], "credits");
    assert_eq!(doc["error"]["exit_code"], 4);
    assert!(doc["error"]["api_code"].is_null());
}

#[test]
fn no_credits_2001_links_anonymous_users_to_registration() {
    let env = Env::new();
    env.login();
    let user = env.config()["token"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    env.emu.with_state(|s| s.faults.no_credits = true);
    let out = env
        .nemo()
        .args(["session", "new", "--json"])
        .assert()
        .code(4);
    let doc = json(&out);
    assert_eq!(doc["error"]["api_code"], 2001);
    assert_eq!(doc["error"]["kind"], "credits");
    let err = stderr(&out);
    assert!(err.contains(&format!("{WEB_URL}/?bind={user}")), "{err}");
    assert_eq!(
        err,
        format!(
            "error: no credits left\nhint: register to get more credits: {WEB_URL}/?bind={user}\n"
        )
    );
}

#[test]
fn no_credits_2001_tells_registered_users_to_top_up() {
    let env = Env::new();
    let token = "nmv_usr_registered_broke";
    env.emu.with_state(|s| {
        s.add_registered_user(token, 0);
        s.faults.no_credits = true;
    });
    let out = env
        .nemo()
        .env("NEMO_TOKEN", token)
        .args(["session", "new"])
        .assert()
        .code(4);
    let err = stderr(&out);
    assert!(err.contains("top up credits"), "{err}");
    assert!(!err.contains("bind="));
    assert_eq!(
        err,
        format!("error: no credits left\nhint: top up credits in your account at {WEB_URL}/\n")
    );
}

#[test]
fn server_errors_are_retried_for_reads() {
    let env = Env::new();
    env.login();
    let before = env.requests_to("/api/credits/balance/simple").len();
    env.emu.with_state(|s| s.faults.server_error_next = 2);
    env.nemo().arg("credits").assert().success();
    assert_eq!(
        env.requests_to("/api/credits/balance/simple").len() - before,
        3
    );
}

#[test]
fn server_errors_after_three_tries_exit_9_without_html() {
    let env = Env::new();
    env.login();
    let before = env.requests_to("/api/credits/balance/simple").len();
    env.emu.with_state(|s| s.faults.server_error_next = 3);
    let out = env.nemo().args(["credits", "--json"]).assert().code(9);
    let err = stderr(&out);
    assert!(err.contains("HTTP 502"), "{err}");
    assert!(!err.contains("<html"), "{err}");
    assert_eq!(
        err,
        "error: the server failed (HTTP 502 Bad Gateway)\n\
         hint: check your connection, or try again in a moment\n"
    );
    assert_eq!(json(&out)["error"]["kind"], "network");
    assert_eq!(
        env.requests_to("/api/credits/balance/simple").len() - before,
        3
    );
}

#[test]
fn unreachable_api_exits_9() {
    let env = Env::new();
    // A port nothing listens on: bind one, learn it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = env
        .nemo()
        .env("NEMO_API_URL", format!("http://127.0.0.1:{port}"))
        .env("NEMO_TOKEN", "nmv_usr_x")
        .arg("credits")
        .assert()
        .code(9);
    assert!(stderr(&out).contains("cannot connect to 127.0.0.1"));
}

/// `--min -5` is refused for what it is (was: "unexpected argument '-5'"),
/// before anything is sent.
#[test]
fn a_negative_minimum_gets_a_clear_error() {
    let env = Env::new();
    let out = env.nemo().args(["credits", "--min", "-5"]).assert().code(2);
    assert!(
        stderr(&out).starts_with(
            "error: invalid value '-5' for '--min <N>': a minimum of credits cannot be negative\n"
        ),
        "{}",
        stderr(&out)
    );
    let out = env
        .nemo()
        .args(["credits", "--min=-5", "--json"])
        .assert()
        .code(2);
    assert_eq!(json(&out)["error"]["kind"], "usage");
    assert!(env.requests().is_empty());
}
