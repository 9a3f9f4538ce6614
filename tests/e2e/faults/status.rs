//! Rows: 5xx with an HTML page, JSON, FastAPI `{"detail"}` and an empty
//! body — a read is tried three times, then exit 9 naming the status and
//! never showing the body; a write is not tried again.

use super::{Setup, error_line, every_request, respond, seen};

fn server_error(content_type: &'static str, body: &'static [u8]) {
    let setup = Setup::new();
    let server =
        every_request(move |socket| respond(socket, "503 Service Unavailable", content_type, body));
    let out = setup.against(&server, &["credits"]).assert().code(9);
    assert_eq!(
        error_line(&out),
        "error: the server failed (HTTP 503 Service Unavailable)"
    );
    assert!(!crate::common::stderr(&out).contains("<html"));
    assert_eq!(
        seen(&server, "GET /api/credits/"),
        3,
        "a read, tried three times"
    );
    // A write is answered once: the server may have done it.
    let out = setup.against(&server, &["session", "new"]).assert().code(9);
    assert_eq!(
        error_line(&out),
        "error: the server failed (HTTP 503 Service Unavailable)"
    );
    assert_eq!(seen(&server, "POST /api/tasks/"), 1);
    setup.assert_config_intact();
}

#[test]
fn http_5xx_with_an_html_page() {
    server_error(
        "Content-Type: text/html\r\n",
        b"<html><body><h1>503 Service Unavailable</h1></body></html>",
    );
}

#[test]
fn http_5xx_with_json() {
    server_error(
        "Content-Type: application/json\r\n",
        br#"{"code":500,"message":"internal error"}"#,
    );
}

#[test]
fn http_5xx_with_a_detail() {
    server_error(
        "Content-Type: application/json\r\n",
        br#"{"detail":"upstream timed out"}"#,
    );
}

#[test]
fn http_5xx_with_an_empty_body() {
    server_error("", b"");
}

/// A redirect of the API (once an exit 1): the token must never follow
/// it, and it is the server's doing (exit 9).
#[test]
fn a_redirect_of_the_api_is_not_followed_with_the_token() {
    let setup = Setup::new();
    let server = every_request(|socket| {
        respond(
            socket,
            "302 Found",
            "Location: http://evil.example/steal\r\n",
            b"",
        )
    });
    let out = setup
        .against(&server, &["credits", "--json"])
        .assert()
        .code(9);
    let err = crate::common::stderr(&out);
    assert!(
        err.contains(
            "redirected to evil.example (HTTP 302); nemo does not follow a redirect with the token"
        ),
        "{err}"
    );
    let doc = crate::common::json(&out);
    assert_eq!(doc["error"]["kind"], "network");
    assert_eq!(seen(&server, "GET"), 1);
    setup.assert_config_intact();
}
