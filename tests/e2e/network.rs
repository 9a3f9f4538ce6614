//! Network conventions: `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` are followed
//! (a tiny proxy on loopback records what went through it), and
//! `SSL_CERT_FILE` adds roots to trust (a local TLS server whose
//! certificate is trusted through it alone).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::common::{Env, stderr, stdout};

/// A forwarding HTTP proxy on 127.0.0.1: it records each request line it
/// is sent (`GET http://127.0.0.1:PORT/… HTTP/1.1`) and passes the bytes
/// on to the host the line names, both ways, until either side closes.
struct Proxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || forward(client, &record));
            }
        });
        Proxy { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves one client connection: every request line is recorded; the first
/// one says where to connect.
fn forward(client: TcpStream, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone the client"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    seen.lock().unwrap().push(line.trim_end().to_string());
    if let Some(rest) = line.strip_prefix("CONNECT ") {
        tunnel(rest.split_whitespace().next().unwrap_or(""), reader, client);
        return;
    }
    // `GET http://host:port/path HTTP/1.1`
    let target = line
        .split_whitespace()
        .nth(1)
        .and_then(|url| url.strip_prefix("http://"))
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string);
    let Some(target) = target else { return };
    let Ok(mut upstream) = TcpStream::connect(&target) else {
        return;
    };
    if upstream.write_all(line.as_bytes()).is_err() {
        return;
    }
    let mut back = upstream.try_clone().expect("clone upstream");
    let mut to_client = client;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut back, &mut to_client);
        let _ = to_client.shutdown(std::net::Shutdown::Both);
    });
    // Later requests on the same connection: record their lines too.
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&buf);
                if text.contains(" HTTP/1.1\r\n") && text.contains("://") {
                    seen.lock().unwrap().push(text.trim_end().to_string());
                }
                if upstream.write_all(&buf).is_err() {
                    break;
                }
            }
        }
    }
    let _ = upstream.shutdown(std::net::Shutdown::Write);
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

/// `CONNECT host:port`: skip the headers, say yes, then pass bytes both ways.
fn tunnel(target: &str, mut reader: BufReader<TcpStream>, mut client: TcpStream) {
    let mut header = String::new();
    while reader.read_line(&mut header).unwrap_or(0) > 0 && header != "\r\n" {
        header.clear();
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let mut back = upstream.try_clone().expect("clone upstream");
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut back, &mut client);
    });
    let mut upstream = upstream;
    let _ = std::io::copy(&mut reader, &mut upstream);
    let _ = upstream.shutdown(std::net::Shutdown::Write);
}

#[test]
fn http_proxy_carries_the_requests_and_no_proxy_skips_it() {
    let env = Env::new();
    let proxy = Proxy::start();
    let out = env
        .nemo()
        .env_remove("NO_PROXY")
        .env("HTTP_PROXY", &proxy.url)
        .arg("credits")
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 100\nfrozen 0\ntotal 100\n");
    let base = env.emu.api_url.trim_end_matches('/').to_string();
    let seen = proxy.seen();
    assert!(
        seen.contains(&format!("GET {base}/api/credits/balance/simple HTTP/1.1")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with(&format!("POST {base}/"))),
        "the anonymous login went through it too: {seen:?}"
    );
    // The lower-case name works too.
    let before = proxy.seen().len();
    env.nemo()
        .env_remove("NO_PROXY")
        .env("http_proxy", &proxy.url)
        .arg("credits")
        .assert()
        .success();
    assert!(proxy.seen().len() > before);
    // NO_PROXY naming the host: straight to the server.
    let before = proxy.seen().len();
    env.nemo()
        .env("NO_PROXY", "127.0.0.1")
        .env("HTTP_PROXY", &proxy.url)
        .arg("credits")
        .assert()
        .success();
    assert_eq!(proxy.seen().len(), before, "{:?}", proxy.seen());
}

