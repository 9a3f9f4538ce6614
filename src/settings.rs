//! Settings: global flags, environment and defaults merged once, before any
//! command runs. Commands read these, never the environment.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

mod defaults;

use defaults::{default_skill_version, detect_platform, language_from_locale};

use crate::api::Attribution;
use crate::cli::{ColorWhen, GlobalArgs};
use crate::env;
use crate::error::{Error, Kind, Result};
use crate::printer::Color;
use crate::secret::Secret;

pub const DEFAULT_API_URL: &str = "https://mega-api-prod.nemovideo.ai";
pub const DEFAULT_WEB_URL: &str = "https://nemovideo.com";
pub const DEFAULT_SKILL: &str = "nemo-cli";
/// Everything a command needs to know about how it was invoked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub api_url: Url,
    pub web_url: Url,
    pub config_dir: PathBuf,
    /// `--session` / `NEMO_SESSION`; else the config's current session.
    pub session: Option<String>,
    pub attribution: Attribution,
    /// `NEMO_TOKEN`: wins over any stored token.
    pub env_token: Option<Secret>,
    /// `NEMO_CLIENT_ID`: wins over `<config-dir>/client_id`.
    pub env_client_id: Option<String>,
    /// Language for new sessions, from the locale.
    pub locale_language: String,
    /// Wait after an HTTP 429 without `Retry-After`.
    pub rate_limit_wait: Duration,
    pub sandbox: bool,
    /// `NEMO_SANDBOX_FAULTS`: a faults file for the `--sandbox` emulator.
    // Read by the emulator, which a build without `sandbox` lacks.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub sandbox_faults: Option<PathBuf>,
    /// Hidden `NEMO_SANDBOX_QUICK`, for tests: the `--sandbox` emulator's
    /// agent and renders at a quick pace.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub sandbox_quick: bool,
    /// Multiplies chat's waiting schedules (hidden `NEMO_CHAT_TIME_SCALE`,
    /// for tests); 1 otherwise.
    pub chat_time_scale: f64,
    /// Multiplies the network waits (hidden `NEMO_HTTP_TIME_SCALE`, for
    /// tests); 1 otherwise.
    pub http_time_scale: f64,
    /// Hidden `NEMO_POLL_NETWORK_TOLERANCE`, for tests: how long a render
    /// wait tolerates network errors in a row (default: two minutes).
    pub poll_network_tolerance: Option<Duration>,
}

/// How output is shaped: the printer's options, from the flags and the
/// environment.
pub type OutputSettings = crate::printer::Options;

/// Known before anything else is resolved, so even a bad `--api-url` is
/// reported in the requested shape. A `--jq` expression is compiled here,
/// before anything is sent; a bad one is a usage error.
///
/// Every command shapes its output, also those that read no other setting
/// (`help`, `man`): the variables read here are read leniently, and
/// [`Settings::resolve`] checks them strictly for the commands that go on.
pub fn output_settings(args: &GlobalArgs) -> Result<OutputSettings> {
    let jq = match &args.jq {
        Some(expr) => Some(crate::jq::Jq::compile(expr)?),
        None => None,
    };
    Ok(OutputSettings {
        json: args.json || jq.is_some(),
        jq,
        quiet: args.quiet,
        verbose: args.verbose,
        color: color_choice(args.color, args.no_color),
        no_input: args.no_input || no_input_var() || truthy(env::CI),
        columns: var(env::COLUMNS)
            .ok()
            .flatten()
            .and_then(|c| c.trim().parse().ok())
            .filter(|c| *c > 0),
        pretend: var(env::PRETEND_TTY)
            .ok()
            .flatten()
            .map(|list| crate::printer::Terminals::parse(&list))
            .unwrap_or_default(),
        sandbox: args.sandbox || sandbox_var_on(),
    })
}

/// `--color`, else `--no-color`, else `NO_COLOR` (set, not empty), else
/// `CLICOLOR_FORCE` (set, not empty or `0`), else auto.
pub fn color_choice(flag: Option<ColorWhen>, no_color: bool) -> Color {
    match flag {
        Some(ColorWhen::Always) => Color::Always,
        Some(ColorWhen::Never) => Color::Never,
        Some(ColorWhen::Auto) => Color::Auto,
        None if no_color => Color::Never,
        None if std::env::var_os(env::NO_COLOR).is_some_and(|v| !v.is_empty()) => Color::Never,
        None if std::env::var_os(env::CLICOLOR_FORCE)
            .is_some_and(|v| !v.is_empty() && v != "0") =>
        {
            Color::Always
        }
        None => Color::Auto,
    }
}

/// A switch such as `CI`: set, and not empty, `false` or `0`.
fn truthy(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| {
        let v = v.to_string_lossy();
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    })
}

/// `NEMO_NO_INPUT`: on unless unset or one of the words clap's
/// `FalseyValueParser` reads as off (`0`, `false`, `no`, `off`, `n`, `f`,
/// empty), as when clap read it.
fn no_input_var() -> bool {
    std::env::var_os(env::NO_INPUT).is_some_and(|v| {
        let v = v.to_string_lossy().trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "false" | "no" | "off" | "n" | "f")
    })
}

