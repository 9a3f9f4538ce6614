//! Row: render-status answers that cannot be read count against the
//! 2-minute poll tolerance like network errors (issue 19 #9).

use std::time::{Duration, Instant};

use super::{Setup, respond};
use crate::common::stderr;
use crate::raw_server::RawServer;

/// Status answers that cannot be read (a byte that is not UTF-8) count
/// against the poll tolerance: exit 9 with the resume hint, not "still
/// waiting" until the timeout.
#[test]
fn unreadable_status_answers_end_within_the_poll_tolerance() {
    let setup = Setup::new();
    let server = RawServer::start(|_, socket| {
        respond(
            socket,
            "200 OK",
            "Content-Type: application/json\r\n",
            b"{\"id\":\"render_1\",\"status\":\"processing\xff\",\"progress\":5}",
        )
    });
    let started = Instant::now();
    let out = setup
        .against(
            &server,
            &[
                "export",
                "resume",
                "render_1",
                "-o",
                "out.mp4",
                "--poll-interval",
                "0.2",
                "--timeout",
                "25",
            ],
        )
        .env("NEMO_POLL_NETWORK_TOLERANCE", "1")
        .assert()
        .code(9);
    assert!(started.elapsed() < Duration::from_secs(15));
    let err = stderr(&out);
    assert!(err.contains("nemo export resume render_1"), "{err}");
}
