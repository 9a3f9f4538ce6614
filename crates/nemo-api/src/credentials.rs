//! Who the client is: the token every authenticated call carries, where it
//! came from, and the two things the API asks a client to do about it
//! (`api.md` "Errors"): get a free token on first use, and renew a rejected
//! free token once with the same client id. The client owns this, so a
//! caller writes `api.state(&sid).await?` and never handles a token.
//!
//! What is stored, and where, is the caller's: it hands the client a
//! [`Keyring`] (nemo's config store). The client only asks it for the token
//! in force, a lock held across processes while a free token is fetched,
//! the client id, and to keep what the server issued.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use crate::ApiClient;
use crate::auth::{AnonymousOutcome, AnonymousToken};
use crate::error::{Error, Kind, Result};
use crate::secret::Secret;

/// Where the token in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The environment (`NEMO_TOKEN`).
    Env,
    /// nemo's own stored token.
    Config,
    /// The official Node CLI's `config.json` `api_key`.
    OfficialConfig,
}

impl TokenSource {
    pub fn name(self) -> &'static str {
        match self {
            TokenSource::Env => "env",
            TokenSource::Config => "config",
            TokenSource::OfficialConfig => "config.json",
        }
    }
}

/// A token and what is known of it.
#[derive(Debug, Clone)]
pub struct Credential {
    pub token: Secret,
    pub source: TokenSource,
    pub anonymous: bool,
    pub user_id: Option<String>,
    pub expires_at: Option<String>,
}

impl Credential {
    /// Expired, or about to be (within a minute), by the stored expiry.
    pub fn is_expired(&self) -> bool {
        self.expires_at
            .as_deref()
            .and_then(crate::time::parse)
            .is_some_and(|at| at <= SystemTime::now() + Duration::from_secs(60))
    }

    /// A free token of nemo's own, which the client may replace by itself.
    fn renewable(&self) -> bool {
        self.source == TokenSource::Config && self.anonymous
    }
}

/// A boxed future, as the [`Keyring`]'s async method returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A guard: held, no other process fetches a free token.
pub type Guard = Box<dyn Send>;

/// Where credentials live (nemo's config store, with the environment's
/// overrides). Implemented by the caller; the client never prints, so the
/// two notes go back through it too.
pub trait Keyring: Send + Sync {
    /// The token in force, by the caller's precedence; no network.
    fn current(&self) -> Result<Option<Credential>>;
    /// Only the token stored by this client (another process may have just
    /// stored one while this one waited for the lock).
    fn stored(&self) -> Result<Option<Credential>>;
    /// The cross-process lock around getting a free token.
    fn lock(&self) -> BoxFuture<'_, Result<Guard>>;
    /// The client id (made on first need).
    fn client_id(&self) -> Result<String>;
    /// A fresh client id replacing the one the server refused, or `None`
    /// when the user fixed the id (it cannot be replaced).
    fn replace_client_id(&self) -> Result<Option<String>>;
    /// Writes ahead that a free token is being asked for `client_id` (an
    /// answer that never arrives may still have used the id's one token a
    /// week), or clears that note (`None`) once the answer is in.
    fn note_login(&self, client_id: Option<&str>) -> Result<()>;
    /// Whether a free-token request for `client_id` went unanswered.
    fn login_was_lost(&self, client_id: &str) -> bool;
    /// Keeps the free token the server issued for `client_id`.
    fn keep(&self, token: &AnonymousToken, client_id: &str) -> Result<Credential>;
    /// A status line for the user (`Connecting…`).
    fn status(&self, line: &str);
    /// A `-v` line.
    fn debug(&self, line: &str);
}

impl ApiClient {
    /// The credential every authenticated call uses: the one in force, or
    /// a new free one when there is none or the stored free one expired.
    pub async fn credential(&self) -> Result<Credential> {
        let Some(keyring) = self.keyring() else {
            let token = self.token().ok_or_else(Error::not_logged_in)?;
            return Ok(Credential {
                token,
                source: TokenSource::Env,
                anonymous: false,
                user_id: None,
                expires_at: None,
            });
        };
        if let Some(current) = keyring.current()?
            && !(current.renewable() && current.is_expired())
        {
            self.set_token(Some(current.token.clone()));
            return Ok(current);
        }
        let fresh = self.login_anonymous(None).await?;
        self.set_token(Some(fresh.token.clone()));
        Ok(fresh)
    }

