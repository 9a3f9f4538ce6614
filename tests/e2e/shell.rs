//! Fitting the shell: no prompts when nobody can answer (`--no-input`,
//! `NEMO_NO_INPUT`, `CI`, a piped stdin), short progress logs when stderr is
//! not a terminal, and the colour switches.

use std::time::Instant;

use serde_json::json;

use crate::common::{Env, clip_draft, stderr, stdout};

fn sse_runs(env: &Env) -> Vec<serde_json::Value> {
    env.emu
        .with_state(|s| s.chat.runs.iter().map(|r| r.body.clone()).collect())
}

#[test]
fn a_piped_message_needs_no_dash() {
    let env = Env::fast();
    env.session();
    let out = env
        .nemo()
        .arg("chat")
        .write_stdin("add a title \"Piped\"\n")
        .assert()
        .success();
    assert_eq!(stdout(&out), "+ Title: \"Piped\" (0-3s)\n");
    assert_eq!(
        sse_runs(&env)[0]["new_message"]["parts"][0]["text"],
        "add a title \"Piped\""
    );
}

#[test]
fn no_prompt_on_a_terminal_when_told_or_in_ci() {
    let env = Env::fast();
    type Case<'a> = (&'a [&'a str], Option<(&'a str, &'a str)>);
    let cases: [Case; 4] = [
        (&["chat", "--no-input"], None),
        (&["chat"], Some(("NEMO_NO_INPUT", "1"))),
        (&["chat"], Some(("CI", "true"))),
        (&["--no-input", "chat"], Some(("CI", "0"))),
    ];
    for (args, var) in cases {
        let mut cmd = env.nemo();
        // stdin is taken for a terminal: only the switches rule the prompt out.
        cmd.env("NEMO_PRETEND_TTY", "stdin").args(args);
        if let Some((name, value)) = var {
            cmd.env(name, value);
        }
        let out = cmd.write_stdin("").assert().code(2);
        assert_eq!(
            stderr(&out),
            "error: no message, and --no-input (or CI) rules out an interactive chat\n\
             hint: pass the message: `nemo chat \"…\"`, or pipe it in: `echo \"…\" | nemo chat`\n",
            "{args:?} {var:?}"
        );
        assert_eq!(stdout(&out), "");
    }
    // `chat -` would wait for typing on the terminal: the same refusal.
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stdin")
        .env("CI", "1")
        .args(["chat", "-"])
        .write_stdin("")
        .assert()
        .code(2);
    assert!(
        stderr(&out)
            .starts_with("error: `nemo chat -` would wait for a message typed on the terminal"),
        "{}",
        stderr(&out)
    );
    assert!(env.requests().is_empty(), "{:?}", env.requests());
}

#[test]
fn export_progress_off_a_terminal_is_a_line_per_state() {
    let env = Env::new();
    let sid = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session").state["draft"] = clip_draft();
        s.faults.render.render_ms = 3000;
    });
    let started = Instant::now();
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05"])
        .assert()
        .success();
    let elapsed = started.elapsed().as_secs();
    let err = stderr(&out);
    let renders: Vec<&str> = err.lines().filter(|l| l.starts_with("Render ")).collect();
    // About 60 polls; the log has each state once, and a progress line at
    // most every 10 s between them.
    let states: Vec<&str> = renders
        .iter()
        .map(|l| {
            l.split(": ")
                .nth(1)
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
        })
        .collect();
    let mut changes = states.clone();
    changes.dedup();
    assert_eq!(changes.first(), Some(&"pending"), "{err}");
    assert_eq!(changes.last(), Some(&"completed"), "{err}");
    assert!(changes.len() <= 3, "{err}");
    assert!(
        renders.len() as u64 <= changes.len() as u64 + elapsed / 10,
        "{} lines in {elapsed} s:\n{err}",
        renders.len()
    );
}

const RED_ERROR: &str =
    "\u{1b}[1;31merror:\u{1b}[0m no current session\n\u{1b}[1;36mhint:\u{1b}[0m ";

