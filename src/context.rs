//! The `Context` every command gets: settings, the printer, the config
//! store and the API client, plus the bootstraps that several commands share
//! — a token on first use, token renewal after 1001, a session when there is
//! none — and the hints that depend on who the user is (2001).

use std::future::Future;
use std::time::{Duration, SystemTime};

use crate::api::ApiClient;
use crate::api::auth::{AnonymousOutcome, AnonymousToken};
use crate::config::{SessionRecord, Store, StoredToken};
use crate::error::{Error, Kind, Result};
use crate::printer::Printer;
use crate::secret::Secret;
use crate::settings::Settings;

/// Where the token in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `NEMO_TOKEN`.
    Env,
    /// nemo's own `nemo-cli.json`.
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

/// The token that would be used now, and what is known of it.
#[derive(Debug, Clone)]
pub struct CurrentToken {
    pub token: Secret,
    pub source: TokenSource,
    pub anonymous: bool,
    pub user_id: Option<String>,
    pub expires_at: Option<String>,
}

impl CurrentToken {
    /// Expired, or about to be (within a minute), by the stored expiry.
    pub fn is_expired(&self) -> bool {
        self.expires_at
            .as_deref()
            .and_then(crate::time::parse)
            .is_some_and(|at| at <= SystemTime::now() + Duration::from_secs(60))
    }
}

pub struct Context {
    pub settings: Settings,
    pub printer: Printer,
    pub store: Store,
    pub api: ApiClient,
}

impl Context {
    pub fn new(settings: Settings, printer: Printer, api: ApiClient) -> Self {
        let store = Store::new(settings.config_dir.clone());
        Context {
            settings,
            printer,
            store,
            api,
        }
    }

    /// The token by precedence: `NEMO_TOKEN`, nemo's stored token, the
    /// official CLI's `api_key`.
    pub fn current_token(&self) -> Result<Option<CurrentToken>> {
        if let Some(token) = &self.settings.env_token {
            return Ok(Some(CurrentToken {
                token: token.clone(),
                source: TokenSource::Env,
                anonymous: false,
                user_id: None,
                expires_at: None,
            }));
        }
        if let Some(stored) = self.store.load()?.token {
            return Ok(Some(CurrentToken::from(stored)));
        }
        Ok(self.store.official_api_key().map(|token| CurrentToken {
            token,
            source: TokenSource::OfficialConfig,
            anonymous: false,
            user_id: None,
            expires_at: None,
        }))
    }

    /// Makes sure the API client holds a token: the current one, or a new
    /// anonymous one (`Connecting…`) when there is none or the stored
    /// anonymous one has expired.
    pub async fn ensure_token(&self) -> Result<CurrentToken> {
        if let Some(current) = self.current_token()?
            && !(current.source == TokenSource::Config && current.anonymous && current.is_expired())
        {
            self.api.set_token(Some(current.token.clone()));
            return Ok(current);
        }
        let current = self.anonymous_login(None).await?;
        self.api.set_token(Some(current.token.clone()));
        Ok(current)
    }

    /// Gets and stores an anonymous token with the persisted client id, once
    /// across processes. `replacing`: the token just rejected, if any; a
    /// different usable token stored meanwhile by another process is taken
    /// instead of asking for a new one.
    pub async fn anonymous_login(&self, replacing: Option<&Secret>) -> Result<CurrentToken> {
        let _bootstrap = self.store.bootstrap_lock("token.lock").await?;
        if let Some(stored) = self.store.load()?.token {
            let current = CurrentToken::from(stored);
            let rejected = replacing.is_some_and(|r| *r == current.token);
            let renewable = current.anonymous && current.is_expired();
            if !rejected && !renewable {
                return Ok(current);
            }
        }
        self.printer.status("Connecting…");
        let mut client_id = self.client_id()?;
        let mut token = None;
        for attempt in 0..2 {
            match self.api.anonymous_token(&client_id).await? {
                AnonymousOutcome::Issued(t) => {
                    token = Some(t);
                    break;
                }
                AnonymousOutcome::BadClientId
                    if attempt == 0 && self.settings.env_client_id.is_none() =>
                {
                    self.printer
                        .debug("the server refused the client id (HTTP 400); making a new one");
                    client_id = self
                        .store
                        .write_client_id(&uuid::Uuid::new_v4().to_string())?;
                }
                AnonymousOutcome::BadClientId => {
                    return Err(Error::new(
                        Kind::Auth,
                        "the server refused the client id (HTTP 400)",
                    )
                    .with_hint("check NEMO_CLIENT_ID: it must be a UUID"));
                }
            }
        }
        let token: AnonymousToken =
            token.ok_or_else(|| Error::bad_answer("the server gave no anonymous token"))?;
        let stored = StoredToken {
            value: token.token.clone(),
            anonymous: true,
            user_id: token.user_id.clone(),
            expires_at: token.expires_at.clone(),
            client_id: Some(client_id),
            extra: Default::default(),
        };
        self.store.update(|config| {
            config.token = Some(stored.clone());
            Ok(())
        })?;
        Ok(CurrentToken::from(stored))
    }

