//! The `--sandbox` state shared by processes (issue 20): locked per
//! request, never for a whole command (an open interactive chat blocks
//! nobody; a wait over a second says so); its links open as files; `nemo
//! sandbox credits` reaches a running emulator; `nemo sandbox` stops with
//! 130; its start-up errors name what is wrong; proxies are not used for
//! it; the state survives SIGTERM during an export; the open-file limit is
//! reported as what it is.

use std::fs::OpenOptions;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{Env, stderr, stdout};
use crate::live::Live;

/// `nemo --sandbox ARGS` in the test's temp dir (its own emulator unused).
fn sandbox(env: &Env, args: &[&str]) -> Command {
    let mut cmd = Command::from_std(sandbox_process(env, args));
    cmd.timeout(Duration::from_secs(30));
    cmd
}

/// The same, as a process to start and watch.
fn sandbox_process(env: &Env, args: &[&str]) -> std::process::Command {
    let mut cmd = env.nemo_process();
    cmd.current_dir(env.tmp.path())
        .env_remove("NEMO_API_URL")
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .arg("--sandbox")
        .args(args);
    cmd
}

#[cfg(target_os = "linux")]
#[test]
fn an_open_interactive_chat_blocks_no_other_sandbox_command() {
    let env = Env::new();
    let bin = env!("CARGO_BIN_EXE_nemo");
    let mut chat = Live::on_terminal(
        &format!("'{bin}' --sandbox chat"),
        &[
            ("HOME", env.home().as_os_str()),
            ("NEMO_CONFIG_DIR", env.config_dir().as_os_str()),
        ],
    );
    assert!(
        chat.wait_for("Chatting in session", Duration::from_secs(30)),
        "the prompt opened: {}",
        chat.stdout()
    );
    // The chat's own out-of-credits advice, and any other command, run now.
    let set = env
        .nemo()
        .env_remove("NEMO_API_URL")
        .args(["sandbox", "credits", "500"])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    assert_eq!(stdout(&set), "Sandbox balance: 500 credits\n");
    let out = sandbox(&env, &["credits", "--jq", ".available"])
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    assert_eq!(stdout(&out), "500\n");
    use std::io::Write;
    let stdin = chat.stdin.as_mut().expect("stdin");
    stdin.write_all(b"/quit\n").unwrap();
    assert_eq!(chat.finish(Duration::from_secs(30)), Some(0));
}

#[test]
fn a_wait_for_the_sandbox_lock_over_a_second_says_so() {
    let env = Env::new();
    sandbox(&env, &["credits"]).assert().success();
    // Another process holds the state's lock.
    let lock_path = env.config_dir().join("sandbox/emulator.lock");
    let lock = OpenOptions::new().write(true).open(&lock_path).unwrap();
    lock.lock().unwrap();
    let mut waiting = Live::start(sandbox_process(&env, &["credits"]));
    let said = waiting.wait_for("Waiting for another", Duration::from_secs(20));
    lock.unlock().unwrap();
    let code = waiting.finish(Duration::from_secs(30));
    assert!(said, "stderr: {}", waiting.stderr());
    assert!(
        waiting.stderr().contains("emulator.lock"),
        "{}",
        waiting.stderr()
    );
    assert_eq!(code, Some(0), "{}", waiting.stderr());
    assert!(
        waiting.stdout().starts_with("available 100\n"),
        "{}",
        waiting.stdout()
    );
}

#[test]
fn sandbox_links_are_files_that_exist_and_the_credits_hint_stays_in_the_sandbox() {
    let env = Env::new();
    sandbox(&env, &["session", "new", "--name", "links"])
        .assert()
        .success();
    let open = sandbox(&env, &["session", "open"]).assert().success();
    let url = stdout(&open).trim().to_string();
    let path = url.strip_prefix("file://").expect("a file:// link");
    let page = std::fs::read_to_string(path).expect("the page exists");
    assert!(page.contains("Project: links"), "{page}");
    assert!(path.contains("/sandbox/pages/"), "{path}");
    // generate, short of credits: the sandbox's own way to get more.
    env.nemo()
        .env_remove("NEMO_API_URL")
        .args(["sandbox", "credits", "0"])
        .assert()
        .success();
    let broke = sandbox(&env, &["generate", "a panda", "-o", "p.mp4"])
        .assert()
        .code(4);
    let text = stderr(&broke);
    assert!(text.contains("nemo --sandbox sandbox credits"), "{text}");
    assert!(!text.contains("http://"), "{text}");
}

