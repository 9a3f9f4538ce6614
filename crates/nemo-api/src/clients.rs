//! The process's HTTP clients (reqwest, rustls with ring): one for plain
//! `http://`, which needs no root certificates, and one that verifies TLS,
//! built on the first `https://` request.
//!
//! Loading the system's roots reads and parses every file under
//! `/etc/ssl/certs` (about 300 on Debian): 7 of the 11 ms of a
//! `nemo credits` against the loopback sandbox (BENCHMARKS.md, "credits").
//! A command that never speaks TLS no longer pays for it; one that does
//! pays once, at its first https request, as curl does.
//!
//! `SSL_CERT_FILE` is read and checked at start ([`Clients::new`]), so a
//! bad file — unreadable, or holding no certificate — is a usage error
//! before anything is sent, whatever the scheme. Where no TLS may be
//! spoken at all (the in-process sandbox) or the file is what is being
//! checked (`nemo doctor`), [`Clients::deferring_roots`] keeps that error
//! for the first https request instead.

use std::sync::OnceLock;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Certificate, Url};

use super::{CONNECT_TIMEOUT, describe};
use crate::error::{Error, Result};

/// Proxies, read by the HTTP client (reqwest) itself.
pub const PROXIES: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];
/// Header fields an answer may have (RFC 9112 sets no limit; 256 is
/// generous for any CDN and still bounds memory).
const MAX_HEADERS: usize = 256;
/// A PEM file of extra root certificates to trust.
pub const SSL_CERT_FILE: &str = "SSL_CERT_FILE";

/// The clients, and the extra roots for the TLS one.
pub struct Clients {
    plain: reqwest::Client,
    tls: OnceLock<std::result::Result<reqwest::Client, String>>,
    extra_roots: Option<Vec<Certificate>>,
    /// Why `SSL_CERT_FILE` cannot be used, when that was deferred: said at
    /// the first https request.
    roots_problem: Option<String>,
    /// Never through a proxy: every request goes to an emulator on this
    /// machine, which a proxy from the environment cannot reach.
    direct: bool,
}

impl std::fmt::Debug for Clients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clients")
            .field("tls_built", &self.tls_built())
            .finish()
    }
}

impl Clients {
    /// The plain client now, the TLS one later; `SSL_CERT_FILE` checked now.
    pub fn new() -> Result<Clients> {
        let extra_roots = extra_roots().map_err(|problem| {
            Error::usage(problem)
                .with_hint("point SSL_CERT_FILE at a PEM file of CA certificates, or unset it")
        })?;
        Clients::build(extra_roots, None, false)
    }

    /// [`Clients::new`], but a bad `SSL_CERT_FILE` fails only the first
    /// https request, not the plain-http ones.
    pub fn deferring_roots() -> Result<Clients> {
        Clients::deferred(false)
    }

    /// [`Clients::deferring_roots`] that never go through a proxy: for an
    /// emulator on loopback (`--sandbox`, a running `nemo sandbox`), which
    /// `HTTP_PROXY` or `ALL_PROXY` could not reach.
    pub fn direct() -> Result<Clients> {
        Clients::deferred(true)
    }

    fn deferred(direct: bool) -> Result<Clients> {
        match extra_roots() {
            Ok(roots) => Clients::build(roots, None, direct),
            Err(problem) => Clients::build(None, Some(problem), direct),
        }
    }

    fn build(
        extra_roots: Option<Vec<Certificate>>,
        roots_problem: Option<String>,
        direct: bool,
    ) -> Result<Clients> {
        // reqwest is built with `rustls-no-provider`: install ring once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // No roots at all: it is only used where no TLS is spoken.
        let plain = builder(direct)
            .tls_certs_only(std::iter::empty())
            .build()
            .map_err(setup_error)?;
        Ok(Clients {
            plain,
            tls: OnceLock::new(),
            extra_roots,
            roots_problem,
            direct,
        })
    }

