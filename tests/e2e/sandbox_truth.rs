//! The sandbox tells the truth: under `--sandbox` every command nemo
//! suggests carries `--sandbox` and every link it prints stays on this machine
//! (checked by scanning the output of every command and its main failure
//! paths); `nemo sandbox reset` and `nemo sandbox credits N`; the README's
//! main job runs twice in a row on one checkout.

use std::path::Path;

use crate::common::{Env, stderr, stdout};

/// The hidden switch that gives the `--sandbox` emulator a quick pace: these
/// tests check what the sandbox says, not how long its agent takes.
const QUICK: &str = "NEMO_SANDBOX_QUICK";

/// nemo's top-level command names, read from `nemo --help`.
fn command_names(env: &Env) -> Vec<String> {
    let text = stdout(&env.nemo().arg("--help").assert().success());
    let names: Vec<String> = text
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 10, "the walk found commands: {names:?}");
    names
}

/// The problems in `text`: suggested `nemo …` commands without
/// `--sandbox`, and links that leave loopback.
pub fn untruths(text: &str, commands: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("nemo ") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || "_-./\\".contains(c)) {
            continue;
        }
        let word = text[at + 5..]
            .split(|c: char| c.is_whitespace() || "`'\"),".contains(c))
            .next()
            .unwrap_or("");
        let is_command = commands.iter().any(|c| c == word) || word.starts_with('-');
        if is_command && word != "--sandbox" {
            let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
            found.push(format!("command without --sandbox: {}", &text[at..end]));
        }
    }
    for scheme in ["http://", "https://"] {
        for (at, _) in text.match_indices(scheme) {
            let host: String = text[at + scheme.len()..]
                .chars()
                .take_while(|c| !matches!(c, '/' | ':' | '?' | '#') && !c.is_whitespace())
                .collect();
            if host != "127.0.0.1" && host != "localhost" {
                let end = text[at..]
                    .find(char::is_whitespace)
                    .map_or(text.len(), |n| at + n);
                found.push(format!("link off loopback: {}", &text[at..end]));
            }
        }
    }
    found
}

/// Runs `nemo --sandbox ARGS` (with a `NEMO_TOKEN` and a real web URL set,
/// which the sandbox must ignore), checks its exit code and returns
/// stdout and stderr together. At the quick pace, but for a wait with a
/// `--timeout`: its render must outlast the timeout, at the sandbox's pace.
/// A 429 is retried at once: what is said about it is checked here, not
/// the 30 s wait before the retry.
fn sandboxed(env: &Env, dir: &Path, args: &[&str], code: i32) -> String {
    let mut nemo = env.nemo();
    nemo.env("NEMO_RATE_LIMIT_WAIT", "0");
    if !args.contains(&"--timeout") {
        nemo.env(QUICK, "1");
    }
    let out = nemo
        .current_dir(dir)
        .env("NEMO_TOKEN", "nmv_real_token_the_sandbox_ignores")
        .env("NEMO_WEB_URL", "https://nemovideo.com")
        .arg("--sandbox")
        .args(args)
        .assert()
        .code(code);
    format!("{}{}", stdout(&out), stderr(&out))
}

/// The first render id in `text`.
fn render_id(text: &str) -> String {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("render_"))
        .expect("a render id")
        .to_string()
}

