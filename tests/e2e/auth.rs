//! `nemo auth`: anonymous login, `--with-token`, status, token, logout, and
//! token renewal after 1001.

use serde_json::Value;

use crate::common::{Env, json, stderr, stdout};

#[test]
fn login_stores_an_anonymous_token_and_reuses_the_client_id() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["auth", "login", "--json"])
        .assert()
        .success();
    let doc = json(&out);
    assert_eq!(doc["anonymous"], true);
    assert_eq!(doc["credits"], 100);
    assert!(doc["user_id"].as_str().unwrap().starts_with("anon_"));
    assert!(doc["expires_at"].as_str().is_some());
    assert!(stderr(&out).contains("Connecting…"));

    let client_id = std::fs::read_to_string(env.config_dir().join("client_id")).unwrap();
    assert!(uuid::Uuid::parse_str(client_id.trim()).is_ok());
    let sent = env.requests_to("/api/auth/anonymous-token");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-client-id"), Some(client_id.trim()));
    assert_eq!(
        sent[0].header("authorization"),
        None,
        "no bearer on the anonymous-token call"
    );

    // Logging out and in again keeps the same client id.
    env.nemo().args(["auth", "logout"]).assert().success();
    env.emu.with_state(|s| s.expire_all_tokens());
    env.nemo().args(["auth", "login"]).assert().success();
    let sent = env.requests_to("/api/auth/anonymous-token");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].header("x-client-id"), Some(client_id.trim()));
}

#[test]
fn login_when_logged_in_keeps_the_token() {
    let env = Env::new();
    let token = env.login();
    let out = env.nemo().args(["auth", "login"]).assert().success();
    let user = env.config()["token"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stderr(&out),
        format!(
            "Already logged in with a free token; `nemo auth logout` first to replace it\n\
             Logged in as {user} (100 credits)\n"
        )
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(env.stored_token().unwrap(), token);
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 1);
}

#[test]
fn nemo_client_id_env_wins_over_the_file() {
    let env = Env::new();
    let id = "0b9a7a4e-5a8e-4d55-9f34-2c1f5d7e8a90";
    env.nemo()
        .env("NEMO_CLIENT_ID", id)
        .args(["auth", "login"])
        .assert()
        .success();
    assert_eq!(
        env.requests_to("/api/auth/anonymous-token")[0].header("x-client-id"),
        Some(id)
    );
    assert!(!env.config_dir().join("client_id").exists());
}

#[test]
fn http_400_makes_a_new_client_id_and_retries_once() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let old = "11111111-1111-4111-8111-111111111111";
    std::fs::write(env.config_dir().join("client_id"), format!("{old}\n")).unwrap();
    // The first answer is 400; the emulator then takes the next id.
    env.emu.with_state(|s| s.faults.reject_client_id = true);
    let out = env.nemo().args(["auth", "login"]).assert().code(3);
    assert!(stderr(&out).contains("refused the client id"));
    assert_eq!(
        env.requests_to("/api/auth/anonymous-token").len(),
        2,
        "one retry, no more"
    );
    let new = std::fs::read_to_string(env.config_dir().join("client_id")).unwrap();
    assert_ne!(new.trim(), old, "a new client id was made");

    env.emu.with_state(|s| s.faults.reject_client_id = false);
    env.nemo().args(["auth", "login"]).assert().success();
    let sent = env.requests_to("/api/auth/anonymous-token");
    assert_eq!(sent.last().unwrap().header("x-client-id"), Some(new.trim()));
}

#[test]
fn rate_limited_login_waits_once_then_exits_6() {
    let env = Env::new();
    env.emu.with_state(|s| {
        s.faults.rate_limit_next = 2;
        s.faults.retry_after = Some(0);
    });
    let out = env
        .nemo()
        .args(["auth", "login", "--json"])
        .assert()
        .code(6);
    assert_eq!(json(&out)["error"]["kind"], "rate_limit");
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 2);
    assert!(env.stored_token().is_none());
}

#[test]
fn rate_limit_honours_nemo_rate_limit_wait_and_succeeds_on_retry() {
    let env = Env::new();
    env.emu.with_state(|s| s.faults.rate_limit_next = 1);
    let started = std::time::Instant::now();
    env.nemo()
        .env("NEMO_RATE_LIMIT_WAIT", "0.3")
        .args(["auth", "login"])
        .assert()
        .success();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 2);
}

