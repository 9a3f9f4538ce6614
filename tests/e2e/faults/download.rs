//! Rows of downloads that are not what they claim (issue 19, "Files that
//! are not what they claim"), end to end with `export resume` against a
//! raw server that is the API (render status, its download endpoint) and
//! the CDN at once: a file that changed between a cut and its resume, a
//! coded body, a complete transfer that disagrees with `output.size`, a
//! text body, a trickle, and `--timeout` over the download.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Setup, error_line, respond};
use crate::common::stderr;
use crate::raw_server::RawServer;

const SIZE: usize = 200_000;
const HALF: usize = SIZE / 2;
const CDN: &str = "GET /cdn/render_1.mp4";
const API_DOWNLOAD: &str = "GET /api/render/proxy/render_1/download";

/// A version of the file: a pattern that shows any misplaced byte.
fn version(len: usize, n: u8) -> Vec<u8> {
    (0..len).map(|i| ((i % 251) as u8) ^ n).collect()
}

/// A header's value in a head recorded by the raw server.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

type Answer = dyn Fn(&str, usize, &mut TcpStream) + Send + Sync;

/// The API and the CDN on one raw server: render_1 is completed, its
/// `output.url` on this server's `/cdn/`, its `output.size` `size`; `cdn`
/// and `api` answer their downloads, told the head and how many came
/// before.
fn render_server(
    size: Option<usize>,
    cdn: impl Fn(&str, usize, &mut TcpStream) + Send + Sync + 'static,
    api: impl Fn(&str, usize, &mut TcpStream) + Send + Sync + 'static,
) -> RawServer {
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let (cdn, api): (Box<Answer>, Box<Answer>) = (Box::new(cdn), Box::new(api));
    RawServer::start_with_heads(move |head, socket| {
        let line = head.lines().next().unwrap_or("");
        if line.starts_with("GET /api/render/proxy/lambda/render_1") {
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);
            let size = size.map(|s| format!(r#","size":{s}"#)).unwrap_or_default();
            let status = format!(
                r#"{{"id":"render_1","status":"completed","progress":100,"output":{{"url":"http://127.0.0.1:{port}/cdn/render_1.mp4"{size}}}}}"#
            );
            respond(
                socket,
                "200 OK",
                "Content-Type: application/json\r\n",
                status.as_bytes(),
            );
        } else if line.starts_with(CDN) {
            cdn(head, counts[0].fetch_add(1, Ordering::SeqCst), socket);
        } else if line.starts_with(API_DOWNLOAD) {
            api(head, counts[1].fetch_add(1, Ordering::SeqCst), socket);
        } else {
            respond(socket, "404 Not Found", "", b"");
        }
    })
}

fn video(socket: &mut TcpStream, extra: &str, body: &[u8]) {
    respond(
        socket,
        "200 OK",
        &format!("Content-Type: video/mp4\r\n{extra}"),
        body,
    );
}

/// Announces `full.len()` bytes and sends the first `sent`, then closes.
fn cut(socket: &mut TcpStream, extra: &str, full: &[u8], sent: usize) {
    let _ = write!(
        socket,
        "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        full.len()
    );
    let _ = socket.write_all(&full[..sent]);
    let _ = socket.flush();
}

fn partial(socket: &mut TcpStream, full: &[u8], from: usize) {
    let _ = write!(
        socket,
        "HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp4\r\nContent-Length: {}\r\nContent-Range: bytes {from}-{}/{}\r\nConnection: close\r\n\r\n",
        full.len() - from,
        full.len() - 1,
        full.len()
    );
    let _ = socket.write_all(&full[from..]);
}

fn no_api(_: &str, _: usize, socket: &mut TcpStream) {
    respond(socket, "404 Not Found", "", b"");
}

fn resume(setup: &Setup, server: &RawServer) -> assert_cmd::Command {
    setup.against(server, &["export", "resume", "render_1", "-o", "out.mp4"])
}

fn saved(setup: &Setup) -> Vec<u8> {
    std::fs::read(setup.env.tmp.path().join("out.mp4")).expect("out.mp4 saved")
}

fn cdn_heads(server: &RawServer) -> Vec<String> {
    server
        .heads()
        .into_iter()
        .filter(|h| h.starts_with(CDN))
        .collect()
}

/// Cut at half; on resume the CDN holds a new version of the same length
/// (a new ETag). With `If-Range` it sends the new file whole; a `Range`
/// without one would get the new version's tail, spliced onto the old head.
#[test]
fn a_resume_after_the_file_changed_starts_over_by_if_range() {
    let setup = Setup::new();
    let server = render_server(
        Some(SIZE),
        |head, nth, socket| {
            let (v1, v2) = (version(SIZE, 0), version(SIZE, 0x55));
            if nth == 0 {
                return cut(
                    socket,
                    "ETag: \"v1\"\r\nAccept-Ranges: bytes\r\n",
                    &v1,
                    HALF,
                );
            }
            match (header(head, "range"), header(head, "if-range")) {
                // The validator is not the current one: the whole new file.
                (_, Some(_)) | (None, _) => video(socket, "ETag: \"v2\"\r\n", &v2),
                (Some(_), None) => partial(socket, &v2, HALF),
            }
        },
        no_api,
    );
    let out = resume(&setup, &server).assert().success();
    assert_eq!(saved(&setup), version(SIZE, 0x55), "{}", stderr(&out));
    let heads = cdn_heads(&server);
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert_eq!(header(&heads[1], "if-range"), Some("\"v1\""), "{heads:?}");
    assert_eq!(header(&heads[1], "range"), Some("bytes=100000-"));
}

/// The same without a validator the server honours: the `Content-Range`
/// total of the resume is not the first answer's length, so the file
/// changed: nemo starts over from zero.
#[test]
fn a_resume_whose_total_changed_starts_over() {
    let setup = Setup::new();
    let server = render_server(
        None,
        |head, nth, socket| {
            let (v1, v2) = (version(SIZE, 0), version(SIZE + 1000, 0x55));
            if nth == 0 {
                return cut(
                    socket,
                    "Last-Modified: Mon, 07 Dec 2026 10:00:00 GMT\r\nAccept-Ranges: bytes\r\n",
                    &v1,
                    HALF,
                );
            }
            match header(head, "range") {
                Some(_) => partial(socket, &v2, HALF),
                None => video(socket, "Accept-Ranges: bytes\r\n", &v2),
            }
        },
        no_api,
    );
    let out = resume(&setup, &server).assert().success();
    assert_eq!(
        saved(&setup),
        version(SIZE + 1000, 0x55),
        "{}",
        stderr(&out)
    );
    let heads = cdn_heads(&server);
    assert_eq!(
        header(&heads[1], "if-range"),
        Some("Mon, 07 Dec 2026 10:00:00 GMT"),
        "{heads:?}"
    );
    assert_eq!(header(heads.last().unwrap(), "range"), None, "{heads:?}");
}

#[test]
fn a_gzip_coded_download_is_saved_decoded() {
    let setup = Setup::new();
    let server = render_server(
        Some(SIZE),
        |_, _, socket| {
            let coded = super::wire::gzip(&version(SIZE, 0));
            video(socket, "Content-Encoding: gzip\r\n", &coded)
        },
        no_api,
    );
    let out = resume(&setup, &server).assert().success();
    assert_eq!(saved(&setup), version(SIZE, 0), "{}", stderr(&out));
    let heads = cdn_heads(&server);
    assert_eq!(header(&heads[0], "accept-encoding"), Some("identity"));
}

#[test]
fn a_br_coded_download_is_refused_and_nothing_saved() {
    let setup = Setup::new();
    let br = |_: &str, _: usize, socket: &mut TcpStream| {
        video(socket, "Content-Encoding: br\r\n", b"\x0b\x02\x80abcd\x03")
    };
    let server = render_server(Some(4), br, br);
    let out = resume(&setup, &server).assert().code(9);
    let line = error_line(&out);
    assert!(line.contains("br"), "{line}");
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

#[test]
fn a_text_body_with_200_is_not_the_file() {
    let setup = Setup::new();
    let text = |_: &str, _: usize, socket: &mut TcpStream| {
        respond(
            socket,
            "200 OK",
            "Content-Type: text/plain\r\n",
            b"Access Denied",
        )
    };
    let server = render_server(None, text, text);
    resume(&setup, &server).assert().code(9);
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

/// A true 100 KB file against a stated 15 MiB: the API's download endpoint
/// is asked too, agrees with the CDN, and the file is saved with a warning
/// (the service's sizes may be approximate).
#[test]
fn a_complete_transfer_both_sources_agree_on_wins_over_output_size() {
    let setup = Setup::new();
    let file = |_: &str, _: usize, socket: &mut TcpStream| video(socket, "", &version(100_000, 3));
    let server = render_server(Some(15 << 20), file, file);
    let out = resume(&setup, &server).assert().success();
    assert_eq!(saved(&setup), version(100_000, 3));
    assert!(stderr(&out).contains("warning:"), "{}", stderr(&out));
    assert_eq!(super::seen(&server, API_DOWNLOAD), 1);
}

/// The CDN's complete transfer is short of `output.size`; the API's
/// download endpoint has the file at that size: its copy wins.
#[test]
fn the_source_that_matches_output_size_wins() {
    let setup = Setup::new();
    let server = render_server(
        Some(SIZE),
        |_, _, socket| video(socket, "", &version(SIZE - 1000, 9)),
        |_, _, socket| video(socket, "", &version(SIZE, 0)),
    );
    let out = resume(&setup, &server).assert().success();
    assert_eq!(saved(&setup), version(SIZE, 0), "{}", stderr(&out));
}

/// 1 byte every 20 ms, far under 1 KB/s: a stall (the 60 s window scaled
/// to 0.6 s), tried again, then exit 9 — never a download without end.
#[test]
fn a_trickling_download_is_a_stall() {
    let setup = Setup::new();
    let trickle = |_: &str, _: usize, socket: &mut TcpStream| {
        let _ = write!(
            socket,
            "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"
        );
        while socket.write_all(b"x").is_ok() {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let server = render_server(Some(100_000), trickle, trickle);
    let out = resume(&setup, &server)
        .env("NEMO_HTTP_TIME_SCALE", "0.01")
        .assert()
        .code(9);
    let line = error_line(&out);
    assert!(line.contains("slow"), "{line}");
    assert_eq!(super::seen(&server, CDN), 2, "tried once more");
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

/// `--timeout` bounds the whole command, the download included.
#[test]
fn the_timeout_bounds_the_download() {
    let setup = Setup::new();
    let slow = |_: &str, _: usize, socket: &mut TcpStream| {
        let _ = write!(
            socket,
            "HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n"
        );
        while socket.write_all(&[7u8; 200]).is_ok() {
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let server = render_server(Some(10_000_000), slow, slow);
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
                "--timeout",
                "2",
            ],
        )
        .assert()
        .code(8);
    assert!(started.elapsed() < Duration::from_secs(15));
    let err = stderr(&out);
    assert!(err.contains("nemo export resume render_1"), "{err}");
    assert!(!setup.env.tmp.path().join("out.mp4").exists());
}

/// The same across processes: the first run is stopped by `--timeout`
/// with half the file in `.part`; the CDN then holds a new version. The
/// resume in a new process sends the first run's ETag as `If-Range` (kept
/// in the `.part`'s sidecar) and gets the new file whole.
#[test]
fn a_resume_in_a_new_process_sends_the_first_runs_validator() {
    let setup = Setup::new();
    let server = render_server(
        Some(SIZE),
        |head, nth, socket| {
            let (v1, v2) = (version(SIZE, 0), version(SIZE, 0x55));
            if nth == 0 {
                cut(
                    socket,
                    "ETag: \"v1\"\r\nAccept-Ranges: bytes\r\n",
                    &v1,
                    HALF,
                );
                // Then nothing, until the client gives up on its --timeout.
                std::thread::sleep(Duration::from_secs(8));
                return;
            }
            let from = header(head, "range")
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok());
            match (from, header(head, "if-range")) {
                (Some(from), None) => partial(socket, &v2, from),
                _ => video(socket, "ETag: \"v2\"\r\n", &v2),
            }
        },
        no_api,
    );
    setup
        .against(
            &server,
            &[
                "export",
                "resume",
                "render_1",
                "-o",
                "out.mp4",
                "--timeout",
                "2",
            ],
        )
        .assert()
        .code(8);
    let part = setup.env.tmp.path().join("out.mp4.part");
    assert!(
        std::fs::metadata(&part).is_ok_and(|m| m.len() > 0),
        "the first run left its head in {}",
        part.display()
    );
    let out = resume(&setup, &server).assert().success();
    assert_eq!(saved(&setup), version(SIZE, 0x55), "{}", stderr(&out));
    let heads = cdn_heads(&server);
    assert_eq!(header(&heads[1], "if-range"), Some("\"v1\""), "{heads:?}");
}
