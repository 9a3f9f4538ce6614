//! Where the API client's credentials live: nemo's config store with the
//! environment's overrides, handed to the client as its
//! [`Keyring`](crate::api::Keyring). Precedence: `NEMO_TOKEN`, nemo's stored
//! token, the official Node CLI's `config.json` `api_key`. The client id:
//! `NEMO_CLIENT_ID`, else `<config-dir>/client_id`.
//!
//! A free-token request is written ahead in `<config-dir>/login.pending`
//! (the client id it was sent for): when its answer never arrives, the
//! server may still have spent the id's one token a week, and the next
//! refusal can say so and offer `nemo auth login --new-client-id`.

use std::path::PathBuf;

use crate::api::auth::AnonymousToken;
use crate::api::credentials::{BoxFuture, Guard};
use crate::api::{Credential, Keyring, TokenSource};
use crate::config::{Store, StoredToken};
use crate::error::{Error, Result};
use crate::printer::Printer;
use crate::secret::Secret;

/// The write-ahead note of a free-token request.
const LOGIN_PENDING: &str = "login.pending";

pub(crate) struct ConfigKeyring {
    store: Store,
    env_token: Option<Secret>,
    env_client_id: Option<String>,
    printer: Printer,
}

impl ConfigKeyring {
    pub(crate) fn new(
        store: Store,
        env_token: Option<Secret>,
        env_client_id: Option<String>,
        printer: Printer,
    ) -> Self {
        ConfigKeyring {
            store,
            env_token,
            env_client_id,
            printer,
        }
    }

    fn pending_path(&self) -> PathBuf {
        self.store.dir().join(LOGIN_PENDING)
    }
}

/// Forgets the note of an unanswered free-token request (a new client id
/// starts clean).
pub(crate) fn forget_pending_login(dir: &std::path::Path) -> Result<()> {
    let path = dir.join(LOGIN_PENDING);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::config(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// nemo's stored token, as a credential.
pub(crate) fn from_stored(stored: StoredToken) -> Credential {
    Credential {
        token: stored.value,
        source: TokenSource::Config,
        anonymous: stored.anonymous,
        user_id: stored.user_id,
        expires_at: stored.expires_at,
    }
}

/// The token by precedence, without network: `NEMO_TOKEN`, nemo's stored
/// token, the official CLI's `api_key`.
pub(crate) fn current(store: &Store, env_token: Option<&Secret>) -> Result<Option<Credential>> {
    if let Some(token) = env_token {
        return Ok(Some(Credential {
            token: token.clone(),
            source: TokenSource::Env,
            anonymous: false,
            user_id: None,
            expires_at: None,
        }));
    }
    if let Some(stored) = store.load()?.token {
        return Ok(Some(from_stored(stored)));
    }
    Ok(store.official_api_key().map(|token| Credential {
        token,
        source: TokenSource::OfficialConfig,
        anonymous: false,
        user_id: None,
        expires_at: None,
    }))
}

impl Keyring for ConfigKeyring {
    fn current(&self) -> Result<Option<Credential>> {
        current(&self.store, self.env_token.as_ref())
    }

    fn stored(&self) -> Result<Option<Credential>> {
        Ok(self.store.load()?.token.map(from_stored))
    }

    fn lock(&self) -> BoxFuture<'_, Result<Guard>> {
        Box::pin(async move {
            let lock = self.store.bootstrap_lock("token.lock").await?;
            Ok(Box::new(lock) as Guard)
        })
    }

    fn client_id(&self) -> Result<String> {
        match &self.env_client_id {
            Some(id) => Ok(id.clone()),
            None => self.store.client_id(),
        }
    }

    fn replace_client_id(&self) -> Result<Option<String>> {
        if self.env_client_id.is_some() {
            return Ok(None);
        }
        let id = uuid::Uuid::new_v4().to_string();
        self.store.write_client_id(&id).map(Some)
    }

    fn note_login(&self, client_id: Option<&str>) -> Result<()> {
        let path = self.pending_path();
        let written = match client_id {
            Some(id) => std::fs::write(&path, format!("{id}\n")),
            None => return forget_pending_login(self.store.dir()),
        };
        written.map_err(|e| {
            Error::config(format!("cannot write {}: {e}", path.display())).with_hint(
                "make the config folder writable, or point NEMO_CONFIG_DIR (or --config-dir) at one that is",
            )
        })
    }

    fn login_was_lost(&self, client_id: &str) -> bool {
        std::fs::read_to_string(self.pending_path()).is_ok_and(|text| text.trim() == client_id)
    }

    fn keep(&self, token: &AnonymousToken, client_id: &str) -> Result<Credential> {
        let stored = StoredToken {
            value: token.token.clone(),
            anonymous: true,
            user_id: token.user_id.clone(),
            expires_at: token.expires_at.clone(),
            client_id: Some(client_id.to_string()),
            extra: Default::default(),
        };
        self.store.update(|config| {
            config.token = Some(stored.clone());
            Ok(())
        })?;
        Ok(from_stored(stored))
    }

    fn status(&self, line: &str) {
        self.printer.status(line);
    }

    fn debug(&self, line: &str) {
        self.printer.debug(line);
    }
}