#[test]
fn a_proxy_that_does_not_answer_is_a_network_error() {
    let env = Env::new();
    let out = env
        .nemo()
        .env_remove("NO_PROXY")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NEMO_TOKEN", "nmv_test_token_for_the_proxy")
        .arg("credits")
        .assert()
        .code(9);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

/// A one-answer-per-connection HTTPS server on 127.0.0.1 with a fresh
/// self-signed certificate (for `127.0.0.1`), answering every request with
/// a balance of 7 credits. Returns its URL and the certificate as PEM.
fn tls_server() -> (String, String) {
    let (url, pem, _) = tls_server_for("127.0.0.1", false);
    (url, pem)
}

/// [`tls_server`] with a certificate for `name`, expired since 2020 when
/// `expired`; also counts the TCP connections it accepted.
fn tls_server_for(name: &str, expired: bool) -> (String, String, Arc<AtomicUsize>) {
    let key = rcgen::KeyPair::generate().expect("a key");
    let mut params =
        rcgen::CertificateParams::new(vec![name.to_string()]).expect("certificate parameters");
    if expired {
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
    }
    let cert = params.self_signed(&key).expect("a self-signed certificate");
    let pem = cert.pem();
    let chain = vec![cert.der().clone()];
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(chain, private)
    .expect("the server certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the TLS server");
    let url = format!("https://{}", listener.local_addr().expect("address"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut request = Vec::new();
                let mut byte = [0u8; 1];
                while !request.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => request.push(byte[0]),
                        _ => return,
                    }
                }
                let body =
                    r#"{"code":0,"message":"success","data":{"available":7,"frozen":0,"total":7}}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    (url, pem, connections)
}

#[test]
fn ssl_cert_file_is_trusted_and_without_it_the_certificate_is_refused() {
    let env = Env::new();
    let (url, pem) = tls_server();
    let cert = env.tmp.path().join("local-ca.pem");
    std::fs::write(&cert, pem).expect("write the certificate");
    let out = env
        .nemo()
        .env("NEMO_API_URL", &url)
        .env("NEMO_TOKEN", "nmv_test_token_for_tls")
        .env("SSL_CERT_FILE", &cert)
        .arg("credits")
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 7\nfrozen 0\ntotal 7\n");
    // Through an HTTPS_PROXY: a CONNECT tunnel, the certificate checked end to end.
    let proxy = Proxy::start();
    let out = env
        .nemo()
        .env_remove("NO_PROXY")
        .env("HTTPS_PROXY", &proxy.url)
        .env("NEMO_API_URL", &url)
        .env("NEMO_TOKEN", "nmv_test_token_for_tls")
        .env("SSL_CERT_FILE", &cert)
        .arg("credits")
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 7\nfrozen 0\ntotal 7\n");
    let host = url.trim_start_matches("https://");
    assert!(
        proxy
            .seen()
            .iter()
            .any(|l| l.starts_with(&format!("CONNECT {host} HTTP/1.1"))),
        "{:?}",
        proxy.seen()
    );
    // Without it the same server is refused: exit 9, one line that speaks
    // of the certificate, no Rust Debug text.
    let out = env
        .nemo()
        .env("NEMO_API_URL", &url)
        .env("NEMO_TOKEN", "nmv_test_token_for_tls")
        .arg("credits")
        .assert()
        .code(9);
    let err = stderr(&out);
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{err}");
    assert!(first.contains("certificate"), "{err}");
    assert!(
        !err.contains("{ ") && !err.contains("Error {") && !err.contains("kind:"),
        "{err}"
    );
    assert_eq!(stdout(&out), "");
}

/// A machine without CA certificates (a minimal container): plain http,
/// the sandbox's, needs none and works; https says what is missing. Before
/// nemo built its TLS client on the first https request, every command
/// failed there with "cannot set up HTTPS", even against the sandbox.
#[test]
fn plain_http_needs_no_ca_certificates_and_https_says_what_is_missing() {
    let env = Env::new();
    let no_certs = env.tmp.path().join("no-certs");
    std::fs::create_dir_all(&no_certs).expect("an empty certificate folder");
    let out = env
        .nemo()
        .env_remove("SSL_CERT_FILE")
        .env("SSL_CERT_DIR", &no_certs)
        .args(["credits", "--json"])
        .assert()
        .success();
    assert!(
        stdout(&out).starts_with("{\"available\":"),
        "{}",
        stdout(&out)
    );
    let (url, _pem) = tls_server();
    let out = env
        .nemo()
        .env_remove("SSL_CERT_FILE")
        .env("SSL_CERT_DIR", &no_certs)
        .env("NEMO_API_URL", &url)
        .env("NEMO_TOKEN", "nmv_test_token_for_tls")
        .arg("credits")
        .assert()
        .code(9);
    let err = stderr(&out);
    assert!(err.starts_with("error: cannot set up HTTPS"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("SSL_CERT_FILE"),
        "{err}"
    );
    assert_eq!(stdout(&out), "");
}

#[test]
fn an_ssl_cert_file_that_cannot_be_read_is_a_usage_error_naming_it() {
    let env = Env::new();
    let missing = env.tmp.path().join("no-such.pem");
    let out = env
        .nemo()
        .env("SSL_CERT_FILE", &missing)
        .arg("credits")
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "error: cannot read the certificates in SSL_CERT_FILE {}",
            missing.display()
        )),
        "{err}"
    );
    assert!(env.requests().is_empty());
}

/// A certificate that cannot be trusted: one try (nothing a retry could
/// change), exit 9 saying why in words, a hint naming `SSL_CERT_FILE`,
/// never a library's variant name (`UnknownIssuer`, `DnsName(…)`).
fn untrusted(name: &str, expired: bool, trust: bool, reason: &str) {
    let env = Env::new();
    let (url, pem, connections) = tls_server_for(name, expired);
    let cert = env.tmp.path().join("ca.pem");
    std::fs::write(&cert, pem).expect("write the certificate");
    let mut cmd = env.nemo();
    cmd.env("NEMO_API_URL", &url)
        .env("NEMO_TOKEN", "nmv_test_token_for_tls");
    if trust {
        cmd.env("SSL_CERT_FILE", &cert);
    }
    let out = cmd.arg("credits").assert().code(9);
    let err = stderr(&out);
    let mut lines = err.lines();
    let first = lines.next().unwrap_or("");
    assert!(first.starts_with("error: "), "{err}");
    assert!(first.contains(reason), "{err}");
    for raw in [
        "UnknownIssuer",
        "DnsName",
        "NotValidForName",
        "Expired",
        "invalid peer certificate",
    ] {
        assert!(!err.contains(raw), "{err}");
    }
    assert!(!first.contains("check your connection"), "{err}");
    assert!(
        lines.any(|l| l.starts_with("hint: ") && l.contains("SSL_CERT_FILE")),
        "{err}"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 1, "tried once: {err}");
}

#[test]
fn a_certificate_of_an_unknown_authority_is_said_in_words_and_not_retried() {
    untrusted(
        "127.0.0.1",
        false,
        false,
        "not signed by an authority this machine trusts",
    );
}

#[test]
fn a_certificate_for_another_name_is_said_in_words_and_not_retried() {
    untrusted("other.example", false, true, "issued for another host name");
}

#[test]
fn an_expired_certificate_is_said_in_words_and_not_retried() {
    untrusted("127.0.0.1", true, true, "has expired");
}