#[test]
fn second_token_for_a_client_id_is_refused_with_a_hint() {
    let env = Env::new();
    env.login();
    env.nemo().args(["auth", "logout"]).assert().success();
    let out = env
        .nemo()
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .args(["auth", "login"])
        .assert()
        .code(6);
    let err = stderr(&out);
    assert!(err.contains("one free token per client id"), "{err}");
    assert!(err.contains("--with-token"), "{err}");
}

#[test]
fn with_token_verifies_then_stores_a_registered_token() {
    let env = Env::new();
    let token = "nmv_usr_registered_0123456789";
    env.emu.with_state(|s| s.add_registered_user(token, 25_000));
    let out = env
        .nemo()
        .args(["auth", "login", "--with-token", "--json"])
        .write_stdin(format!("{token}\n"))
        .assert()
        .success();
    let doc = json(&out);
    assert_eq!(doc["anonymous"], false);
    assert_eq!(doc["credits"], 25_000);
    assert_eq!(env.stored_token().as_deref(), Some(token));
    assert_eq!(env.config()["token"]["anonymous"], false);
    let checked = env.requests_to("/api/credits/balance/simple");
    assert_eq!(
        checked[0].header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(env.requests_to("/api/auth/anonymous-token").is_empty());
}

#[test]
fn with_token_rejected_stores_nothing() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["auth", "login", "--with-token"])
        .write_stdin("nmv_usr_wrong\n")
        .assert()
        .code(3);
    assert_eq!(
        stderr(&out),
        "error: the server rejected that token; nothing was stored\n\
         hint: check that you copied the whole token\n"
    );
    assert!(!stderr(&out).contains("nmv_usr_wrong"));
    assert_eq!(env.config(), Value::Null);
}

#[test]
fn with_token_empty_stdin_is_a_usage_error() {
    let env = Env::new();
    env.nemo()
        .args(["auth", "login", "--with-token"])
        .write_stdin("\n")
        .assert()
        .code(2);
}

#[test]
fn status_reports_logged_out_with_exit_3() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["auth", "status", "--json"])
        .assert()
        .code(3);
    let doc = json(&out);
    assert_eq!(doc["logged_in"], false);
    for key in ["source", "anonymous", "user_id", "expires_at", "client_id"] {
        assert!(doc[key].is_null(), "{key} should be null");
    }
    env.nemo()
        .args(["auth", "status"])
        .assert()
        .code(3)
        .stdout("")
        .stderr("error: not logged in\nhint: run `nemo auth login`, or set NEMO_TOKEN\n");
}