/// stderr of `nemo session show` (no session: an error and a hint) with
/// these arguments and variables.
fn session_show(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> String {
    let mut cmd = env.nemo();
    cmd.args(["session", "show"]).args(args);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    stderr(&cmd.assert().code(10))
}

#[test]
fn colour_switches() {
    let env = Env::new();
    let tty = ("NEMO_PRETEND_TTY", "stderr");
    let plain = "error: no current session\nhint: ";
    for (args, vars, coloured) in [
        (&[][..], &[][..], false),
        (&[], &[tty], true),
        (&["--color", "never"], &[tty], false),
        (&["--no-color"], &[tty], false),
        (&["--color=auto"], &[tty], true),
        (&[], &[tty, ("NO_COLOR", "1")], false),
        (&["--color", "always"], &[], true),
        (&[], &[("CLICOLOR_FORCE", "1")], true),
        (&[], &[("CLICOLOR_FORCE", "0")], false),
        // NO_COLOR wins over CLICOLOR_FORCE; a flag wins over both.
        (&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false),
        (&["--color", "always"], &[("NO_COLOR", "1")], true),
        (&["--color", "never"], &[("CLICOLOR_FORCE", "1")], false),
    ] {
        let err = session_show(&env, args, vars);
        let want = if coloured { RED_ERROR } else { plain };
        assert!(err.starts_with(want), "{args:?} {vars:?}: {err:?}");
    }
}

#[test]
fn colour_switches_reach_clap_errors() {
    let env = Env::new();
    let clap_error = |args: &[&str], vars: &[(&str, &str)]| {
        let mut cmd = env.nemo();
        cmd.args(["credits", "--bogus"]).args(args);
        for (name, value) in vars {
            cmd.env(name, value);
        }
        stderr(&cmd.assert().code(2))
    };
    let err = clap_error(&["--color", "always"], &[]);
    assert!(err.contains('\u{1b}'), "{err:?}");
    assert!(err.contains("--bogus"), "{err:?}");
    let err = clap_error(&[], &[("CLICOLOR_FORCE", "1")]);
    assert!(err.contains('\u{1b}'), "{err:?}");
    for (args, vars) in [
        (&["--no-color"][..], &[("CLICOLOR_FORCE", "1")][..]),
        (&["--color=never"], &[("CLICOLOR_FORCE", "1")]),
        (&[], &[]),
    ] {
        let err = clap_error(args, vars);
        assert!(
            err.starts_with("error: unexpected argument '--bogus' found"),
            "{args:?} {vars:?}: {err:?}"
        );
        assert!(!err.contains('\u{1b}'), "{args:?} {vars:?}: {err:?}");
    }
}

#[test]
fn state_draws_the_timeline_on_a_terminal_only() {
    let env = Env::new();
    let sid = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session").state["draft"] = json!({"t":[
            {"tt":0,"sg":[{"d":5000,"m":{"name":"clip one"}},{"d":5000,"m":{"name":"clip two"}}]},
            {"tt":7,"sg":[{"d":3000,"m":{"text":"Paradise Found"}}]},
            {"tt":1,"sg":[{"d":10000,"m":{"name":"music","volume":80}}]}
        ]});
    });
    let piped = stdout(&env.nemo().arg("state").assert().success());
    assert!(piped.starts_with("Timeline (3 tracks):\n"), "{piped}");
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stdout")
        .env("COLUMNS", "60")
        .arg("state")
        .assert()
        .success();
    let text = stdout(&out);
    let (picture, summary) = text.split_once("\n\n").expect("a picture, a blank line");
    assert_eq!(summary, piped, "the summary follows unchanged");
    let rows: Vec<&str> = picture.lines().collect();
    assert_eq!(rows.len(), 4, "{picture}");
    assert!(rows[0].trim_start().starts_with("0s"), "{picture}");
    assert!(rows[0].ends_with("10s"), "{picture}");
    assert!(rows[1].starts_with("Video [clip one─"), "{picture}");
    assert!(rows[1].contains("][clip two─"), "{picture}");
    assert!(rows[2].contains("[Paradise Found"), "{picture}");
    assert!(rows[3].contains("[music 80%─"), "{picture}");
    assert!(rows.iter().all(|r| r.chars().count() <= 60), "{picture}");
    // The longest row fills the width.
    assert_eq!(rows[3].chars().count(), 60, "{picture}");
    // --json is the server's object, picture or not.
    let doc = crate::common::json(
        &env.nemo()
            .env("NEMO_PRETEND_TTY", "stdout")
            .args(["state", "--json"])
            .assert()
            .success(),
    );
    assert!(doc["draft"].is_object(), "{doc}");
}

#[test]
fn no_token_prompt_on_a_terminal_in_ci() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("NEMO_PRETEND_TTY", "stdin")
        .env("CI", "true")
        .args(["auth", "login", "--with-token"])
        .write_stdin("")
        .assert()
        .code(2);
    assert_eq!(
        stderr(&out),
        "error: `auth login --with-token` would wait for a token typed on the terminal, and --no-input (or CI) rules that out\n\
         hint: pipe it in: `nemo auth login --with-token < token.txt`\n"
    );
    assert!(env.requests().is_empty());
}
