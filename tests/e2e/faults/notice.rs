//! Row: a wait after HTTP 429 of more than a second is said on stderr
//! without `-v` (issue 20 #18): up to five minutes of silence looked like
//! a hang.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Setup, every_request, respond};
use crate::common::{stderr, stdout};

#[test]
fn a_rate_limit_wait_over_a_second_is_said() {
    let setup = Setup::new();
    let answered = AtomicUsize::new(0);
    let server = every_request(move |socket| {
        if answered.fetch_add(1, Ordering::SeqCst) == 0 {
            respond(socket, "429 Too Many Requests", "", b"");
        } else {
            respond(
                socket,
                "200 OK",
                "Content-Type: application/json\r\n",
                br#"{"code":0,"data":{"available":5,"frozen":0,"total":5}}"#,
            );
        }
    });
    let out = setup
        .against(&server, &["credits"])
        .env("NEMO_RATE_LIMIT_WAIT", "1.2")
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 5\nfrozen 0\ntotal 5\n");
    let err = stderr(&out);
    assert!(
        err.contains("is rate limiting requests (HTTP 429); waiting 2 s before trying once more"),
        "{err}"
    );
    // --quiet hides it, as every status line.
    let server_quiet = every_request(|socket| respond(socket, "429 Too Many Requests", "", b""));
    let out = setup
        .against(&server_quiet, &["credits", "-q"])
        .env("NEMO_RATE_LIMIT_WAIT", "1.2")
        .assert()
        .code(6);
    assert!(!stderr(&out).contains("waiting"), "{}", stderr(&out));
}