    /// Gets and keeps a free token with the persisted client id, once across
    /// processes. `replacing`: the token just rejected, if any; a different
    /// usable token stored meanwhile by another process is taken instead.
    pub async fn login_anonymous(&self, replacing: Option<&Secret>) -> Result<Credential> {
        let keyring = self
            .keyring()
            .ok_or_else(|| Error::new(Kind::Auth, "no token, and no place to keep a free one"))?;
        let _guard = keyring.lock().await?;
        if let Some(stored) = keyring.stored()? {
            let rejected = replacing.is_some_and(|r| *r == stored.token);
            if !(rejected || stored.anonymous && stored.is_expired()) {
                return Ok(stored);
            }
        }
        keyring.status("Connecting…");
        let mut client_id = keyring.client_id()?;
        for attempt in 0..2 {
            // Read before this request is written ahead over it.
            let lost_before = keyring.login_was_lost(&client_id);
            keyring.note_login(Some(&client_id))?;
            let outcome = match self.anonymous_token(&client_id).await {
                Ok(outcome) => outcome,
                // Only a refusal of this client id: a new id does not
                // help against a limit per address.
                Err(err)
                    if err.is(Kind::RateLimited)
                        && lost_before
                        && crate::auth::refused_per_client_id(&err) =>
                {
                    return Err(err.with_hint(
                        "an earlier free-token request from this client id got no answer, and the server may have used its one token a week on it: start over with `nemo auth login --new-client-id`, or log in with a registered token (`nemo auth login --with-token`)",
                    ));
                }
                // Refused: this request was answered, and no earlier one
                // was lost; nothing to remember.
                Err(err) if err.is(Kind::RateLimited) => {
                    keyring.note_login(None)?;
                    return Err(err);
                }
                // Unanswered (or answered with a failure the server may
                // have acted on): the note stays, for the hint above.
                Err(err) => return Err(err),
            };
            match outcome {
                AnonymousOutcome::Issued(token) => {
                    let kept = keyring.keep(&token, &client_id)?;
                    keyring.note_login(None)?;
                    return Ok(kept);
                }
                AnonymousOutcome::BadClientId => {
                    keyring.note_login(None)?;
                    match keyring.replace_client_id()? {
                        Some(id) if attempt == 0 => {
                            keyring.debug(
                                "the server refused the client id (HTTP 400); making a new one",
                            );
                            client_id = id;
                        }
                        _ => break,
                    }
                }
            }
        }
        Err(
            Error::new(Kind::Auth, "the server refused the client id (HTTP 400)")
                .with_hint("check NEMO_CLIENT_ID: it must be a UUID"),
        )
    }

    /// Runs an authenticated call: a token first if needed; after the
    /// server rejected a free token of nemo's own (1001, 401, 1010/1011),
    /// renews it with the same client id and runs the call once more (the
    /// rejection came before any work, so nothing is done twice). A token
    /// the user gave stops with exit 3, saying which one.
    pub(crate) async fn signed_in<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        if self.keyring().is_none() {
            // A fixed token ([`ApiClient::with_token`]): its rejection is
            // the caller's to read, as the server said it.
            self.credential().await?;
            return call().await;
        }
        let current = self.credential().await?;
        match call().await {
            Err(err)
                if err.is(Kind::TokenRejected)
                    && current.renewable()
                    && self.keyring().is_some() =>
            {
                if let Some(keyring) = self.keyring() {
                    keyring.debug("the token was rejected; renewing it with the same client id");
                }
                let renewed = self.login_anonymous(Some(&current.token)).await?;
                self.set_token(Some(renewed.token.clone()));
                call().await.map_err(|err| rejected(err, &renewed))
            }
            result => result.map_err(|err| rejected(err, &current)),
        }
    }
}

/// A rejected token, said with whose it was.
fn rejected(err: Error, current: &Credential) -> Error {
    if !err.is(Kind::TokenRejected) {
        return err;
    }
    let (message, hint) = match current.source {
        TokenSource::Env => (
            "the token in NEMO_TOKEN was rejected (bad or expired)",
            "set a valid NEMO_TOKEN, or unset it to use nemo's own login",
        ),
        TokenSource::OfficialConfig => (
            "the api_key in config.json was rejected (bad or expired)",
            "log in with `nemo auth login --with-token`, or `nemo auth login` for a free token",
        ),
        TokenSource::Config if current.anonymous => (
            "the server rejected the free token even after renewing it",
            "run `nemo auth logout`, then `nemo auth login`",
        ),
        TokenSource::Config => (
            "the stored token was rejected (bad or expired)",
            "log in again with `nemo auth login --with-token`",
        ),
    };
    Error::new(Kind::Auth, message).with_hint(hint)
}