#[test]
fn the_project_line_after_a_sandbox_export_opens() {
    let env = Env::new();
    let faults = env.tmp.path().join("fast.json");
    std::fs::write(&faults, r#"{"render_ms": 200}"#).unwrap();
    sandbox(&env, &["chat", "generate a 5-second video of waves"])
        .assert()
        .success();
    let out = sandbox(&env, &["export", "-o", "w.mp4", "--poll-interval", "0.2"])
        .env("NEMO_SANDBOX_FAULTS", &faults)
        .assert()
        .success();
    let text = stderr(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("Project: "))
        .unwrap_or_else(|| panic!("a Project: line in {text}"));
    let path = line["Project: file://".len()..].trim();
    assert!(std::fs::read_to_string(path).is_ok(), "{line}");
}

#[test]
fn sandbox_credits_sets_the_balance_of_the_running_emulator_and_ctrl_c_exits_130() {
    let env = Env::new();
    let mut serve = Live::start({
        let mut cmd = env.nemo_process();
        cmd.env_remove("NEMO_API_URL").args(["sandbox"]);
        cmd
    });
    assert!(
        serve.wait_for("Ctrl-C to stop", Duration::from_secs(30)),
        "{}",
        serve.stderr()
    );
    let url = serve
        .stdout()
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("NEMO_API_URL="))
        .expect("the URL line")
        .to_string();
    let set = env
        .nemo()
        .env("NEMO_API_URL", &url)
        .args(["sandbox", "credits", "700", "--json"])
        .assert()
        .success();
    let doc: Value = serde_json::from_str(&stdout(&set)).unwrap();
    assert_eq!(doc["available"], 700);
    let balance = env
        .nemo()
        .env("NEMO_API_URL", &url)
        .args(["credits", "--jq", ".available"])
        .assert()
        .success();
    assert_eq!(stdout(&balance), "700\n");
    // The --sandbox state was left alone.
    assert!(!env.config_dir().join("sandbox/emulator.json").exists());
    Live::signal(serve.child.id(), "INT");
    assert_eq!(serve.finish(Duration::from_secs(30)), Some(130));
}

#[test]
fn sandbox_start_up_errors_name_what_is_wrong() {
    let env = Env::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = env
        .nemo()
        .args(["sandbox", "--port", &port])
        .assert()
        .failure();
    let text = stderr(&out);
    assert!(text.contains(&format!("--port {port}")), "{text}");
    assert!(text.contains("in use"), "{text}");
    let out = env
        .nemo()
        .args(["sandbox", "--fault", "render_ms=abc"])
        .assert()
        .code(2);
    let text = stderr(&out);
    assert!(text.contains("render_ms must be a whole number"), "{text}");
    assert!(!text.contains("invalid type"), "{text}");
    let out = env
        .nemo()
        .args(["sandbox", "--faults", "nosuch.json"])
        .current_dir(env.tmp.path())
        .assert()
        .code(2);
    let text = stderr(&out);
    assert!(
        text.contains("nosuch.json: the file does not exist"),
        "{text}"
    );
    assert!(!text.contains("os error"), "{text}");
}

#[test]
fn proxies_in_the_environment_are_not_used_for_the_in_process_emulator() {
    let env = Env::new();
    for var in ["HTTP_PROXY", "ALL_PROXY", "http_proxy"] {
        let out = sandbox(&env, &["credits", "--jq", ".available"])
            .env_remove("NO_PROXY")
            .env(var, "http://127.0.0.1:9")
            .assert()
            .success();
        assert_eq!(stdout(&out), "100\n", "{var}");
    }
}

