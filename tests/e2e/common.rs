//! The shared test harness: one emulator per test (in-process, port 0) and
//! a temp `HOME` and config dir, with the real `nemo` binary run against it.

use std::path::PathBuf;

use assert_cmd::Command;
use nemo_emulator::{BackgroundEmulator, EmuState, RecordedRequest};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Every variable nemo reads that `nemo help environment` documents. With
/// [`UNDOCUMENTED_ENV`], removed from every run so the developer's own
/// setup never leaks into a test; the help test checks each is documented.
pub const DOCUMENTED_ENV: [&str; 25] = [
    "NEMO_API_URL",
    "NEMO_WEB_URL",
    "NEMO_CONFIG_DIR",
    "NEMO_SESSION",
    "NEMO_SKILL",
    "NEMO_SKILL_VERSION",
    "NEMO_TOKEN",
    "NEMO_CLIENT_ID",
    "NEMO_RATE_LIMIT_WAIT",
    "NEMO_SANDBOX",
    "NEMO_SANDBOX_FAULTS",
    "SKILL_SOURCE",
    "NO_COLOR",
    "LC_ALL",
    "LC_MESSAGES",
    "LANG",
    "XDG_CONFIG_HOME",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "CI",
    "NEMO_NO_INPUT",
    "CLICOLOR_FORCE",
    "NEMO_COMPLETE",
];

/// The rest of what nemo reads: hidden test switches, the lowercase proxy
/// spellings, clap's completion switch.
const UNDOCUMENTED_ENV: [&str; 9] = [
    "NEMO_CHAT_TIME_SCALE",
    "NEMO_SANDBOX_QUICK",
    "NEMO_HTTP_TIME_SCALE",
    "NEMO_POLL_NETWORK_TOLERANCE",
    "NEMO_PRETEND_TTY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "COMPLETE",
];

pub const WEB_URL: &str = "https://web.nemo.test";

/// A draft with one 10 s clip: something to render (the chat agent that
/// makes drafts is not needed for export).
pub fn clip_draft() -> Value {
    json!({"t":[{"tt":0,"sg":[{"d":10000,"m":{"name":"clip"}}]}]})
}

/// The draft of the state tests: a clip, music and a title track.
pub fn city_draft() -> Value {
    json!({
        "t": [
            {"tt": 0, "sg": [{"d": 10000, "m": {"name": "city timelapse"}}]},
            {"tt": 1, "m": {"type": "music"}, "sg": [{"d": 10000, "m": {"name": "Lo-fi", "volume": 0.35}}]},
            {"tt": 7, "sg": [{"d": 3000, "m": {"text": "Urban Dreams", "type": "title"}}]}
        ],
        "d": 10000,
        "m": {"title": "Urban Dreams", "width": 1920, "height": 1080}
    })
}

pub struct Env {
    pub emu: BackgroundEmulator,
    pub tmp: TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env::with_state(EmuState::default())
    }

    /// An emulator whose agent answers quickly (its pace, tool, keep-alive
    /// and late-work times in tens of milliseconds).
    pub fn fast() -> Env {
        let env = Env::new();
        env.emu.with_state(|s| {
            s.faults.chat.chat_pace_ms = 2;
            s.faults.chat.chat_tool_ms = 60;
            s.faults.chat.chat_keepalive_ms = 20;
            s.faults.chat.chat_late_ms = 100;
        });
        env
    }

    pub fn with_state(state: EmuState) -> Env {
        let emu = BackgroundEmulator::start(state).expect("start the emulator");
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(tmp.path().join("home")).expect("home");
        Env { emu, tmp }
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    pub fn config_dir(&self) -> PathBuf {
        self.tmp.path().join("config")
    }

    pub fn config_path(&self) -> PathBuf {
        self.config_dir().join("nemo-cli.json")
    }

    /// The config file as JSON (Null when it does not exist).
    pub fn config(&self) -> Value {
        match std::fs::read(self.config_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).expect("config is JSON"),
            Err(_) => Value::Null,
        }
    }

    /// The stored token's value.
    pub fn stored_token(&self) -> Option<String> {
        self.config()["token"]["value"].as_str().map(str::to_string)
    }

    /// `nemo` with a scrubbed environment pointed at this test's emulator.
    pub fn nemo(&self) -> Command {
        let mut cmd = Command::from_std(self.nemo_process());
        cmd.timeout(std::time::Duration::from_secs(60));
        cmd
    }

    /// The same as a plain `std::process::Command`, for tests that need
    /// the running child (signals, reading output as it comes).
    pub fn nemo_process(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nemo"));
        for name in DOCUMENTED_ENV.iter().chain(&UNDOCUMENTED_ENV) {
            cmd.env_remove(name);
        }
        cmd.env("HOME", self.home())
            .env("USERPROFILE", self.home())
            .env("NEMO_CONFIG_DIR", self.config_dir())
            .env("NEMO_API_URL", &self.emu.api_url)
            .env("NEMO_WEB_URL", WEB_URL)
            .env("NO_PROXY", "127.0.0.1,localhost");
        cmd
    }

    /// Logs in anonymously and returns the token.
    pub fn login(&self) -> String {
        self.nemo().args(["auth", "login"]).assert().success();
        self.stored_token().expect("a stored token")
    }

    /// Logs in and creates a session; returns its id.
    pub fn session(&self) -> String {
        let out = self.nemo().args(["session", "new"]).assert().success();
        String::from_utf8(out.get_output().stdout.clone())
            .unwrap()
            .trim()
            .to_string()
    }

    /// Puts `draft` into session `sid`'s state on this test's emulator.
    pub fn set_draft(&self, sid: &str, draft: Value) {
        self.emu.with_state(|s| {
            s.sessions.get_mut(sid).expect("the session exists").state["draft"] = draft;
        });
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.emu.requests()
    }

    /// Requests to one path.
    pub fn requests_to(&self, path_start: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(path_start))
            .collect()
    }
}

/// `nemo ARGS` under `ulimit -f 0` (SIGXFSZ ignored, so a write of any
/// content fails with "file too large" instead of killing the process):
/// files can be created empty, never written — a full disk, as far as
/// nemo can tell.
#[cfg(unix)]
pub fn no_room(env: &Env, args: &[&str]) -> Command {
    let nemo = env.nemo_process();
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c")
        .arg("ulimit -f 0; trap '' XFSZ; exec \"$0\" \"$@\"")
        .arg(nemo.get_program())
        .args(args)
        .current_dir(env.tmp.path());
    for (name, value) in nemo.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    let mut cmd = Command::from_std(sh);
    cmd.timeout(std::time::Duration::from_secs(60));
    cmd
}

/// stdout of a finished command, as text.
pub fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stdout).into_owned()
}

/// stderr of a finished command, as text.
pub fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&out.get_output().stderr).into_owned()
}

/// stdout parsed as one JSON document.
pub fn json(out: &assert_cmd::assert::Assert) -> Value {
    let text = stdout(out);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {text:?}"))
}
