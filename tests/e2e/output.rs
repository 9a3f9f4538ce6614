//! Output discipline and the request contract: headers on every request,
//! streams, JSON errors, broken pipes, secrets.

use predicates::prelude::*;

use crate::common::{Env, json, stderr, stdout};

#[test]
fn every_request_carries_the_attribution_headers() {
    let env = Env::new();
    env.session();
    env.nemo().arg("credits").assert().success();
    env.nemo().args(["session", "open"]).assert().success();
    let requests = env.requests();
    assert!(requests.len() >= 4);
    for r in &requests {
        assert_eq!(
            r.header("x-skill-source"),
            Some("nemo-cli"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.header("x-skill-version"),
            Some(env!("CARGO_PKG_VERSION")),
            "{}",
            r.path
        );
        assert_eq!(r.header("x-skill-platform"), Some("unknown"), "{}", r.path);
        if r.path != "/api/auth/anonymous-token" {
            assert!(
                r.header("authorization")
                    .unwrap()
                    .starts_with("Bearer nmv_usr_"),
                "{}",
                r.path
            );
        }
    }
}

#[test]
fn skill_flags_env_and_platform_are_sent() {
    let env = Env::new();
    env.nemo()
        .env("SKILL_SOURCE", "clawhub")
        .args(["--skill", "create-ai-video-free", "credits"])
        .assert()
        .success();
    let r = env.requests_to("/api/credits").pop().unwrap();
    assert_eq!(r.header("x-skill-source"), Some("create-ai-video-free"));
    assert_eq!(r.header("x-skill-version"), Some("1.0.0"));
    assert_eq!(r.header("x-skill-platform"), Some("clawhub"));

    env.nemo()
        .env("NEMO_SKILL", "my-bot")
        .env("NEMO_SKILL_VERSION", "2.3.4")
        .args(["credits"])
        .assert()
        .success();
    let r = env.requests_to("/api/credits").pop().unwrap();
    assert_eq!(r.header("x-skill-source"), Some("my-bot"));
    assert_eq!(r.header("x-skill-version"), Some("2.3.4"));
}

#[test]
fn global_flags_work_after_the_subcommand() {
    let env = Env::new();
    let doc = json(
        &env.nemo()
            .args(["credits", "--json", "-q"])
            .assert()
            .success(),
    );
    assert_eq!(doc["available"], 100);
}

#[test]
fn version_and_help() {
    let env = Env::new();
    env.nemo()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    for cmd in [
        vec!["credits"],
        vec!["auth", "login"],
        vec!["session", "new"],
        vec!["completions"],
    ] {
        let mut args = cmd.clone();
        args.push("--help");
        let out = env.nemo().args(&args).assert().success();
        assert!(
            stdout(&out).contains("Examples:"),
            "{cmd:?} --help has no example"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_json_has_an_error_document() {
    let env = Env::new();
    env.nemo()
        .arg("frobnicate")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error:"));
    let out = env
        .nemo()
        .args(["credits", "--min", "lots", "--json"])
        .assert()
        .code(2);
    assert_eq!(json(&out)["error"]["exit_code"], 2);
    let out = env
        .nemo()
        .args(["--api-url", "not a url", "credits"])
        .assert()
        .code(2);
    assert!(stderr(&out).starts_with("error: --api-url"));
    assert!(env.requests().is_empty());
}

#[test]
fn broken_pipe_is_not_an_error() {
    let env = Env::new();
    env.login();
    // A reader that closes at once: nemo must exit 0 quietly.
    let mut child = env
        .nemo_process()
        .args(["completions", "bash"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_token_appears_only_in_auth_token_output() {
    let env = Env::new();
    let token = env.login();
    let mut seen = Vec::new();
    for args in [
        vec!["-v", "credits"],
        vec!["-v", "--json", "credits"],
        vec!["-v", "session", "new"],
        vec!["-v", "session", "show"],
        vec!["-v", "session", "list", "--json"],
        vec!["-v", "session", "open"],
        vec!["-v", "auth", "status"],
        vec!["-v", "auth", "status", "--json"],
        vec!["-v", "auth", "login"],
        vec!["-v", "credits", "--min", "1000"],
    ] {
        let out = env.nemo().args(&args).assert();
        seen.push((args, stdout(&out), stderr(&out)));
    }
    for (args, out, err) in &seen {
        assert!(
            !out.contains(&token),
            "{args:?} printed the token on stdout"
        );
        assert!(
            !err.contains(&token),
            "{args:?} printed the token on stderr"
        );
    }
    // -v shows requests with the masked form.
    assert!(seen[0].2.contains("Bearer nmv_…****"), "{}", seen[0].2);
    // And nowhere in a URL the emulator saw.
    for r in env.requests() {
        assert!(!r.path.contains(&token) && !r.query.clone().unwrap_or_default().contains(&token));
    }
    env.nemo()
        .args(["auth", "token"])
        .assert()
        .success()
        .stdout(format!("{token}\n"));
}

#[test]
fn sandbox_flag_runs_offline_with_its_own_credentials() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_API_URL", "http://127.0.0.1:9")
        .env("NEMO_TOKEN", "nmv_usr_real_token")
        .args(["--sandbox", "credits", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out)["available"], 100);
    assert!(
        env.config_dir()
            .join("sandbox")
            .join("nemo-cli.json")
            .exists()
    );
    assert!(!env.config_path().exists(), "real config untouched");
    // The sandbox state persists: the same token is used next time.
    let first = std::fs::read_to_string(env.config_dir().join("sandbox/nemo-cli.json")).unwrap();
    env.nemo().args(["--sandbox", "credits"]).assert().success();
    let second = std::fs::read_to_string(env.config_dir().join("sandbox/nemo-cli.json")).unwrap();
    assert_eq!(first, second);
    assert!(env.requests().is_empty(), "the test's emulator saw nothing");
}

#[test]
fn sandbox_command_prints_the_url_first() {
    let env = Env::new();
    let mut child = env
        .nemo_process()
        .args(["sandbox"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
    }
    let url = line
        .trim()
        .strip_prefix("NEMO_API_URL=")
        .expect("first line names the URL")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let out = env
        .nemo()
        .env("NEMO_API_URL", &url)
        .args(["credits", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out)["available"], 100);
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn verbose_errors_show_their_cause_chain() {
    let env = Env::new();
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let quiet = env
        .nemo()
        .args(["--api-url", "http://127.0.0.1:9", "credits"])
        .env("NEMO_TOKEN", "nmv_usr_test_token")
        .assert()
        .code(9);
    assert!(!stderr(&quiet).contains("Caused by:"), "{}", stderr(&quiet));
    let verbose = env
        .nemo()
        .args(["-v", "--api-url", "http://127.0.0.1:9", "credits"])
        .env("NEMO_TOKEN", "nmv_usr_test_token")
        .assert()
        .code(9);
    let err = stderr(&verbose);
    let error_line = err
        .lines()
        .position(|l| l.starts_with("error: cannot connect"));
    let cause_line = err.lines().position(|l| l.starts_with("Caused by: "));
    assert!(
        matches!((error_line, cause_line), (Some(e), Some(c)) if c > e),
        "{err}"
    );
    assert!(!err.contains("nmv_usr_test_token"), "{err}");
}

/// Arguments that are not UTF-8 are usage errors naming them, never a panic
/// (exit 101), and nothing is sent.
#[cfg(unix)]
#[test]
fn arguments_that_are_not_utf8_are_usage_errors() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let bad = std::ffi::OsStr::from_bytes(b"hi\xff");
    for args in [
        vec![std::ffi::OsStr::new("chat"), bad],
        vec![
            std::ffi::OsStr::new("session"),
            std::ffi::OsStr::new("use"),
            bad,
        ],
        vec![bad],
    ] {
        let out = env.nemo().args(&args).assert().code(2);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
    let out = env
        .nemo()
        .args([std::ffi::OsStr::new("chat"), bad])
        .assert()
        .code(2);
    assert_eq!(
        stderr(&out),
        "error: the argument \"hi\\xFF\" is not valid UTF-8\nhint: only file paths may hold bytes that are not UTF-8\n"
    );
    let out = env
        .nemo()
        .args([
            std::ffi::OsStr::new("--json"),
            std::ffi::OsStr::new("chat"),
            bad,
        ])
        .assert()
        .code(2);
    assert_eq!(json(&out)["error"]["kind"], "usage");
    assert!(env.requests().is_empty());
}

/// A `NEMO_TOKEN` that cannot be sent is a usage error naming it — never
/// silently replaced by a fresh anonymous token (which would spend the
/// client id's one free token of the week).
#[cfg(unix)]
#[test]
fn a_token_that_is_not_utf8_is_refused_not_replaced() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let out = env
        .nemo()
        .arg("credits")
        .env("NEMO_TOKEN", std::ffi::OsStr::from_bytes(b"nmv_usr_\xff"))
        .assert()
        .code(2);
    assert!(
        stderr(&out).starts_with("error: the environment variable NEMO_TOKEN is not valid UTF-8"),
        "{}",
        stderr(&out)
    );
    assert!(env.requests().is_empty());
    assert_eq!(env.config(), serde_json::Value::Null);
}

/// Plain http to a host that is not loopback sends the token in clear:
/// nemo says so before sending anything. Loopback (the emulator) does not
/// warn. (0.0.0.0:9 is not loopback by name, yet nothing leaves the machine.)
#[test]
fn cleartext_http_to_another_host_warns() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["--api-url", "http://0.0.0.0:9", "credits"])
        .env("NEMO_TOKEN", "nmv_usr_test_token_123")
        .assert()
        .code(9);
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "warning: the API URL uses plain http to 0.0.0.0, which is not this machine"
        ),
        "{err}"
    );
    let out = env.nemo().arg("credits").assert().success();
    assert!(!stderr(&out).contains("plain http"), "{}", stderr(&out));
}

/// The hidden `NEMO_PRETEND_TTY` switch: the printer alone decides what a
/// terminal is, so pretending is enough to get the terminal behaviour
/// (colour, progress bars instead of status lines) with pipes.
#[test]
fn pretending_stderr_is_a_terminal_gives_colour_and_progress_bars() {
    let env = Env::new();
    // Piped: a plain label.
    let out = env.nemo().args(["session", "show"]).assert().code(10);
    assert!(
        stderr(&out).starts_with("error: no current session\nhint: "),
        "{}",
        stderr(&out)
    );
    // Pretending: the labels are coloured, the rest of the bytes the same.
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stderr")
        .args(["session", "show"])
        .assert()
        .code(10);
    assert!(
        stderr(&out).starts_with(
            "\u{1b}[1;31merror:\u{1b}[0m no current session\n\u{1b}[1;36mhint:\u{1b}[0m "
        ),
        "{:?}",
        stderr(&out)
    );
    // NO_COLOR still wins over a (pretended) terminal.
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stderr")
        .env("NO_COLOR", "1")
        .args(["session", "show"])
        .assert()
        .code(10);
    assert!(stderr(&out).starts_with("error: no current session\n"));

    // Upload: piped, a status line; on a (pretended) terminal, a progress
    // bar in its place. stdout is the same either way.
    env.session();
    let file = env.tmp.path().join("pretend.mp4");
    std::fs::write(&file, vec![7u8; 64 * 1024]).unwrap();
    let path = file.to_string_lossy().into_owned();
    let piped = env.nemo().args(["upload", &path]).assert().success();
    assert_eq!(stderr(&piped), "Uploading pretend.mp4 (64.0 KB)…\n");
    let shown = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stdout,stderr")
        .args(["upload", &path])
        .assert()
        .success();
    assert_eq!(stdout(&shown), stdout(&piped));
    assert!(
        !stderr(&shown).contains("Uploading pretend.mp4"),
        "{}",
        stderr(&shown)
    );
    // The bar's sizes read as every other size nemo prints.
    assert!(
        stderr(&shown).contains("64.0 KB/64.0 KB"),
        "{}",
        stderr(&shown)
    );
    assert!(!stderr(&shown).contains("KiB"), "{}", stderr(&shown));
}

/// With stdout and stderr taken for terminals, chat draws its spinner on
/// stderr (named after the running tool) and stdout carries exactly the
/// text it carries when piped.
#[test]
fn pretending_both_streams_are_terminals_draws_the_chat_spinner() {
    // Two accounts: a generation spends the free credits.
    let other = Env::new();
    other.session();
    let piped = other
        .nemo()
        .args(["chat", "generate a video of a fox"])
        .assert()
        .success();
    assert!(!stderr(&piped).contains("Working (generate_video)"));
    let env = Env::new();
    env.session();
    let shown = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stdout,stderr")
        .args(["chat", "generate a video of a fox"])
        .assert()
        .success();
    assert_eq!(stdout(&shown), stdout(&piped));
    assert!(
        stderr(&shown).contains("Working (generate_video)… ("),
        "{}",
        stderr(&shown)
    );
    assert!(!stderr(&shown).contains("Still working"));
}

/// A value that is not UTF-8 in any of the variables nemo reads as text is
/// a usage error that names the variable, before anything is sent.
#[cfg(unix)]
#[test]
fn variables_that_are_not_utf8_are_named() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    let bad = std::ffi::OsStr::from_bytes(b"x\xff");
    for name in [
        "NEMO_SESSION",
        "NEMO_API_URL",
        "NEMO_WEB_URL",
        "NEMO_SKILL",
        "NEMO_SKILL_VERSION",
        "NEMO_NO_INPUT",
    ] {
        let out = env.nemo().arg("credits").env(name, bad).assert().code(2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!(
                "error: the environment variable {name} is not valid UTF-8\n"
            )),
            "{name}: {err}"
        );
    }
    assert!(env.requests().is_empty());
}

/// A bad URL is reported under the name it was given by: the variable
/// when it came from the environment, the flag when typed.
#[test]
fn a_bad_api_url_names_where_it_came_from() {
    let env = Env::new();
    let out = env
        .nemo()
        .arg("credits")
        .env("NEMO_API_URL", "::not a url")
        .assert()
        .code(2);
    assert!(
        stderr(&out).starts_with("error: NEMO_API_URL \"::not a url\" is not a valid URL"),
        "{}",
        stderr(&out)
    );
    let out = env
        .nemo()
        .args(["--api-url", "::not a url", "credits"])
        .assert()
        .code(2);
    assert!(
        stderr(&out).starts_with("error: --api-url \"::not a url\" is not a valid URL"),
        "{}",
        stderr(&out)
    );
    let out = env
        .nemo()
        .arg("state")
        .env("NEMO_SESSION", "bad id!")
        .assert()
        .code(2);
    assert!(
        stderr(&out).starts_with("error: NEMO_SESSION \"bad id!\" is not a session id"),
        "{}",
        stderr(&out)
    );
}

/// `NEMO_SANDBOX=1` (or `true`) is `--sandbox`; `0`, `false` and empty are
/// off; anything else is a usage error. `--sandbox` (flag or variable)
/// with an explicit `--api-url` is a usage error, never a silent choice.
#[test]
fn the_sandbox_variable_and_its_conflict_with_api_url() {
    let env = Env::new();
    for on in ["1", "true", "TRUE"] {
        let out = env
            .nemo()
            .env("NEMO_SANDBOX", on)
            .args(["credits", "--json"])
            .assert()
            .success();
        assert_eq!(json(&out)["available"], 100, "NEMO_SANDBOX={on}");
    }
    assert!(
        env.requests().is_empty(),
        "the sandbox answered, not the test's emulator"
    );
    for off in ["0", "false", ""] {
        env.nemo()
            .env("NEMO_SANDBOX", off)
            .arg("credits")
            .assert()
            .success();
    }
    assert!(
        !env.requests().is_empty(),
        "off: the test's emulator answered"
    );
    let out = env
        .nemo()
        .env("NEMO_SANDBOX", "maybe")
        .arg("credits")
        .assert()
        .code(2);
    assert!(stderr(&out).contains("NEMO_SANDBOX"), "{}", stderr(&out));

    let before = env.requests().len();
    let out = env
        .nemo()
        .args([
            "--sandbox",
            "--api-url",
            &env.emu.api_url,
            "credits",
            "--json",
        ])
        .assert()
        .code(2);
    assert_eq!(json(&out)["error"]["kind"], "usage");
    assert!(stderr(&out).contains("--api-url"), "{}", stderr(&out));
    let out = env
        .nemo()
        .env("NEMO_SANDBOX", "1")
        .args(["--api-url", &env.emu.api_url, "credits"])
        .assert()
        .code(2);
    assert!(stderr(&out).contains("NEMO_SANDBOX"), "{}", stderr(&out));
    assert_eq!(env.requests().len(), before, "nothing sent");
}

/// A usage error under `--json` keeps clap's own sentence in the error
/// document: the bad value and what is allowed, not only "one of the
/// values isn't valid".
#[test]
fn json_usage_errors_keep_clap_s_sentence() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["export", "--format", "mp3", "--json"])
        .assert()
        .code(2);
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "usage");
    assert_eq!(doc["error"]["exit_code"], 2);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("'mp3'"), "{message}");
    assert!(message.contains("mp4, mov, webm, gif"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    let out = env.nemo().args(["generate", "--json"]).assert().code(2);
    let message = json(&out)["error"]["message"].as_str().unwrap().to_string();
    assert!(message.contains("<PROMPT>"), "{message}");
    assert!(env.requests().is_empty());
}

/// `--language` is a language tag, checked before anything is sent.
#[test]
fn a_language_that_is_no_tag_is_a_usage_error() {
    let env = Env::new();
    for command in [
        vec!["session", "new"],
        vec!["generate", "a panda", "--dry-run"],
    ] {
        let out = env
            .nemo()
            .args(&command)
            .args(["--language", "klingon!!"])
            .assert()
            .code(2);
        assert!(
            stderr(&out).starts_with("error: invalid value 'klingon!!' for '--language <LANG>'"),
            "{command:?}: {}",
            stderr(&out)
        );
    }
    assert!(env.requests().is_empty());
    let out = env
        .nemo()
        .args(["session", "new", "--language", "zh-CN", "--json"])
        .assert()
        .success();
    assert!(json(&out)["session_id"].is_string());
}

/// `NEMO_NO_INPUT` reads as it did when clap read it: `no`, `off`,
/// `false`, `0` and empty are off; anything else is on.
#[test]
fn the_no_input_variable_keeps_its_words() {
    let env = Env::new();
    let run = |value: &str| {
        let out = env
            .nemo()
            .env("NEMO_PRETEND_TTY", "stdin")
            .env("NEMO_NO_INPUT", value)
            .args(["auth", "login", "--with-token"])
            .write_stdin("")
            .assert()
            .code(2);
        stderr(&out)
    };
    for off in ["no", "off", "false", "0", ""] {
        let err = run(off);
        assert!(err.contains("Paste the token"), "{off:?}: {err}");
    }
    for on in ["1", "yes", "true"] {
        let err = run(on);
        assert!(err.contains("--no-input"), "{on:?}: {err}");
    }
    assert!(env.requests().is_empty());
}
