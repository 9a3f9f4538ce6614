//! The transport against a raw loopback server that answers exactly the
//! bytes given: what a well-behaved HTTP stack would not send.

use std::cell::Cell;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::{Attribution, http_client};

/// Serves `answer` to every connection; returns its URL.
async fn serve(answer: &'static [u8]) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/x.mp4", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    url
}

fn client() -> ApiClient {
    let attribution = Attribution {
        source: "t".into(),
        version: "1".into(),
        platform: "linux".into(),
    };
    ApiClient::new(
        http_client().unwrap(),
        Url::parse("http://127.0.0.1:9/").unwrap(),
        attribution,
        Duration::ZERO,
        None,
    )
}

#[derive(Default)]
struct Quiet {
    advanced: Cell<u64>,
}

impl Progress for Quiet {
    fn start(&self, _: Option<u64>, _: u64) {}
    fn advanced(&self, bytes: u64) {
        self.advanced.set(self.advanced.get() + bytes);
    }
    fn stop(&self) {}
    fn note(&self, _: Level, _: &str) {}
}

async fn fetch(answer: &'static [u8], expected: Option<u64>) -> (Result<Downloaded>, u64) {
    let url = serve(answer).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.mp4.part");
    let api = client();
    let progress = Quiet::default();
    let result = get(&api, &progress, url, expected, &file).await;
    (result, progress.advanced.get())
}

#[tokio::test]
async fn a_whole_file_is_complete() {
    let (result, advanced) = fetch(
        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 4\r\n\r\nabcd",
        Some(4),
    )
    .await;
    let done = result.unwrap();
    assert_eq!((done.bytes, done.announced, advanced), (4, Some(4), 4));
}

#[tokio::test]
async fn an_html_page_with_200_is_not_the_file() {
    let (result, _) = fetch(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 13\r\n\r\n<html></html>",
        None,
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.is(Kind::BadAnswer), "{err}");
    assert_eq!(
        err.to_string(),
        "the download server answered a web page instead of the file"
    );
}

#[tokio::test]
async fn an_empty_body_is_not_a_file() {
    for answer in [
        &b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 0\r\n\r\n"[..],
        &b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n"[..],
    ] {
        let (result, _) = fetch(answer, None).await;
        let err = result.unwrap_err();
        assert_eq!(err.to_string(), "the download server sent an empty file");
    }
}

/// Completeness is the transfer's framing: 4 bytes announced and sent are
/// a complete transfer even where the render is said to be 10 (`sources`
/// then asks the other source for a second opinion).
#[tokio::test]
async fn a_complete_transfer_is_complete_whatever_the_render_size() {
    let (result, advanced) = fetch(
        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 4\r\n\r\nabcd",
        Some(10),
    )
    .await;
    let done = result.unwrap();
    assert_eq!((done.bytes, done.announced, advanced), (4, Some(4), 4));
}

#[tokio::test]
async fn a_body_longer_than_the_render_size_is_stopped() {
    // No length announced (read to close): the render's size bounds it.
    let (result, advanced) = fetch(
        b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\nabcdefghijklmnop",
        Some(4),
    )
    .await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("where it announced 4"), "{err}");
    assert!(advanced <= 16);
}

#[tokio::test]
async fn an_endless_body_of_no_announced_size_is_capped() {
    // Serves the head, then bytes until the client goes away.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/x.mp4", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head =
                    b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n\r\n";
                if socket.write_all(head).await.is_err() {
                    return;
                }
                let piece = vec![b'x'; 64 * 1024];
                // At most 64 MiB, so the test ends even if nothing stops it.
                for _ in 0..1024 {
                    if socket.write_all(&piece).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.mp4.part");
    let api = client();
    let progress = Quiet::default();
    let result = get_capped(&api, &progress, url, None, &file, 1 << 20).await;
    let err = result.unwrap_err();
    assert!(err.is(Kind::TooLarge), "{err}");
    assert!(
        err.to_string().contains("without announcing a size"),
        "{err}"
    );
    let written = std::fs::metadata(&file).unwrap().len();
    assert!(written <= (1 << 20) + 64 * 1024, "{written}");
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_part_file_is_never_written_through() {
    let url =
        serve(b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: 4\r\n\r\nabcd").await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    let file = dir.path().join("x.mp4.part");
    std::os::unix::fs::symlink(&victim, &file).unwrap();
    let api = client();
    let result = get(&api, &Quiet::default(), url, Some(4), &file).await;
    let err = result.unwrap_err();
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
}