#[cfg(unix)]
#[test]
fn after_sigterm_during_a_sandbox_export_resume_finds_the_render() {
    let env = Env::new();
    let faults = env.tmp.path().join("slow.json");
    std::fs::write(&faults, r#"{"render_ms": 3000}"#).unwrap();
    sandbox(&env, &["chat", "generate a 5-second video of waves"])
        .assert()
        .success();
    let mut export = Live::start({
        let mut cmd = sandbox_process(&env, &["export", "-o", "w.mp4", "--poll-interval", "0.2"]);
        cmd.env("NEMO_SANDBOX_FAULTS", &faults);
        cmd
    });
    // It polls: the render was submitted and recorded.
    assert!(
        export.wait_for("pending", Duration::from_secs(30)),
        "{}",
        export.stderr()
    );
    Live::signal(export.child.id(), "TERM");
    let code = export.finish(Duration::from_secs(30));
    let text = export.stderr();
    assert_eq!(code, Some(143), "{text}");
    assert!(text.contains("nemo --sandbox export resume"), "{text}");
    let left: Vec<String> = std::fs::read_dir(env.tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let out = sandbox(
        &env,
        &["export", "resume", "-o", "w.mp4", "--poll-interval", "0.2"],
    )
    .env("NEMO_SANDBOX_FAULTS", &faults)
    .assert()
    .success();
    assert!(stdout(&out).contains("w.mp4"), "{}", stderr(&out));
}

/// `nemo ARGS` under `ulimit -n LIMIT` (through sh).
#[cfg(unix)]
fn limited(env: &Env, limit: u32, args: &str) -> assert_cmd::assert::Assert {
    let bin = env!("CARGO_BIN_EXE_nemo");
    let cmd = env.nemo_process();
    let line = format!("ulimit -n {limit} && exec '{bin}' {args}");
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg(line).current_dir(env.tmp.path());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => sh.env(name, value),
            None => sh.env_remove(name),
        };
    }
    Command::from_std(sh)
        .timeout(Duration::from_secs(30))
        .assert()
}

#[cfg(unix)]
#[test]
fn too_few_open_files_is_a_clear_local_error_never_a_panic() {
    let env = Env::new();
    for limit in [7, 8, 10] {
        let out = limited(&env, limit, "--sandbox credits").failure();
        let text = stderr(&out);
        assert!(!text.contains("panicked"), "ulimit -n {limit}: {text}");
        assert!(
            text.contains("too many open files"),
            "ulimit -n {limit}: {text}"
        );
        assert!(!text.contains("check your connection"), "{text}");
        assert!(!text.contains("damaged"), "{text}");
        assert_eq!(out.get_output().status.code(), Some(1), "{text}");
    }
}

#[test]
fn sandbox_exports_run_side_by_side() {
    let env = Env::new();
    let faults = env.tmp.path().join("slow.json");
    std::fs::write(&faults, r#"{"render_ms": 6000}"#).unwrap();
    sandbox(&env, &["chat", "generate a 5-second video of waves"])
        .assert()
        .success();
    let mut first = Live::start({
        let mut cmd = sandbox_process(&env, &["export", "-o", "a.mp4", "--poll-interval", "0.2"]);
        cmd.env("NEMO_SANDBOX_FAULTS", &faults);
        cmd
    });
    assert!(
        first.wait_for("pending", Duration::from_secs(30)),
        "{}",
        first.stderr()
    );
    // A second export submits and comes back while the first still waits.
    let second = sandbox(&env, &["export", "--no-wait", "--force"])
        .env("NEMO_SANDBOX_FAULTS", &faults)
        .timeout(Duration::from_secs(20))
        .assert()
        .success();
    assert!(
        stdout(&second).starts_with("render_"),
        "{}",
        stdout(&second)
    );
    assert!(
        first.child.try_wait().unwrap().is_none(),
        "the first export was still running: {}",
        first.stderr()
    );
    assert_eq!(
        first.finish(Duration::from_secs(60)),
        Some(0),
        "{}",
        first.stderr()
    );
    assert!(env.tmp.path().join("a.mp4").exists());
}
