//! The text of the help topics (`nemo help exit-codes`, `nemo help
//! environment`), which the man pages carry too (EXIT STATUS,
//! ENVIRONMENT): one copy, beside the command line it documents.

/// Exit codes and what each means (`../shared/spec/cli.md` "Exit codes"),
/// for `nemo help exit-codes` and the man pages' EXIT STATUS.
pub const EXIT_CODES: [(&str, &str); 13] = [
    ("0", "success"),
    ("1", "unexpected error"),
    (
        "2",
        "usage error: a bad flag, argument or environment value; nothing was sent",
    ),
    (
        "3",
        "authentication: no token, or one that is rejected and cannot be renewed (1001)",
    ),
    ("4", "credits: none left (2001), or `credits --min` not met"),
    ("5", "plan: export blocked by the plan (HTTP 402)"),
    (
        "6",
        "rate limited, still after one retry (HTTP 429, whatever code its body carries)",
    ),
    (
        "7",
        "bad input: missing/unsupported/too large file (4001, 4002), nothing to export, output file exists",
    ),
    (
        "8",
        "the job failed: render failed, reply or render timed out, agent error in the stream",
    ),
    (
        "9",
        "network or server: unreachable, TLS, 5xx after retries, an answer that cannot be read",
    ),
    (
        "10",
        "session: none, or not found (1002) where it cannot be recovered",
    ),
    ("130", "interrupted (Ctrl-C)"),
    (
        "143, 129",
        "terminated (SIGTERM, SIGHUP): handled as Ctrl-C, with the same cleanup and resume hint",
    ),
];

/// What follows the table in `nemo help exit-codes`.
pub const EXIT_CODES_JSON: &str = "With --json, a failure also prints one document on stdout:
  {\"error\":{\"kind\":\"credits\",\"message\":\"…\",\"exit_code\":4,\"api_code\":2001}}";

/// Every environment variable nemo reads, and what wins over what.
pub const ENVIRONMENT: &str = "\
Environment variables nemo reads. A flag wins over its variable; a variable
wins over nemo's config (<config-dir>/nemo-cli.json); that wins over the default.
An empty variable counts as unset; one that is not UTF-8 is a usage error (exit 2).
Only commands that talk to the API read the API's variables: `help`, `man`,
`completions` and `sandbox reset` run whatever they hold.

  NEMO_API_URL          API base URL (--api-url) [https://mega-api-prod.nemovideo.ai]
  NEMO_WEB_URL          web app URL for claim and registration links (--web-url)
                        [https://nemovideo.com]
  NEMO_CONFIG_DIR       where nemo keeps its settings (--config-dir)
                        [$XDG_CONFIG_HOME/nemovideo, else ~/.config/nemovideo]
  NEMO_SESSION          session to work in (--session) [the config's current session]
  NEMO_TOKEN            bearer token; wins over the stored token, which wins over the
                        api_key of the official CLI's config.json
  NEMO_CLIENT_ID        client id for free anonymous tokens; wins over
                        <config-dir>/client_id
  NEMO_SKILL            sent as X-Skill-Source (--skill) [nemo-cli]
  NEMO_SKILL_VERSION    sent as X-Skill-Version (--skill-version) [1.0.0 for the five
                        NemoVideo seed skills, else nemo's version]
  SKILL_SOURCE          sent as X-Skill-Platform [detected from the install path, else unknown]
  NEMO_RATE_LIMIT_WAIT  seconds to wait after an HTTP 429 without Retry-After [30]
  NEMO_SANDBOX          1 or true: run against the built-in emulator, as --sandbox;
                        0, false or empty: off. With --api-url: a usage error
  NEMO_SANDBOX_FAULTS   a faults file (JSON) for --sandbox, as `nemo sandbox --faults`
  NEMO_NO_INPUT         set and not 0/false: never prompt (--no-input)
  CI                    set and not empty, 0 or false: never prompt, as --no-input;
                        a stdin that is not a terminal does the same
  NO_COLOR              set and not empty: no colours (--color never, --no-color)
  CLICOLOR_FORCE        set and not empty or 0: colours even when not on a terminal
                        (--color always); --color wins over both, NO_COLOR over this
  NEMO_COMPLETE         set by the completion scripts (`source <(NEMO_COMPLETE=bash nemo)`):
                        print completions for the words that follow, and exit
  COLUMNS               the width `nemo state` draws the timeline in [the terminal's]
  LC_ALL, LC_MESSAGES, LANG
                        the first one set gives `session new` its default language
  XDG_CONFIG_HOME       the platform config folder (Linux)
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY (or lower case)
                        proxy for https:// and http:// requests, as curl reads them
                        (http://host:port, with user:password@ if it needs them)
  NO_PROXY              hosts that skip the proxy: comma-separated names, domains
                        (.example.com), IPs or CIDRs; * for all
  SSL_CERT_FILE         a PEM file of CA certificates to trust (a company proxy's own
                        CA, a local server); on Linux it replaces the system's roots,
                        as OpenSSL's does; elsewhere it adds to them
";
