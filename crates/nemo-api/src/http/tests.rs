//! The send loop against a raw loopback server: bodies cut or stalled after
//! the headers are tried again for reads (issue 9 #7), answers over the cap
//! are refused at once, and TLS failures are told in words.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;

use super::*;
use crate::{ApiClient, Attribution, http_client};

/// A loopback server whose `n`-th connection (from 0) gets `answer(n)`
/// written raw; returns its URL and the connection count.
fn server(answer: impl Fn(usize) -> Vec<Vec<u8>> + Send + 'static) -> (Url, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { continue };
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf);
            let pieces = answer(n);
            std::thread::spawn(move || {
                for piece in pieces {
                    if piece.is_empty() {
                        // An empty piece: stall for longer than the test's
                        // stall timeout.
                        std::thread::sleep(std::time::Duration::from_millis(1500));
                        continue;
                    }
                    if socket.write_all(&piece).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, count)
}

fn client(url: Url) -> ApiClient {
    ApiClient::new(
        http_client().unwrap(),
        url,
        Attribution {
            source: "test".into(),
            version: "0".into(),
            platform: "test".into(),
        },
        Duration::ZERO,
        None,
    )
    .with_stall_timeout(Duration::from_millis(300))
}

const HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\nConnection: close\r\n\r\n";
const GOOD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 44\r\nConnection: close\r\n\r\n{\"code\":0,\"data\":{\"available\":7,\"frozen\":0}}";

async fn credits(api: &ApiClient) -> Result<crate::credits::Balance> {
    api.call(Retry::Read, || api.request(Method::GET, "/c", false))
        .await
}

#[tokio::test]
async fn a_body_cut_after_the_headers_is_tried_again() {
    let (url, count) = server(|n| match n {
        // Headers, a piece of the body, then the connection closes.
        0 => vec![HEAD.to_vec(), b"{\"code\":0,".to_vec()],
        _ => vec![GOOD.to_vec()],
    });
    let api = client(url);
    let balance = credits(&api).await.unwrap();
    assert_eq!(balance.available, 7);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_body_that_stalls_is_given_up_and_tried_again() {
    let (url, count) = server(|n| match n {
        0 => vec![HEAD.to_vec(), b"{\"code\":0,".to_vec(), Vec::new()],
        _ => vec![GOOD.to_vec()],
    });
    let api = client(url);
    let balance = credits(&api).await.unwrap();
    assert_eq!(balance.available, 7);
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_body_that_always_stalls_is_a_network_error_after_three_tries() {
    let (url, count) = server(|_| vec![HEAD.to_vec(), b"{".to_vec(), Vec::new()]);
    let api = client(url);
    let err = credits(&api).await.unwrap_err();
    assert!(err.is(Kind::Network), "{err:?}");
    assert!(
        err.message().contains("stopped sending its answer midway"),
        "{err}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_write_whose_body_is_cut_is_not_sent_again() {
    let (url, count) = server(|_| vec![HEAD.to_vec(), b"{\"code\":0,".to_vec()]);
    let api = client(url);
    let err = api
        .call::<Value>(Retry::Write, || api.request(Method::POST, "/w", false))
        .await
        .unwrap_err();
    assert!(err.is(Kind::Network), "{err:?}");
    assert!(err.message().contains("broke midway"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_answer_over_16_mib_is_refused_once_without_reading_it_all() {
    // No Content-Length: the cap must hold while reading.
    let (url, count) = server(|_| {
        let mut pieces = vec![
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"code\":0,\"data\":\"".to_vec(),
        ];
        pieces.extend(std::iter::repeat_n(vec![b'a'; 1 << 20], 200));
        pieces
    });
    let api = client(url);
    let err = credits(&api).await.unwrap_err();
    assert!(err.is(Kind::TooLarge), "{err:?}");
    assert_eq!(err.exit_code(), 9);
    assert!(err.message().contains("over 16 MiB"), "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "not tried again");
}

#[tokio::test]
async fn a_content_length_over_the_cap_is_refused_before_reading() {
    let (url, count) = server(|_| {
        vec![b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 209715200\r\nConnection: close\r\n\r\n{".to_vec()]
    });
    let api = client(url);
    let err = credits(&api).await.unwrap_err();
    assert!(err.is(Kind::TooLarge), "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// Issue 9 #21: "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))"
/// was the whole message.
#[test]
fn tls_failures_are_told_in_words() {
    #[derive(Debug)]
    struct Webpki;
    impl std::fmt::Display for Webpki {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("CaUsedAsEndEntity")
        }
    }
    impl std::error::Error for Webpki {}
    let other = rustls::Error::InvalidCertificate(rustls::CertificateError::Other(
        rustls::OtherError(Arc::new(Webpki)),
    ));
    let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, other);
    assert_eq!(
        tls_reason(&wrapped),
        Some("the server's TLS certificate is not valid")
    );
    let unknown = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
    assert_eq!(
        tls_reason(&unknown),
        Some("the server's TLS certificate is not signed by an authority this machine trusts")
    );
    assert_eq!(tls_reason(&std::io::Error::other("reset")), None);
    // As reqwest hands it over: tokio-rustls's io::Error inside
    // hyper-util's (the mapping above was never reached through it).
    let nested = std::io::Error::other(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName),
    ));
    assert_eq!(
        tls_reason(&nested),
        Some("the server's TLS certificate was issued for another host name")
    );
}

/// Issue 9 #21: refusing to send the token to another host was exit 1 with
/// kind "io"; it is the server's doing (exit 9, "network").
#[test]
fn the_token_is_refused_to_another_host_as_a_network_error() {
    let api = client(Url::parse("https://api.nemo.test").unwrap());
    api.set_token(Some(crate::secret::Secret::new("nmv_usr_secret")));
    let err = api
        .request_to(
            Method::GET,
            Url::parse("https://evil.example/x").unwrap(),
            true,
        )
        .err()
        .unwrap();
    assert!(err.is(Kind::Network), "{err:?}");
    assert_eq!(err.exit_code(), 9);
    assert_eq!(
        err.message(),
        "refused to send the token to evil.example, which is not the API's address (api.nemo.test)"
    );
    // Same origin: fine.
    assert!(
        api.request_to(
            Method::GET,
            Url::parse("https://api.nemo.test/y").unwrap(),
            true
        )
        .is_ok()
    );
}