#[test]
fn under_sandbox_no_suggestion_leads_out_and_no_link_leaves_loopback() {
    let env = Env::new();
    let commands = command_names(&env);
    let dir = env.tmp.path().join("work");
    std::fs::create_dir_all(&dir).unwrap();
    let mut transcript = Vec::new();
    let mut run = |args: &[&str], code: i32| {
        let text = sandboxed(&env, &dir, args, code);
        transcript.push((args.join(" "), text.clone()));
        text
    };
    // Before any login: the token is not there, the state is empty.
    run(&["auth", "token"], 3);
    run(&["auth", "status"], 3);
    run(&["state"], 0);
    run(&["export"], 7);
    run(&["export", "list"], 0);
    run(&["session", "show"], 0);
    run(&["session", "list"], 0);
    run(&["session", "use", "4242"], 10);
    run(&["session", "new", "--name", "truth"], 0);
    run(&["session", "open"], 0);
    run(&["credits", "--min", "1000"], 4);
    run(
        &["chat", "generate a 10-second video of a panda walking"],
        0,
    );
    run(&["state"], 0);
    // The agent talks as if there were a GUI: nemo's translation of it.
    run(&["chat", "export it for me, please"], 0);
    let no_wait = run(&["export", "--no-wait"], 0);
    let id = render_id(&no_wait);
    run(
        &[
            "export",
            "resume",
            &id,
            "-o",
            "a.mp4",
            "--poll-interval",
            "0.2",
        ],
        0,
    );
    run(&["export", "resume", &id, "-o", "a.mp4"], 7);
    run(&["export", "-o", "a.mp4"], 7);
    let late = run(&["export", "--timeout", "0.1", "--poll-interval", "0.1"], 8);
    let running = render_id(&late.replace(&id, ""));
    run(&["export", "list"], 0);
    run(&["export", "cancel", &running], 0);
    // Out of credits: the hint says what works in the sandbox.
    let set = env
        .nemo()
        .env_remove("NEMO_API_URL")
        .args(["sandbox", "credits", "0"])
        .assert()
        .success();
    assert_eq!(stdout(&set), "Sandbox balance: 0 credits\n");
    let broke = run(&["chat", "generate a 10-second video of a cat"], 4);
    assert!(broke.contains("nemo --sandbox sandbox credits"), "{broke}");
    // The one free token a week: logout and login again is refused.
    run(&["auth", "logout"], 0);
    let limited = run(&["auth", "login"], 6);
    assert!(
        limited.contains("nemo --sandbox sandbox reset"),
        "{limited}"
    );
    // After a reset, nothing is logged in.
    env.nemo().args(["sandbox", "reset"]).assert().success();
    let fresh = run(&["auth", "token"], 3);
    assert!(!fresh.contains("set NEMO_TOKEN"), "{fresh}");
    run(&["auth", "login"], 0);
    run(&["auth", "status"], 0);

    let mut problems = Vec::new();
    for (command, text) in &transcript {
        for problem in untruths(text, &commands) {
            problems.push(format!("nemo --sandbox {command}: {problem}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The scan saw suggestions and links, so it could have failed.
    let all: String = transcript.iter().map(|(_, t)| t.as_str()).collect();
    assert!(all.contains("nemo --sandbox export resume"), "{all}");
    // Links are the pages the sandbox wrote as files.
    assert!(all.contains("file:///"), "{all}");
}

/// The quick pace is the asking process's own: the render it submits is
/// quick, and the sandbox's saved state keeps the pace it had.
#[test]
fn the_quick_pace_is_not_saved_with_the_sandbox() {
    use nemo_emulator::{Faults, Pace};
    let env = Env::new();
    let quick = |args: &[&str]| {
        env.nemo()
            .env(QUICK, "1")
            .arg("--sandbox")
            .args(args)
            .assert()
            .success()
    };
    quick(&["chat", "generate a 10-second video of a panda walking"]);
    quick(&["export", "--no-wait"]);
    let saved: serde_json::Value = serde_json::from_slice(
        &std::fs::read(env.config_dir().join("sandbox/emulator.json")).unwrap(),
    )
    .unwrap();
    let renders: Vec<_> = saved["renders"].as_object().unwrap().values().collect();
    assert_eq!(renders.len(), 1, "{saved}");
    assert_eq!(renders[0]["render_ms"], Pace::QUICK.render_ms);
    let pace = Faults::default().pace();
    assert_ne!(pace, Pace::QUICK);
    assert_eq!(saved["faults"]["render_ms"], pace.render_ms);
    assert_eq!(saved["faults"]["chat_pace_ms"], pace.chat_pace_ms);
    assert_eq!(saved["faults"]["chat_tool_ms"], pace.chat_tool_ms);
}

#[test]
fn the_scan_finds_what_leads_out() {
    let commands: Vec<String> = ["export", "auth"].iter().map(|s| s.to_string()).collect();
    assert_eq!(
        untruths("hint: run `nemo export resume r_1`", &commands).len(),
        1
    );
    assert_eq!(untruths("→ nemo auth login", &commands).len(), 1);
    assert_eq!(
        untruths("see https://nemovideo.com/?bind=u", &commands).len(),
        1
    );
    assert!(untruths("`nemo --sandbox export` http://127.0.0.1:5/x", &commands).is_empty());
    assert!(untruths("nemo keeps its settings in nemo-cli.json", &commands).is_empty());
}

#[test]
fn sandbox_reset_forgets_the_state_and_says_what_it_removed() {
    let env = Env::new();
    let empty = env.nemo().args(["sandbox", "reset"]).assert().success();
    assert!(
        stdout(&empty).contains("nothing to remove"),
        "{}",
        stdout(&empty)
    );
    env.nemo()
        .args(["--sandbox", "session", "new"])
        .assert()
        .success();
    let sandbox = env.config_dir().join("sandbox");
    assert!(sandbox.join("emulator.json").exists());
    let out = env
        .nemo()
        .args(["sandbox", "reset", "--json"])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        doc["removed"],
        serde_json::json!(["client_id", "emulator.json", "nemo-cli.json", "pages"])
    );
    assert!(!sandbox.join("emulator.json").exists());
    assert!(!sandbox.join("nemo-cli.json").exists());
    // The real config is not touched.
    assert!(!env.config_path().exists());
    // The old server form still parses; the two do not mix.
    env.nemo()
        .args(["sandbox", "--port", "1", "reset"])
        .assert()
        .code(2);
}

#[test]
fn sandbox_credits_sets_the_balance_and_creates_the_state_if_needed() {
    let env = Env::new();
    let out = env
        .nemo()
        .env_remove("NEMO_API_URL")
        .args(["sandbox", "credits", "250", "--json"])
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["available"], 250);
    let credits = env
        .nemo()
        .args(["--sandbox", "credits", "--json"])
        .assert()
        .success();
    let balance: serde_json::Value = serde_json::from_str(&stdout(&credits)).unwrap();
    assert_eq!(balance["available"], 250);
    // The same user keeps it; a second call changes it.
    env.nemo()
        .env_remove("NEMO_API_URL")
        .args(["sandbox", "credits", "3"])
        .assert()
        .success();
    let credits = env
        .nemo()
        .args(["--sandbox", "credits", "--min", "4"])
        .assert()
        .code(4);
    assert!(stdout(&credits).contains('3'), "{}", stdout(&credits));
    // A negative balance is a usage error.
    env.nemo()
        .args(["sandbox", "credits", "-5"])
        .assert()
        .code(2);
}

/// The first command of README.md's quick start, as a shell line.
#[cfg(unix)]
fn readme_main_job() -> String {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("## Quick start")
        .expect("README has a quick start");
    readme[start..]
        .lines()
        .find(|l| l.contains("cargo run") && l.contains("--sandbox"))
        .expect("the quick start's main job")
        .to_string()
}

/// Unix only: the README's line is a POSIX shell line.
#[cfg(unix)]
#[test]
fn the_readme_s_main_job_runs_twice_in_a_row_on_one_checkout() {
    let env = Env::new();
    let line = readme_main_job();
    let bin = env!("CARGO_BIN_EXE_nemo");
    let cmd = line.replace("cargo run -q --", &format!("'{bin}'"));
    assert_ne!(
        cmd, line,
        "the main job runs nemo through cargo run: {line}"
    );
    let checkout = env.tmp.path().join("checkout");
    std::fs::create_dir_all(&checkout).unwrap();
    for round in 1..=2 {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .current_dir(&checkout)
            .env_remove("NEMO_API_URL")
            .env_remove("NEMO_WEB_URL")
            .env_remove("NEMO_TOKEN")
            .env_remove("NEMO_SESSION")
            .env("HOME", env.home())
            .env("TMPDIR", env.tmp.path())
            .env("NEMO_CONFIG_DIR", env.config_dir())
            .env(QUICK, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "round {round}: {cmd}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mp4 = std::fs::read(env.tmp.path().join("nemo-demo/panda.mp4")).unwrap();
        assert_eq!(&mp4[4..8], b"ftyp", "round {round}: an MP4");
    }
}

/// The interactive prompt's advice (`/help`) under `--sandbox`, on a
/// terminal that util-linux `script` gives it (Linux only; a missing
/// `script` fails the test rather than pass without a terminal).
#[cfg(target_os = "linux")]
#[test]
fn the_prompt_s_advice_carries_sandbox() {
    let env = Env::new();
    let commands = command_names(&env);
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .expect("util-linux `script` is needed to give nemo a terminal");
    let line = format!("'{}' --sandbox chat", env!("CARGO_BIN_EXE_nemo"));
    let out = assert_cmd::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "dumb")
        .env("HOME", env.home())
        .env("NEMO_CONFIG_DIR", env.config_dir())
        .write_stdin("/help\n/quit\n")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success();
    let screen = stdout(&out).replace('\r', "");
    assert!(screen.contains("nemo --sandbox export"), "{screen}");
    assert!(screen.contains("nemo --sandbox upload PATH"), "{screen}");
    assert_eq!(untruths(&screen, &commands), Vec::<String>::new());
}