#[test]
fn status_shows_a_masked_token_source_and_expiry() {
    let env = Env::new();
    let token = env.login();
    let out = env.nemo().args(["auth", "status"]).assert().success();
    let text = stdout(&out);
    assert!(text.contains("nmv_…****"), "{text}");
    assert!(text.contains("anonymous"));
    assert!(text.contains("expires:"));
    assert!(text.contains("client id:"));
    assert!(!text.contains(&token));

    let doc = json(
        &env.nemo()
            .args(["auth", "status", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["logged_in"], true);
    assert_eq!(doc["source"], "config");
    assert_eq!(doc["anonymous"], true);
    assert!(doc["client_id"].is_string());
}

#[test]
fn status_with_nemo_token_says_env() {
    let env = Env::new();
    // The status checks the token with the server: one it knows.
    env.emu
        .with_state(|s| s.add_registered_user("nmv_usr_from_env_123", 10));
    let doc = json(
        &env.nemo()
            .env("NEMO_TOKEN", "nmv_usr_from_env_123")
            .args(["auth", "status", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["source"], "env");
    assert_eq!(doc["logged_in"], true);
}

#[test]
fn token_prints_the_token_and_logout_forgets_it() {
    let env = Env::new();
    let token = env.login();
    let client_id = std::fs::read_to_string(env.config_dir().join("client_id")).unwrap();
    env.nemo()
        .args(["auth", "token"])
        .assert()
        .success()
        .stdout(format!("{token}\n"));
    // --json: the contract's `{"token"}`, and --jq picks it out.
    let out = env
        .nemo()
        .args(["auth", "token", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out), serde_json::json!({ "token": token }));
    env.nemo()
        .args(["auth", "token", "--jq", ".token"])
        .assert()
        .success()
        .stdout(format!("{token}\n"));
    env.nemo().args(["auth", "logout"]).assert().success();
    assert!(env.stored_token().is_none());
    assert_eq!(
        std::fs::read_to_string(env.config_dir().join("client_id")).unwrap(),
        client_id
    );
    env.nemo()
        .args(["auth", "token"])
        .assert()
        .code(3)
        .stdout("");
    let out = env
        .nemo()
        .args(["auth", "token", "--json"])
        .assert()
        .code(3);
    assert_eq!(json(&out)["error"]["kind"], "auth");
}

#[test]
fn first_use_gets_a_token_automatically() {
    let env = Env::new();
    let out = env.nemo().args(["credits"]).assert().success();
    assert_eq!(stderr(&out), "Connecting…\n");
    assert!(env.stored_token().is_some());
    // -q hides the status line.
    let env = Env::new();
    let out = env.nemo().args(["-q", "credits"]).assert().success();
    assert_eq!(stderr(&out), "");
}

#[test]
fn expired_stored_token_is_renewed_with_the_same_client_id() {
    let env = Env::new();
    let old = env.login();
    let before = env.requests_to("/api/credits/balance/simple").len();
    env.emu.with_state(|s| s.expire_all_tokens());
    env.nemo().args(["credits"]).assert().success();
    let new = env.stored_token().unwrap();
    assert_ne!(old, new);
    let issued = env.requests_to("/api/auth/anonymous-token");
    assert_eq!(issued.len(), 2);
    assert_eq!(
        issued[0].header("x-client-id"),
        issued[1].header("x-client-id")
    );
    // The failed call was tried once more with the new token.
    let calls = env.requests_to("/api/credits/balance/simple");
    assert_eq!(calls.len() - before, 2);
    assert_eq!(
        calls.last().unwrap().header("authorization"),
        Some(format!("Bearer {new}").as_str())
    );
}

#[test]
fn rejected_env_token_exits_3_without_renewing() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_TOKEN", "nmv_usr_not_valid_anymore")
        .args(["credits", "--json"])
        .assert()
        .code(3);
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "auth");
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("NEMO_TOKEN")
    );
    assert!(env.requests_to("/api/auth/anonymous-token").is_empty());
    assert!(!stderr(&out).contains("nmv_usr_not_valid_anymore"));
}

#[test]
fn rejected_registered_token_exits_3() {
    let env = Env::new();
    let token = "nmv_usr_registered_soon_revoked";
    env.emu.with_state(|s| s.add_registered_user(token, 10));
    env.nemo()
        .args(["auth", "login", "--with-token"])
        .write_stdin(token)
        .assert()
        .success();
    env.emu.with_state(|s| s.expire_all_tokens());
    let out = env.nemo().args(["credits"]).assert().code(3);
    assert!(stderr(&out).contains("--with-token"));
    assert!(env.requests_to("/api/auth/anonymous-token").is_empty());
}

#[test]
fn official_config_api_key_is_used_last() {
    let env = Env::new();
    let token = "nmv_usr_from_node_cli";
    env.emu.with_state(|s| s.add_registered_user(token, 7));
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let official = env.config_dir().join("config.json");
    std::fs::write(&official, format!(r#"{{"api_key":"{token}","other":1}}"#)).unwrap();
    let before = std::fs::read(&official).unwrap();
    let doc = json(&env.nemo().args(["credits", "--json"]).assert().success());
    assert_eq!(doc["available"], 7);
    assert_eq!(
        std::fs::read(&official).unwrap(),
        before,
        "config.json is never written"
    );
    assert!(env.requests_to("/api/auth/anonymous-token").is_empty());
}

/// The official skill writes `client-<unix s>-<n>` when it has no uuidgen:
/// nemo uses that id exactly as it is (the user's free token is tied to it)
/// and never replaces the file.
#[test]
fn a_client_id_written_by_the_skill_is_used_as_it_is() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let skill_id = "client-1763798400-4821";
    std::fs::write(env.config_dir().join("client_id"), format!("{skill_id}\n")).unwrap();
    env.nemo().args(["auth", "login"]).assert().success();
    let sent = env.requests_to("/api/auth/anonymous-token");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].header("x-client-id"), Some(skill_id));
    assert_eq!(
        std::fs::read_to_string(env.config_dir().join("client_id")).unwrap(),
        format!("{skill_id}\n")
    );
    let out = env
        .nemo()
        .args(["auth", "status", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out)["client_id"], skill_id);
}

/// An id that cannot be sent as a header is an error that names the file,
/// and its hint does not tell the user to throw the file (and the token
/// tied to it) away.
#[test]
fn a_client_id_that_cannot_be_sent_is_reported_not_replaced() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_dir().join("client_id"), "bad id\u{7}\n").unwrap();
    let out = env.nemo().args(["auth", "login"]).assert().code(1);
    let err = stderr(&out);
    assert!(
        err.contains("client_id does not hold a client id that can be sent"),
        "{err}"
    );
    assert!(!err.contains("remove"), "{err}");
    assert!(env.requests().is_empty());
    assert_eq!(
        std::fs::read_to_string(env.config_dir().join("client_id")).unwrap(),
        "bad id\u{7}\n"
    );
}

