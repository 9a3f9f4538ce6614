//! The `Context` every command gets: settings, the printer, the config
//! store and the API client (which owns its credentials: a token on first
//! use and the renewal after a rejection happen inside it, through
//! [`crate::keyring`]), plus what several commands share — a session when
//! there is none, the one place a lost session is recovered — and the hint
//! that depends on who the user is (2001).

use std::future::Future;

use crate::api::ApiClient;
use crate::config::{SessionRecord, Store};
use crate::error::{Error, Kind, Result};
use crate::printer::Printer;
use crate::secret::Secret;
use crate::settings::Settings;

/// The token in use and what is known of it; where it came from.
pub use crate::api::{Credential as CurrentToken, TokenSource};

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
        crate::keyring::current(&self.store, self.settings.env_token.as_ref())
    }

    /// Gets and stores a free token with the persisted client id, once
    /// across processes (the API client's own bootstrap).
    pub async fn anonymous_login(&self, replacing: Option<&Secret>) -> Result<CurrentToken> {
        self.api.login_anonymous(replacing).await
    }

    /// The client id if one exists already (never creates the file).
    pub fn existing_client_id(&self) -> Result<Option<String>> {
        match &self.settings.env_client_id {
            Some(id) => Ok(Some(id.clone())),
            None => self.store.read_client_id(),
        }
    }

    /// Gives an error the context only the command line knows: where to get
    /// credits (2001) for who the user is. Applied once, where a command's
    /// error leaves it.
    pub fn explain(&self, err: Error) -> Error {
        if !err.is(Kind::NoCredits) || err.hint().is_some() {
            return err;
        }
        let current = self.current_token().ok().flatten();
        let anonymous_user = current
            .as_ref()
            .filter(|c| c.anonymous)
            .and_then(|c| c.user_id.as_deref());
        err.with_hint(self.no_credits_hint(anonymous_user))
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
        let record = self.unrecorded_session(name, language).await?;
        self.store.update(|config| {
            config.remember_session(record.clone());
            if make_current {
                config.current_session = Some(record.session_id.clone());
            }
            Ok(())
        })?;
        Ok(record)
    }

    /// Creates a session on the server and records nothing in the config:
    /// for work that keeps its sessions elsewhere (`batch` keeps its jobs'
    /// sessions in its journal, so the config stays bounded).
    pub async fn unrecorded_session(
        &self,
        name: Option<&str>,
        language: Option<&str>,
    ) -> Result<SessionRecord> {
        let name = name.unwrap_or("project").to_string();
        let language = language
            .unwrap_or(&self.settings.locale_language)
            .to_string();
        let created = self.api.create_session(&name, &language).await?;
        let record = SessionRecord {
            session_id: created.session_id,
            task_id: created.task_id,
            name: Some(name),
            language: Some(language),
            created_at: Some(crate::time::now_rfc3339()),
            extra: Default::default(),
        };
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