/// `NEMO_SANDBOX`: `1`/`true` means `--sandbox`; unset, empty, `0` and
/// `false` mean off; anything else is a usage error naming it.
fn sandbox_env() -> Result<bool> {
    let Some(value) = var(env::SANDBOX)? else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(Error::usage(format!(
            "{} must be 1 or true (on), or 0 or false (off), not {value:?}",
            env::SANDBOX
        ))),
    }
}

/// Whether `NEMO_SANDBOX` turns the sandbox on (a bad value does not).
pub fn sandbox_var_on() -> bool {
    sandbox_env().unwrap_or(false)
}

/// `NEMO_CONFIG_DIR`, when set and not empty.
pub fn env_config_dir() -> Option<std::ffi::OsString> {
    std::env::var_os(env::CONFIG_DIR).filter(|d| !d.is_empty())
}

/// Reads one environment variable; an empty value counts as unset. A value
/// that is not UTF-8 is a usage error naming the variable: never silently
/// ignored (an unsendable `NEMO_TOKEN` must not turn into a fresh anonymous
/// token).
fn var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::usage(format!(
            "the environment variable {name} is not valid UTF-8"
        ))
        .with_hint(format!("set {name} to plain text, or unset it"))),
    }
}

/// A global option's value: the flag when given, else its variable (an
/// empty one counts as unset), with the name to blame for a bad value.
fn flag_or_var(
    flag: &Option<String>,
    flag_name: &'static str,
    var_name: &'static str,
) -> Result<Option<(String, &'static str)>> {
    if let Some(value) = flag.as_ref().filter(|v| !v.trim().is_empty()) {
        return Ok(Some((value.clone(), flag_name)));
    }
    Ok(var(var_name)?.map(|value| (value, var_name)))
}

/// Session ids as `../shared/spec/cli.md` fixes them: 1 to 64 of
/// `A-Z a-z 0-9 _ -` (the service's are numeric). Checked before use, so a
/// typo such as `..` can never reshape a request path.
pub fn check_session_id(what: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        return Ok(());
    }
    Err(Error::usage(format!(
        "{what} {:?} is not a session id",
        crate::sanitize::strip_controls(&id.chars().take(80).collect::<String>())
    ))
    .with_hint(
        "session ids are 1 to 64 letters, digits, '_' or '-'; `nemo session list` shows yours",
    ))
}

