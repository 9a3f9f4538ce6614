//! `nemo doctor`: what nemo will use and whether it works, as text and
//! JSON; exit 0 when all is well, else the first failing check's code.

use serde_json::Value;

use crate::common::{Env, json, stderr, stdout};

fn check<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {doc}"))
}

#[test]
fn a_fresh_setup_answers_and_changes_nothing() {
    let env = Env::new();
    let out = env.nemo().arg("doctor").assert().success();
    let text = stdout(&out);
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "nemo", "mode", "config", "token", "session", "api", "proxy", "tls"
        ],
        "{text}"
    );
    assert!(text.lines().all(|l| l.starts_with("✓ ")), "{text}");
    assert!(
        text.contains(&format!(
            "api        {}/ — answers (HTTP",
            env.emu.api_url.trim_end_matches('/')
        )),
        "{text}"
    );
    assert!(text.contains("token      none"), "{text}");
    assert_eq!(stderr(&out), "");
    // No token was made, no session, nothing written.
    assert_eq!(env.config(), Value::Null);
    assert!(
        env.requests().iter().all(|r| r.path == "/"),
        "{:?}",
        env.requests()
    );
}

#[test]
fn with_a_token_it_reads_the_balance_and_never_prints_the_token() {
    let env = Env::new();
    let token = env.login();
    let sid = env.session();
    let doc = json(&env.nemo().args(["doctor", "--json"]).assert().success());
    assert_eq!(doc["ok"], true);
    let api = check(&doc, "api");
    assert_eq!(api["ok"], true);
    assert_eq!(
        api["value"],
        format!("{}/", env.emu.api_url.trim_end_matches('/'))
    );
    assert!(
        api["detail"]
            .as_str()
            .unwrap()
            .contains("100 credits available"),
        "{doc}"
    );
    assert_eq!(check(&doc, "session")["value"], sid.as_str());
    assert!(
        check(&doc, "token")["value"]
            .as_str()
            .unwrap()
            .ends_with("(anonymous, from config)"),
        "{doc}"
    );
    assert_eq!(check(&doc, "mode")["value"], "the real service");
    let text = stdout(&env.nemo().arg("doctor").assert().success());
    assert!(!text.contains(&token) && !doc.to_string().contains(&token));
    assert!(text.contains(&format!("✓ session    {sid}")), "{text}");
}

#[test]
fn a_rejected_token_fails_with_exit_3() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_TOKEN", "nmv_not_a_token_anyone_issued")
        .args(["doctor", "--json"])
        .assert()
        .code(3);
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(check(&doc, "api")["exit_code"], 3);
    assert_eq!(
        check(&doc, "token")["value"],
        "nmv_…**** (registered, from env)"
    );
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert!(!stdout(&out).contains("nmv_not_a_token"));
}

#[test]
fn an_unreachable_api_fails_with_exit_9_with_or_without_a_token() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["--api-url", "http://127.0.0.1:9", "doctor"])
        .assert()
        .code(9);
    let text = stdout(&out);
    assert!(
        text.contains("✗ api        http://127.0.0.1:9/ — cannot connect"),
        "{text}"
    );
    assert!(
        stderr(&out).starts_with("error: cannot connect to 127.0.0.1:9"),
        "{}",
        stderr(&out)
    );
    env.login();
    let out = env
        .nemo()
        .args(["--api-url", "http://127.0.0.1:9", "doctor", "--json"])
        .assert()
        .code(9);
    let doc = json(&out);
    assert_eq!(doc["ok"], false);
    assert_eq!(check(&doc, "api")["exit_code"], 9);
}

#[test]
fn proxies_in_effect_are_shown_without_passwords() {
    let env = Env::new();
    let doc = json(
        &env.nemo()
            .env("HTTPS_PROXY", "http://me:secret@127.0.0.1:1")
            .args(["doctor", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(
        check(&doc, "proxy")["value"],
        "HTTPS_PROXY=http://me:****@127.0.0.1:1/ NO_PROXY=127.0.0.1,localhost"
    );
    assert!(!doc.to_string().contains("secret"));
}

#[test]
fn under_sandbox_it_says_so() {
    let env = Env::new();
    let doc = json(
        &env.nemo()
            .args(["--sandbox", "doctor", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(
        check(&doc, "mode")["value"],
        "sandbox (the built-in emulator, offline)"
    );
    assert!(
        check(&doc, "config")["value"]
            .as_str()
            .unwrap()
            .ends_with("sandbox"),
        "{doc}"
    );
}

/// Issue 20 #12: an SSL_CERT_FILE with no certificate in it got a green ✓
/// (it trusts nothing); now that check fails, with the others printed.
#[test]
fn an_ssl_cert_file_without_a_certificate_fails_its_check() {
    let env = Env::new();
    let empty = env.tmp.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write the file");
    let out = env
        .nemo()
        .env("SSL_CERT_FILE", &empty)
        .args(["doctor", "--json"])
        .assert()
        .code(2);
    let doc = json(&out);
    let tls = check(&doc, "tls roots");
    assert_eq!(tls["ok"], false, "{doc}");
    assert!(
        tls["detail"]
            .as_str()
            .unwrap_or("")
            .contains("no certificate"),
        "{doc}"
    );
    assert_eq!(check(&doc, "api")["ok"], true, "{doc}");
}

/// Issue 20 #12: a missing SSL_CERT_FILE made doctor print no checks at
/// all (rc 2) and blocked `--sandbox`, which speaks no TLS.
#[test]
fn a_missing_ssl_cert_file_is_one_failed_check_and_does_not_block_the_sandbox() {
    let env = Env::new();
    let missing = env.tmp.path().join("no-such.pem");
    let out = env
        .nemo()
        .env("SSL_CERT_FILE", &missing)
        .arg("doctor")
        .assert()
        .code(2);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 8, "every check printed: {text}");
    let tls = text.lines().find(|l| l.contains("tls roots")).unwrap_or("");
    assert!(
        tls.starts_with("✗ ") && tls.contains("no such file"),
        "{text}"
    );
    let out = env
        .nemo()
        .env("SSL_CERT_FILE", &missing)
        .args(["--sandbox", "credits", "--json"])
        .assert()
        .success();
    assert!(
        stdout(&out).starts_with("{\"available\":"),
        "{}",
        stdout(&out)
    );
}

/// Issue 20 #12: behind a proxy that refuses connections, doctor blamed the
/// API host, which it never reached.
#[test]
fn behind_a_refusing_proxy_it_blames_the_proxy() {
    let env = Env::new();
    let out = env
        .nemo()
        .env_remove("NO_PROXY")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .args(["doctor", "--json"])
        .assert()
        .code(9);
    let doc = json(&out);
    let detail = check(&doc, "api")["detail"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        detail.contains("proxy") && detail.contains("127.0.0.1:9") && detail.contains("HTTP_PROXY"),
        "{doc}"
    );
    let api_host = env
        .emu
        .api_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(
        !detail.contains(&format!("cannot connect to {api_host}")),
        "{doc}"
    );
    assert!(stderr(&out).contains("proxy"), "{}", stderr(&out));
}
