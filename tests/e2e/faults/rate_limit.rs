//! Rows: HTTP 429 without `Retry-After` and with seconds, a date, a huge
//! value and a negative one, and with every body shape — always exit 6,
//! whatever the body's code says (the HTTP status decides the kind), and
//! never waiting over five minutes (a far date is said, not waited for).

use super::{Setup, error_line, every_request, respond, seen};
use crate::raw_server::RawServer;

const BODIES: [(&str, &[u8]); 6] = [
    (
        "Content-Type: application/json\r\n",
        br#"{"code":429,"message":"Too many requests"}"#,
    ),
    (
        "Content-Type: application/json\r\n",
        br#"{"code":1001,"message":"slow down"}"#,
    ),
    (
        "Content-Type: application/json\r\n",
        br#"{"detail":"rate limited"}"#,
    ),
    (
        "Content-Type: text/html\r\n",
        b"<html><body>429 Too Many Requests</body></html>",
    ),
    ("", b""),
    ("Content-Type: application/json\r\n", b"[1,2,3]"),
];

fn always_429(retry_after: Option<&'static str>, kind: usize) -> RawServer {
    let (content_type, body) = BODIES[kind];
    every_request(move |socket| {
        let headers = match retry_after {
            Some(value) => format!("{content_type}Retry-After: {value}\r\n"),
            None => content_type.to_string(),
        };
        respond(socket, "429 Too Many Requests", &headers, body)
    })
}

/// The status decides, whatever the body: `{"code":429}` (the emulator's
/// own body) once exited 1 ("the server answered code 429") on every
/// command but `auth login`.
#[test]
fn http_429_with_every_body_shape_is_exit_6_after_one_retry() {
    let setup = Setup::new();
    for kind in 0..BODIES.len() {
        for (args, start) in [
            (&["credits"][..], "GET /api/credits/"),
            (&["session", "new"][..], "POST /api/tasks/"),
            (&["state"][..], "GET /api/state/"),
        ] {
            let server = always_429(None, kind);
            let out = setup.against(&server, args).assert().code(6);
            assert_eq!(
                error_line(&out),
                "error: the server is rate limiting requests (HTTP 429), still after one retry",
                "{args:?} body {kind}"
            );
            assert_eq!(seen(&server, start), 2, "{args:?}: one retry");
        }
    }
    setup.assert_config_intact();
}

#[test]
fn http_429_on_the_emulator_is_exit_6_on_every_command() {
    let setup = Setup::new();
    for args in [&["credits"][..], &["state"], &["session", "new"]] {
        setup.env.emu.with_state(|s| {
            s.faults.rate_limit_next = 2;
            s.faults.retry_after = Some(0);
        });
        let mut cmd = setup.env.nemo();
        let out = cmd.args(args).assert().code(6);
        assert_eq!(
            error_line(&out),
            "error: the server is rate limiting requests (HTTP 429), still after one retry"
        );
    }
    setup.assert_config_intact();
}

#[test]
fn retry_after_in_seconds_is_waited_for_once() {
    let setup = Setup::new();
    let server = always_429(Some("1"), 0);
    let started = std::time::Instant::now();
    setup.against(&server, &["credits"]).assert().code(6);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(seen(&server, "GET /api/credits/"), 2);
}

#[test]
fn retry_after_as_a_past_date_is_no_wait() {
    let setup = Setup::new();
    let server = always_429(Some("Sun, 06 Nov 1994 08:49:37 GMT"), 0);
    setup.against(&server, &["credits"]).assert().code(6);
    assert_eq!(seen(&server, "GET /api/credits/"), 2);
}

/// A date decades away was once waited for ("waiting 2300922537.7 s"):
/// over five minutes is exit 6 at once, saying when.
#[test]
fn retry_after_as_a_far_date_is_exit_6_at_once_saying_when() {
    let setup = Setup::new();
    let server = always_429(Some("Wed, 01 Jan 2099 00:00:00 GMT"), 0);
    let out = setup.against(&server, &["credits"]).assert().code(6);
    let line = error_line(&out);
    assert!(
        line.contains("asks to wait until 2099-01-01T00:00:00Z"),
        "{line}"
    );
    assert!(
        crate::common::stderr(&out).contains("hint: try again after 2099-01-01T00:00:00Z"),
        "{}",
        crate::common::stderr(&out)
    );
    assert_eq!(seen(&server, "GET /api/credits/"), 1, "not retried");
    setup.assert_config_intact();
}

#[test]
fn retry_after_huge_is_exit_6_at_once() {
    let setup = Setup::new();
    for value in ["86400", "99999999999999999999999"] {
        let server = always_429(Some(value), 0);
        let out = setup.against(&server, &["session", "new"]).assert().code(6);
        assert!(
            error_line(&out).contains("longer than nemo waits"),
            "{value}"
        );
        assert_eq!(seen(&server, "POST /api/tasks/"), 1, "{value}: not retried");
    }
    setup.assert_config_intact();
}

#[test]
fn retry_after_negative_or_garbage_gets_the_default_wait() {
    let setup = Setup::new();
    for value in ["-5", "soon"] {
        let server = always_429(Some(value), 0);
        // NEMO_RATE_LIMIT_WAIT=0 is the default here: one quick retry.
        setup.against(&server, &["credits"]).assert().code(6);
        assert_eq!(seen(&server, "GET /api/credits/"), 2, "{value}");
    }
}

/// A 429 on the very first login is not "this client id had its token"
/// unless the server says the limit is per client.
#[test]
fn http_429_on_a_first_login_does_not_blame_the_client_id() {
    let env = crate::common::Env::new();
    let server = always_429(None, 0);
    let out = env
        .nemo()
        .env("NEMO_API_URL", &server.url)
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .args(["auth", "login"])
        .assert()
        .code(6);
    assert_eq!(
        error_line(&out),
        "error: the server refused a free token for now (HTTP 429): Too many requests"
    );
    assert!(env.stored_token().is_none());
}