/// A free-token server that gives one token per client id a week and loses
/// the answer to the first request: it reads the request, records the
/// client id as served, and closes the connection without a word.
struct OneAWeek {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl OneAWeek {
    fn start() -> OneAWeek {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { continue };
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let (mut first, mut client) = (String::new(), String::new());
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("x-client-id")
                    {
                        client = value.trim().to_string();
                    }
                }
                let body = if first.starts_with("POST /api/auth/anonymous-token") {
                    let mut seen = log.lock().unwrap();
                    let served = seen.contains(&client);
                    seen.push(client.clone());
                    if seen.len() == 1 {
                        // Issued, and the answer lost on the way.
                        drop(socket);
                        continue;
                    }
                    if served {
                        let refused =
                            r#"{"code":429,"message":"One free token per client every 7 days"}"#;
                        let _ = write!(
                            socket,
                            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{refused}",
                            refused.len()
                        );
                        continue;
                    }
                    r#"{"code":0,"data":{"token":"nmv_usr_fresh","user_id":"anon_2","expires_at":"2099-01-01T00:00:00Z","credits":100}}"#
                } else {
                    r#"{"code":0,"data":{"available":100,"frozen":0,"total":100}}"#
                };
                let _ = write!(
                    socket,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        OneAWeek { url, seen }
    }
}

#[test]
fn a_lost_first_login_is_remembered_and_a_new_client_id_starts_over() {
    let env = Env::new();
    let server = OneAWeek::start();
    let login = |extra: &[&str]| {
        env.nemo()
            .env("NEMO_API_URL", &server.url)
            .env("NEMO_RATE_LIMIT_WAIT", "0")
            .args(["auth", "login"])
            .args(extra)
            .assert()
    };
    // The answer never arrives: a network failure, and nothing stored.
    login(&[]).code(9);
    assert_eq!(env.stored_token(), None);
    let first = std::fs::read_to_string(env.config_dir().join("client_id")).unwrap();

    // The server now refuses the id: the way forward is offered.
    let refused = login(&[]).code(6);
    let said = stderr(&refused);
    assert!(said.contains("nemo auth login --new-client-id"), "{said}");
    assert!(said.contains("got no answer"), "{said}");

    // It starts over with a fresh id, keeping the old one.
    let fresh = login(&["--new-client-id"]).success();
    assert!(
        stderr(&fresh).contains("New client id"),
        "{}",
        stderr(&fresh)
    );
    let old = std::fs::read_to_string(env.config_dir().join("client_id.old")).unwrap();
    assert_eq!(old, first);
    let new = std::fs::read_to_string(env.config_dir().join("client_id")).unwrap();
    assert_ne!(new.trim(), first.trim());
    assert_eq!(env.stored_token().as_deref(), Some("nmv_usr_fresh"));
    assert!(!env.config_dir().join("login.pending").exists());
    // The old id until --new-client-id (the 429 is tried once more, as
    // every 429 is), then the new one.
    let seen = server.seen.lock().unwrap().clone();
    let (last, before) = seen.split_last().unwrap();
    assert_eq!(last, new.trim());
    assert!(
        before.len() >= 2 && before.iter().all(|id| id == first.trim()),
        "{seen:?}"
    );
}

#[test]
fn a_plain_refusal_of_the_client_id_does_not_claim_a_lost_answer() {
    let env = Env::new();
    let server = OneAWeek::start();
    // Another tool of this machine spent the id's token: the server knows it.
    server
        .seen
        .lock()
        .unwrap()
        .extend(["elsewhere".to_string(), "given-id".to_string()]);
    let out = env
        .nemo()
        .env("NEMO_API_URL", &server.url)
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .env("NEMO_CLIENT_ID", "given-id")
        .args(["auth", "login"])
        .assert()
        .code(6);
    let said = stderr(&out);
    assert!(!said.contains("--new-client-id"), "{said}");
    assert!(said.contains("this one had its token"), "{said}");
    assert!(!env.config_dir().join("login.pending").exists());
    // NEMO_CLIENT_ID is the user's: --new-client-id cannot replace it.
    env.nemo()
        .env("NEMO_API_URL", &server.url)
        .env("NEMO_CLIENT_ID", "given-id")
        .args(["auth", "login", "--new-client-id"])
        .assert()
        .code(2);
}