impl Settings {
    /// Merges the flags with the environment, for a command that talks to
    /// the API. A bad value is a usage error naming where it came from
    /// (`--api-url` or `NEMO_API_URL`).
    pub fn resolve(args: &GlobalArgs) -> Result<Settings> {
        let sandbox_var = sandbox_env()?;
        if args.api_url.is_some() && (args.sandbox || sandbox_var) {
            let (what, hint) = if args.sandbox {
                (
                    "--sandbox",
                    "drop one of them: --api-url names a server, --sandbox runs the built-in one",
                )
            } else {
                (
                    "NEMO_SANDBOX",
                    "unset NEMO_SANDBOX to use --api-url, or drop --api-url to stay in the sandbox",
                )
            };
            return Err(Error::usage(format!(
                "{what} runs against the built-in emulator and cannot be combined with --api-url"
            ))
            .with_hint(hint));
        }
        // Checked here, though the printer read it leniently already.
        var(env::NO_INPUT)?;
        let api_url = match flag_or_var(&args.api_url, "--api-url", env::API_URL)? {
            Some((value, what)) => parse_url(what, &value)?,
            None => parse_url("--api-url", DEFAULT_API_URL)?,
        };
        let web_url = match flag_or_var(&args.web_url, "--web-url", env::WEB_URL)? {
            Some((value, what)) => parse_url(what, &value)?,
            None => parse_url("--web-url", DEFAULT_WEB_URL)?,
        };
        let config_dir = config_dir(args)?;
        let (skill, skill_from) = flag_or_var(&args.skill, "--skill", env::SKILL)?
            .unwrap_or_else(|| (DEFAULT_SKILL.to_string(), "--skill"));
        let (version, version_from) =
            flag_or_var(&args.skill_version, "--skill-version", env::SKILL_VERSION)?
                .unwrap_or_else(|| (default_skill_version(&skill).to_string(), "--skill-version"));
        let exe = std::env::current_exe().ok();
        let platform = detect_platform(var(env::SKILL_SOURCE)?, exe.as_deref());
        // These go out as headers on every request: refuse what cannot be
        // sent rather than silently dropping a header (a missing attribution
        // header makes the backend refuse exports with 402).
        for (what, value) in [
            (skill_from, &skill),
            (version_from, &version),
            ("SKILL_SOURCE", &platform),
        ] {
            if !value.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
                return Err(Error::usage(format!(
                    "{what} must be printable ASCII, not {value:?}"
                )));
            }
        }
        let rate_limit_wait = match var(env::RATE_LIMIT_WAIT)? {
            None => Duration::from_secs(30),
            Some(v) => v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    Error::usage(format!(
                        "{} must be a number of seconds, not {v:?}",
                        env::RATE_LIMIT_WAIT
                    ))
                })?,
        };
        let poll_network_tolerance =
            match var(env::POLL_NETWORK_TOLERANCE)? {
                None => None,
                Some(v) => Some(v.trim().parse::<u64>().map(Duration::from_secs).map_err(
                    |_| {
                        Error::usage(format!(
                            "{} must be a whole number of seconds, not {v:?}",
                            env::POLL_NETWORK_TOLERANCE
                        ))
                    },
                )?),
            };
        let chat_time_scale = time_scale(env::CHAT_TIME_SCALE, var(env::CHAT_TIME_SCALE)?)?;
        let http_time_scale = time_scale(env::HTTP_TIME_SCALE, var(env::HTTP_TIME_SCALE)?)?;
        // A locale that is not UTF-8 only loses the language guess.
        let locale = env::LOCALE.iter().find_map(|name| var(name).ok().flatten());
        let session = match flag_or_var(&args.session, "--session", env::SESSION)? {
            Some((id, what)) => {
                check_session_id(what, &id)?;
                Some(id)
            }
            None => None,
        };
        Ok(Settings {
            api_url,
            web_url,
            config_dir,
            session,
            attribution: Attribution {
                source: skill,
                version,
                platform,
            },
            env_token: var(env::TOKEN)?.map(|t| Secret::new(t.trim())),
            env_client_id: var(env::CLIENT_ID)?.map(|c| c.trim().to_string()),
            locale_language: language_from_locale(locale.as_deref()),
            rate_limit_wait,
            sandbox: args.sandbox || sandbox_var,
            sandbox_faults: var(env::SANDBOX_FAULTS)?.map(PathBuf::from),
            sandbox_quick: truthy(env::SANDBOX_QUICK),
            chat_time_scale,
            http_time_scale,
            poll_network_tolerance,
        })
    }

    /// For the commands that talk to no API (`nemo sandbox reset`, serving
    /// the emulator): the config folder and the output's shape; every API
    /// setting at its default, none of their variables read, so a bad
    /// `NEMO_API_URL` or `NEMO_SESSION` cannot stop them.
    pub fn local(args: &GlobalArgs) -> Result<Settings> {
        let skill = DEFAULT_SKILL.to_string();
        Ok(Settings {
            api_url: parse_url("--api-url", DEFAULT_API_URL)?,
            web_url: parse_url("--web-url", DEFAULT_WEB_URL)?,
            config_dir: config_dir(args)?,
            session: None,
            attribution: Attribution {
                version: default_skill_version(&skill).to_string(),
                source: skill,
                platform: "unknown".into(),
            },
            env_token: None,
            env_client_id: None,
            locale_language: language_from_locale(None),
            rate_limit_wait: Duration::from_secs(30),
            sandbox: args.sandbox || sandbox_var_on(),
            sandbox_faults: None,
            sandbox_quick: truthy(env::SANDBOX_QUICK),
            chat_time_scale: 1.0,
            http_time_scale: 1.0,
            poll_network_tolerance: None,
        })
    }
}

/// `--config-dir`, else `NEMO_CONFIG_DIR` (a path: any bytes), else the
/// platform's config dir.
pub fn config_dir(args: &GlobalArgs) -> Result<PathBuf> {
    if let Some(dir) = &args.config_dir {
        return Ok(dir.clone());
    }
    match env_config_dir() {
        Some(dir) => Ok(PathBuf::from(dir)),
        None => default_config_dir(),
    }
}

/// A hidden time scale for tests: a positive number up to 1000, else 1.
fn time_scale(name: &str, value: Option<String>) -> Result<f64> {
    let Some(v) = value else { return Ok(1.0) };
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 1000.0)
        .ok_or_else(|| Error::usage(format!("{name} must be a positive number, not {v:?}")))
}

fn parse_url(flag: &str, value: &str) -> Result<Url> {
    let url = Url::parse(value.trim()).map_err(|e| {
        Error::new(
            Kind::Usage,
            format!("{flag} {value:?} is not a valid URL ({e})"),
        )
        .with_hint("use a full URL such as https://mega-api-prod.nemovideo.ai")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::usage(format!(
            "{flag} {value:?} must be an http(s) URL"
        )));
    }
    Ok(url)
}

/// The platform config dir of `nemovideo` (Linux: `$XDG_CONFIG_HOME/nemovideo`,
/// else `~/.config/nemovideo`).
pub fn default_config_dir() -> Result<PathBuf> {
    directories::BaseDirs::new()
        .map(|dirs| dirs.config_dir().join("nemovideo"))
        .ok_or_else(|| {
            Error::new(
                Kind::Config,
                "cannot find your home folder to keep nemo's settings in",
            )
            .with_hint("set NEMO_CONFIG_DIR or pass --config-dir")
        })
}
