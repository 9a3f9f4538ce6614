//! Snapshot tests (insta) of what every command shows a person: the exit
//! code, stdout and stderr of one run, together in one snapshot each, plus a
//! few `--json` documents. They guard moves of the code that must change no
//! behaviour; they run the real binary from outside and know nothing of its
//! insides.
//!
//! What changes from run to run (ids, tokens, ports, temp paths, dates,
//! relative times) is replaced by a placeholder before comparing: values a
//! test knows exactly are replaced by name first ([`Shot::name`]), then the
//! regular filters of [`settings`] catch the rest. Review changes with
//! `cargo insta review` (or rerun with `INSTA_UPDATE=always` and read the
//! diff); never accept a snapshot that shows a token, a Rust `Debug` dump or
//! a raw HTTP body.

mod auth;
mod batch;
mod chat;
mod credits;
mod doctor;
mod errors;
mod export;
mod generate;
mod help;
mod json;
mod sandbox;
mod session;
mod state;
mod upload;

use assert_cmd::Command;

use crate::common::Env;

/// The filters every snapshot goes through, in order.
fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    for (pattern, replacement) in [
        // Secrets and ids the emulator makes up.
        (r"nmv_usr_[0-9a-f]{32}", "[TOKEN]"),
        (r"anon_[0-9a-f]{32}", "anon_[USER]"),
        (r"task_[0-9a-f]{32}", "task_[TASK]"),
        (r"clm_[0-9A-Za-z]+", "clm_[CLAIM]"),
        (r"render_\d{13}", "render_[MS]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[UUID]",
        ),
        // Numeric session ids like the service's.
        (r"\b\d{19}\b", "[SESSION]"),
        // Dates and times relative to now.
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "[DATE]",
        ),
        (r"\(in \d+ [a-z]+\)", "(in [DURATION])"),
        // Time spent waiting, measured by the clock.
        (r"\bafter \d+(\.\d+)? ?(ms|s|m|h)\b", "after [ELAPSED]"),
        // Loopback ports of the emulator and its CDN.
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
        // Temp folders not named exactly by the test.
        (r"/tmp/\.tmp[0-9A-Za-z]+", "[TMP]"),
        // What the OS says about a refused connection differs by OS.
        (
            r"(cannot connect to 127\.0\.0\.1:\[PORT\]): .*",
            "$1: [OS ERROR]",
        ),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// A logged-in env whose agent answers at once and whose renders finish
/// at once (no timing in the output), with credits for a few generations.
fn instant_env() -> Env {
    let env = Env::new();
    env.login();
    env.emu.with_state(|s| {
        s.faults.chat.chat_pace_ms = 0;
        s.faults.chat.chat_tool_ms = 0;
        s.faults.render.render_ms = 0;
        for user in s.users.values_mut() {
            user.available = 1000;
        }
    });
    env
}

/// One finished run, shown as a person sees it.
pub struct Shot {
    text: String,
}

impl Shot {
    /// Runs `cmd` to the end (it must not be a run that hangs).
    pub fn of(env: &Env, cmd: &mut Command) -> Shot {
        let output = cmd.env_remove("COLUMNS").output().expect("run nemo");
        let code = match output.status.code() {
            Some(code) => code.to_string(),
            None => format!("{:?}", output.status),
        };
        Shot::from_parts(
            env,
            &code,
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
        )
    }

    /// A shot from an exit code and the two streams.
    pub fn from_parts(env: &Env, code: &str, stdout: &str, stderr: &str) -> Shot {
        let text = format!(
            "exit: {code}\n--- stdout\n{}--- stderr\n{}",
            ended(stdout),
            ended(stderr)
        );
        let tmp = env.tmp.path();
        let mut shot = Shot { text };
        // The canonical form first (macOS: /private/var/… for /var/…).
        if let Ok(canonical) = tmp.canonicalize() {
            shot = shot.name(&canonical.display().to_string(), "[TMP]");
        }
        shot = shot.name(&tmp.display().to_string(), "[TMP]");
        shot.text = forward_slashes_after_tmp(&shot.text);
        shot
    }

    /// Replaces an exact value the test knows (a path, an id) by a name.
    pub fn name(mut self, value: &str, placeholder: &str) -> Shot {
        if !value.is_empty() {
            self.text = self.text.replace(value, placeholder);
        }
        self
    }

    /// The exit code this run ended with.
    pub fn code(&self) -> &str {
        self.text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("exit: "))
            .unwrap_or("")
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// `[TMP]\config\x` → `[TMP]/config/x`, so Windows paths snapshot alike.
fn forward_slashes_after_tmp(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("[TMP]") {
        let (before, after) = rest.split_at(at + "[TMP]".len());
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == ']')
            .unwrap_or(after.len());
        out.push_str(&after[..end].replace('\\', "/"));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A stream as shown in a snapshot: a missing last newline is marked, so
/// it cannot hide in the layout.
fn ended(stream: &str) -> String {
    if stream.is_empty() || stream.ends_with('\n') {
        stream.to_string()
    } else {
        format!("{stream}[no newline at end]\n")
    }
}

/// Asserts a named snapshot of a run through the filters.
macro_rules! snap {
    ($name:expr, $shot:expr) => {{
        let shot: &$crate::snapshots::Shot = &$shot;
        $crate::snapshots::settings_bound(|| insta::assert_snapshot!($name, shot.text()));
    }};
}
pub(crate) use snap;

/// Runs `f` with the snapshot filters bound.
pub fn settings_bound(f: impl FnOnce()) {
    settings().bind(f)
}

/// `nemo …` in the test's temp folder (relative paths print as given).
pub fn nemo_in_tmp(env: &Env) -> Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path());
    cmd
}