    /// The client for a request to `url`: the plain one for `http://` (when
    /// no proxy could need TLS), else the TLS one, built now if it was not.
    pub fn for_url(&self, url: &Url) -> Result<&reqwest::Client> {
        if url.scheme() == "http" && (self.direct || !tls_proxy()) {
            return Ok(&self.plain);
        }
        if let Some(problem) = &self.roots_problem {
            return Err(Error::usage(problem.clone())
                .with_hint("point SSL_CERT_FILE at a PEM file of CA certificates, or unset it"));
        }
        self.tls
            .get_or_init(|| {
                let mut builder = builder(self.direct);
                if let Some(certs) = &self.extra_roots {
                    builder = builder.tls_certs_merge(certs.iter().cloned());
                }
                builder.build().map_err(|e| describe(&e))
            })
            .as_ref()
            .map_err(|e| {
                Error::network(format!("cannot set up HTTPS: {e}")).with_hint(
                    "nemo checks HTTPS with the system's CA certificates: install them \
                     (the ca-certificates package), or point SSL_CERT_FILE at a PEM bundle",
                )
            })
    }

    /// Any client, to build a request with (the one that sends it is
    /// chosen by its URL, [`Clients::for_url`]).
    pub fn builder_client(&self) -> &reqwest::Client {
        &self.plain
    }

    /// Whether the TLS client (and the system's roots) was loaded.
    pub fn tls_built(&self) -> bool {
        self.tls.get().is_some()
    }
}

fn builder(direct: bool) -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    // A body is wanted as it is: a CDN that codes it anyway has it decoded
    // (gzip, deflate: reqwest's decoders run whatever was asked) or
    // refused (`http::refuse_coded`), never saved coded.
    headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let builder = if direct {
        reqwest::Client::builder().no_proxy()
    } else {
        reqwest::Client::builder()
    };
    builder
        .user_agent(concat!("nemo-cli/", env!("CARGO_PKG_VERSION")))
        .default_headers(headers)
        // RFC 9112 §5.2: a client replaces an obsolete line fold with a
        // space rather than failing the answer.
        .http1_allow_obsolete_multiline_headers_in_responses(true)
        // hyper's default of 100 fields failed legal answers as "message
        // head is too large"; proxies and CDNs add many.
        .http1_max_headers(MAX_HEADERS)
        .connect_timeout(CONNECT_TIMEOUT)
        // Redirects are followed by hand where they are expected, so that
        // the bearer token can never follow one to another host.
        .redirect(reqwest::redirect::Policy::none())
}

fn setup_error(e: reqwest::Error) -> Error {
    Error::network(format!("cannot set up HTTPS: {}", describe(&e))).with_source(e)
}

/// SSL_CERT_FILE: roots to trust besides the system's on every platform
/// (on Linux the system verifier also reads it, instead of its own). Why
/// it cannot be used, in a sentence naming it, when it cannot.
fn extra_roots() -> std::result::Result<Option<Vec<Certificate>>, String> {
    let Some(file) = std::env::var_os(SSL_CERT_FILE).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    let path = std::path::Path::new(&file);
    read_cert_file(path).map(Some).map_err(|e| {
        format!(
            "cannot read the certificates in SSL_CERT_FILE {}: {e}",
            path.display()
        )
    })
}

/// The certificates of a PEM file; a file that holds none is an error (it
/// would trust nothing, silently).
pub fn read_cert_file(path: &std::path::Path) -> std::result::Result<Vec<Certificate>, String> {
    let pem = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "there is no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "it cannot be read (permission denied)".into(),
        _ => format!("it cannot be read ({})", e.kind()),
    })?;
    let certs = Certificate::from_pem_bundle(&pem)
        .map_err(|_| "it is not a PEM file of certificates".to_string())?;
    if certs.is_empty() {
        return Err("it holds no certificate (no -----BEGIN CERTIFICATE----- block)".into());
    }
    Ok(certs)
}

/// Whether a proxy variable names an `https://` proxy: a plain-http
/// request through it still speaks TLS (to the proxy).
fn tls_proxy() -> bool {
    PROXIES.iter().any(|name| {
        std::env::var(name)
            .is_ok_and(|v| v.trim_start().to_ascii_lowercase().starts_with("https://"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_client_is_built_on_the_first_https_request_only() {
        let clients = Clients::new().expect("clients");
        let plain = Url::parse("http://127.0.0.1:9/x").unwrap();
        let tls = Url::parse("https://127.0.0.1:9/x").unwrap();
        if !tls_proxy() {
            clients.for_url(&plain).expect("plain");
            assert!(!clients.tls_built(), "plain http loaded the roots");
        }
        clients.for_url(&tls).expect("tls");
        assert!(clients.tls_built());
    }
}
