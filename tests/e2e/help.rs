//! Help that reads well: `nemo` alone, help topics, the global options under
//! their own heading, man pages from the one clap definition.

use crate::common::{Env, stderr, stdout};

#[test]
fn nemo_alone_prints_the_help_and_exits_0() {
    let env = Env::new();
    let out = env.nemo().assert().success();
    let text = stdout(&out);
    assert!(text.starts_with("Describe a video in words"), "{text}");
    assert!(
        text.contains("\nUsage: nemo [OPTIONS] <COMMAND>\n"),
        "{text}"
    );
    assert_eq!(stderr(&out), "");
    // A group without its subcommand is still a usage error.
    env.nemo().arg("auth").assert().code(2);
    // Typo suggestions stay on.
    let out = env.nemo().arg("credit").assert().code(2);
    assert!(
        stderr(&out).contains("similar subcommand exists: 'credits'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_topics_exit_codes_and_environment() {
    let env = Env::new();
    let out = env.nemo().args(["help", "exit-codes"]).assert().success();
    let text = stdout(&out);
    for code in [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "130",
    ] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "exit code {code} missing:\n{text}"
        );
    }
    let out = env.nemo().args(["help", "environment"]).assert().success();
    let text = stdout(&out);
    // Every variable the test harness scrubs (that is, every one nemo
    // reads, bar the hidden test switches) is documented.
    for name in [
        "NEMO_API_URL",
        "NEMO_WEB_URL",
        "NEMO_CONFIG_DIR",
        "NEMO_SESSION",
        "NEMO_SKILL",
        "NEMO_SKILL_VERSION",
        "NEMO_TOKEN",
        "NEMO_CLIENT_ID",
        "NEMO_RATE_LIMIT_WAIT",
        "SKILL_SOURCE",
        "NO_COLOR",
        "LC_ALL",
        "LANG",
        "XDG_CONFIG_HOME",
        "HTTPS_PROXY",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    // `help COMMAND` is that command's help, plain text when piped.
    let out = env
        .nemo()
        .args(["help", "export", "resume"])
        .assert()
        .success();
    let text = stdout(&out);
    assert!(text.starts_with("Wait for a render"), "{text}");
    assert!(!text.contains('\x1b'), "{text:?}");
    let out = env.nemo().args(["help", "exit-code"]).assert().code(2);
    assert_eq!(
        stderr(&out),
        "error: no command or help topic \"exit-code\"\nhint: topics: exit-codes, environment; commands: `nemo --help`\n"
    );
}

#[test]
fn a_commands_own_options_come_first_then_the_global_ones() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["credits", "--help"])
        .env("NEMO_API_URL", "")
        .env("NEMO_TOKEN", "nmv_usr_secret_value")
        .assert()
        .success();
    let text = stdout(&out);
    let own = text
        .find("\nOptions:\n      --min <N>")
        .expect("own options first");
    let global = text
        .find("\nGlobal options:\n      --api-url <URL>")
        .expect("global heading");
    assert!(own < global, "{text}");
    // Env values are never shown: not empty ones, not secrets.
    assert!(text.contains("[env: NEMO_API_URL]"), "{text}");
    assert!(!text.contains("NEMO_API_URL="), "{text}");
    assert!(!text.contains("secret_value"), "{text}");
}

#[test]
fn man_pages_one_per_command() {
    let env = Env::new();
    let out = env.nemo().arg("man").assert().success();
    let page = stdout(&out);
    assert!(page.contains(".TH nemo 1"), "{page}");
    assert!(page.contains("NemoVideo"), "{page}");
    let dir = env.tmp.path().join("man1");
    let out = env.nemo().arg("man").arg(&dir).assert().success();
    let listed: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    for name in [
        "nemo.1",
        "nemo-export-resume.1",
        "nemo-auth-login.1",
        "nemo-help.1",
    ] {
        let path = dir.join(name);
        assert!(
            listed.contains(&path.display().to_string()),
            "{name} not listed"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(".TH "), "{name}");
    }
    let resume = std::fs::read_to_string(dir.join("nemo-export-resume.1")).unwrap();
    assert!(resume.contains("RENDER_ID"), "{resume}");
    // One file a page, and no temp files left behind.
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, listed.len());
    assert!(env.requests().is_empty());
}
