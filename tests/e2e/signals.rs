//! Signals on a terminal (issue 20, under a pty that util-linux `script`
//! gives nemo): SIGTERM, SIGHUP or an external SIGINT at the interactive
//! prompt ends nemo with 143, 129 or 130 and the terminal as it was (no
//! raw mode, bracketed paste off); text typed during an export's progress
//! is not echoed into its line.

#![cfg(target_os = "linux")]

use std::ffi::OsStr;
use std::io::Write;
use std::time::Duration;

use crate::common::Env;
use crate::live::Live;

const BIN: &str = env!("CARGO_BIN_EXE_nemo");

fn vars(env: &Env) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("HOME", env.home().into_os_string()),
        ("NEMO_CONFIG_DIR", env.config_dir().into_os_string()),
        ("NEMO_CHAT_TIME_SCALE", "0.01".into()),
    ]
}

fn at_the_prompt_then(signal: &str, code: i32) {
    let env = Env::new();
    let vars = vars(&env);
    let vars: Vec<(&str, &OsStr)> = vars.iter().map(|(n, v)| (*n, v.as_os_str())).collect();
    let line = format!("sh -c \"echo PID=\\$\\$; exec {BIN} --sandbox chat\"; echo RC=$?; stty -a");
    let mut chat = Live::on_terminal(&line, &vars);
    assert!(
        chat.wait_for("nemo›", Duration::from_secs(30)),
        "{}",
        chat.stdout()
    );
    let screen = chat.stdout();
    let pid: u32 = screen
        .split("PID=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|pid| pid.parse().ok())
        .expect("the pid line");
    Live::signal(pid, signal);
    assert!(
        chat.wait_for("RC=", Duration::from_secs(30)),
        "{}",
        chat.stdout()
    );
    assert_eq!(chat.finish(Duration::from_secs(30)), Some(0));
    let screen = chat.stdout();
    let (during, after) = screen.split_once("RC=").expect("RC=");
    assert!(
        after.starts_with(&code.to_string()),
        "SIG{signal}: RC={after}"
    );
    assert!(after.contains(" icanon"), "{after}");
    assert!(!after.contains("-icanon"), "{after}");
    assert!(!after.contains("-echo "), "{after}");
    let on = during.rfind("\x1b[?2004h");
    let off = during.rfind("\x1b[?2004l");
    assert!(
        on.is_none() || off > on,
        "bracketed paste left on: {during:?}"
    );
}

#[test]
fn sigterm_at_the_prompt_restores_the_terminal_and_exits_143() {
    at_the_prompt_then("TERM", 143);
}

#[test]
fn sighup_at_the_prompt_restores_the_terminal_and_exits_129() {
    at_the_prompt_then("HUP", 129);
}

#[test]
fn an_external_sigint_at_the_prompt_restores_the_terminal_and_exits_130() {
    at_the_prompt_then("INT", 130);
}

#[test]
fn text_typed_during_an_interactive_export_is_not_echoed_into_its_progress() {
    let env = Env::new();
    let faults = env.tmp.path().join("slow.json");
    std::fs::write(&faults, r#"{"render_ms": 2500}"#).unwrap();
    env.nemo()
        .current_dir(env.tmp.path())
        .env_remove("NEMO_API_URL")
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .args(["--sandbox", "chat", "generate a 5-second video of waves"])
        .assert()
        .success();
    let mut vars = vars(&env);
    vars.push(("NEMO_SANDBOX_FAULTS", faults.into_os_string()));
    let vars: Vec<(&str, &OsStr)> = vars.iter().map(|(n, v)| (*n, v.as_os_str())).collect();
    let out = env.tmp.path().join("w.mp4");
    let line = format!(
        "{BIN} --sandbox export -o '{}' --poll-interval 0.2",
        out.display()
    );
    let mut export = Live::on_terminal(&line, &vars);
    assert!(
        export.wait_for("processing", Duration::from_secs(30)),
        "{}",
        export.stdout()
    );
    let stdin = export.stdin.as_mut().expect("stdin");
    stdin.write_all(b"typedwhileitran\n").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(export.finish(Duration::from_secs(60)), Some(0));
    assert!(out.exists(), "{}", export.stdout());
    assert!(
        !export.stdout().contains("typedwhileitran"),
        "{:?}",
        export.stdout()
    );
}