    /// `NEMO_CLIENT_ID`, else `<config-dir>/client_id` (made on first need).
    pub fn client_id(&self) -> Result<String> {
        match &self.settings.env_client_id {
            Some(id) => Ok(id.clone()),
            None => self.store.client_id(),
        }
    }

    /// The client id if one exists already (never creates the file).
    pub fn existing_client_id(&self) -> Result<Option<String>> {
        match &self.settings.env_client_id {
            Some(id) => Ok(Some(id.clone())),
            None => self.store.read_client_id(),
        }
    }

    /// Runs an authenticated call: gets a token first if needed; after a
    /// 1001 on a stored anonymous token, renews it with the same client id
    /// and runs the call once more. A rejected token the user gave
    /// (`NEMO_TOKEN`, `--with-token`) stops with exit 3.
    pub async fn authed<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(ApiClient) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let current = self.ensure_token().await?;
        match call(self.api.clone()).await {
            Err(err)
                if err.is(Kind::TokenRejected)
                    && current.source == TokenSource::Config
                    && current.anonymous =>
            {
                self.printer
                    .debug("the token was rejected (1001); renewing it with the same client id");
                let renewed = self.anonymous_login(Some(&current.token)).await?;
                self.api.set_token(Some(renewed.token.clone()));
                call(self.api.clone())
                    .await
                    .map_err(|err| self.explain(err, &renewed))
            }
            result => result.map_err(|err| self.explain(err, &current)),
        }
    }

    /// Gives errors the context only the caller knows: whose token was
    /// rejected, where to get credits.
    fn explain(&self, err: Error, current: &CurrentToken) -> Error {
        match err {
            err if err.is(Kind::TokenRejected) => match current.source {
                TokenSource::Env => Error::new(Kind::Auth, "the token in NEMO_TOKEN was rejected (bad or expired)").with_hint("set a valid NEMO_TOKEN, or unset it to use nemo's own login"),
                TokenSource::OfficialConfig => Error::new(Kind::Auth, "the api_key in config.json was rejected (bad or expired)").with_hint("log in with `nemo auth login --with-token`, or `nemo auth login` for a free token"),
                TokenSource::Config if current.anonymous => Error::new(Kind::Auth, "the server rejected the free token even after renewing it").with_hint("run `nemo auth logout`, then `nemo auth login`"),
                TokenSource::Config => Error::new(Kind::Auth, "the stored token was rejected (bad or expired)").with_hint("log in again with `nemo auth login --with-token`"),
            },
            err if err.is(Kind::NoCredits) => {
                let anonymous_user = current.user_id.as_deref().filter(|_| current.anonymous);
                err.with_hint(self.no_credits_hint(anonymous_user))
            }
            other => other,
        }
    }

    /// Where to get credits: the sandbox's own command, the registration
    /// link of an anonymous user, else the account's top-up.
    pub fn no_credits_hint(&self, anonymous_user: Option<&str>) -> String {
        match anonymous_user {
            _ if self.settings.sandbox => {
                "set the sandbox balance with `nemo sandbox credits 500`, or start afresh with `nemo sandbox reset`".to_string()
            }
            Some(user) => format!("register to get more credits: {}", self.bind_url(user)),
            None => format!("top up credits in your account at {}", self.settings.web_url),
        }
    }

    /// `<web>?bind=<user_id>`: the registration link for an anonymous user.
    pub fn bind_url(&self, user_id: &str) -> String {
        crate::links::bind(&self.settings.web_url, user_id)
    }

    /// The session to work in, if one is set: `--session`/`NEMO_SESSION`,
    /// else the config's current session.
    pub fn current_session(&self) -> Result<Option<String>> {
        if let Some(id) = &self.settings.session {
            return Ok(Some(id.clone()));
        }
        Ok(self.store.load()?.current_session)
    }

    /// The session to work in; when there is none, one is created, made
    /// current and announced on stderr (once across processes).
    pub async fn ensure_session(&self) -> Result<String> {
        if let Some(id) = self.current_session()? {
            return Ok(id);
        }
        let _bootstrap = self.store.bootstrap_lock("session.lock").await?;
        if let Some(id) = self.store.load()?.current_session {
            return Ok(id);
        }
        // As `session new`: a session made on the server but never
        // recorded would be lost, so the config must be writable first.
        self.store.check_writable()?;
        let record = self.create_session(None, None).await?;
        self.printer
            .status(format!("Created session {}", record.session_id));
        Ok(record.session_id)
    }

    /// Creates a session, records it and makes it current.
    pub async fn create_session(
        &self,
        name: Option<&str>,
        language: Option<&str>,
    ) -> Result<SessionRecord> {
        self.new_session(name, language, true).await
    }

    /// Creates a session and records it; makes it current only when
    /// `make_current` (`generate` and `batch` work in sessions of their own
    /// and leave the current one alone).
    pub async fn new_session(
        &self,
        name: Option<&str>,
        language: Option<&str>,
        make_current: bool,
    ) -> Result<SessionRecord> {
        let name = name.unwrap_or("project").to_string();
        let language = language
            .unwrap_or(&self.settings.locale_language)
            .to_string();
        let created = self
            .authed(|api| {
                let (name, language) = (name.clone(), language.clone());
                async move { api.create_session(&name, &language).await }
            })
            .await?;
        let record = SessionRecord {
            session_id: created.session_id,
            task_id: created.task_id,
            name: Some(name),
            language: Some(language),
            created_at: Some(crate::time::now_rfc3339()),
            extra: Default::default(),
        };
        self.store.update(|config| {
            config.remember_session(record.clone());
            if make_current {
                config.current_session = Some(record.session_id.clone());
            }
            Ok(())
        })?;
        Ok(record)
    }

    /// Runs `call` in `session`, the one place a lost session (1002) is
    /// recovered (chat, upload). When the server does not know it:
    /// - the config's current session is replaced by a new one, said on
    ///   stderr, and `call` runs once more there — once per command
    ///   (`recovered` carries that across calls);
    /// - a session the caller named (`--session`/`NEMO_SESSION`) is their
    ///   choice: exit 10, no session made, the config left as it was.
    pub async fn with_session<T, F, Fut>(
        &self,
        session: &mut String,
        recovered: &mut bool,
        call: F,
    ) -> Result<T>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        match call(session.clone()).await {
            Err(err) if err.is(Kind::SessionNotFound) && self.is_named(session) => {
                Err(err
                    .with_message(format!("session {session} was not found on the server"))
                    .with_hint(
                        "check the id given with --session or NEMO_SESSION (`nemo session list`), or leave it out to use the current session",
                    ))
            }
            Err(err) if err.is(Kind::SessionNotFound) && !*recovered => {
                *recovered = true;
                *session = self.replace_lost_session(session).await?;
                call(session.clone()).await
            }
            other => other,
        }
    }

    /// Whether `session` is the one named by `--session`/`NEMO_SESSION`.
    fn is_named(&self, session: &str) -> bool {
        self.settings.session.as_deref() == Some(session)
    }

    /// A new session replaces the lost one, with a warning.
    async fn replace_lost_session(&self, lost: &str) -> Result<String> {
        let record = self.create_session(None, None).await?;
        self.printer.warn(format!(
            "session {lost} was not found on the server; started a new session {}",
            record.session_id
        ));
        Ok(record.session_id)
    }
}

impl From<StoredToken> for CurrentToken {
    fn from(stored: StoredToken) -> Self {
        CurrentToken {
            token: stored.value,
            source: TokenSource::Config,
            anonymous: stored.anonymous,
            user_id: stored.user_id,
            expires_at: stored.expires_at,
        }
    }
}

/// Downloads from the API's origin run through [`Context::authed`], so an
/// expired free token is renewed there too.
impl crate::api::download::Authorizer for Context {
    async fn authed<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(ApiClient) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        Context::authed(self, call).await
    }
}
