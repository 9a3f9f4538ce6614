//! `--jq EXPR`: the built-in jq filter on every JSON output (documents,
//! chat's JSON Lines, error documents), checked before anything is sent.

use crate::common::{Env, json, stderr, stdout};

#[test]
fn a_number_prints_as_itself() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["credits", "--jq", ".available"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "100\n");
}

#[test]
fn strings_raw_arrays_compact_several_results_a_line_each() {
    let env = Env::new();
    let session = env.session();
    let out = env
        .nemo()
        .args(["session", "list", "--jq", ".[0].session_id"])
        .assert()
        .success();
    assert_eq!(stdout(&out), format!("{session}\n"));
    let out = env
        .nemo()
        .args(["credits", "--jq", "[.available, .frozen]"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "[100,0]\n");
    let out = env
        .nemo()
        .args(["credits", "--jq", ".available, .total, \"a \\\"b\\\"\""])
        .assert()
        .success();
    assert_eq!(stdout(&out), "100\n100\na \"b\"\n");
    // Before the subcommand, and `--jq=EXPR`, alike; no result, no line.
    let out = env
        .nemo()
        .args(["--jq=empty", "credits"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "");
}

#[test]
fn a_bad_expression_is_exit_2_naming_it_and_nothing_is_sent() {
    let env = Env::new();
    for (expr, what) in [
        (".[", "expected closing bracket"),
        ("nosuch", "undefined filter `nosuch`"),
    ] {
        let out = env.nemo().args(["credits", "--jq", expr]).assert().code(2);
        // The filter cannot run: stdout holds the error document unfiltered.
        assert_eq!(json(&out)["error"]["kind"], "usage");
        assert_eq!(json(&out)["error"]["exit_code"], 2);
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!(
                "error: --jq {expr:?} is not a valid jq expression: {what}"
            )),
            "{err}"
        );
        assert_eq!(err.lines().count(), 2, "{err}");
    }
    assert!(env.requests().is_empty(), "{:?}", env.requests());
    assert_eq!(env.config(), serde_json::Value::Null);
}

#[test]
fn a_filter_that_fails_at_run_time_is_exit_2() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["credits", "--jq", ".available.x"])
        .assert()
        .code(2);
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("error: --jq \".available.x\" failed:"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn error_documents_go_through_the_filter() {
    let env = Env::new();
    let out = env
        .nemo()
        .args([
            "credits",
            "--min",
            "500",
            "--jq",
            ".error.kind, .error.exit_code",
        ])
        .assert()
        .code(4);
    assert_eq!(stdout(&out), "credits\n4\n");
    assert_eq!(
        stderr(&out),
        "Connecting…\nerror: only 100 credits available, 500 required\n"
    );
    // clap's own usage errors too.
    let out = env
        .nemo()
        .args(["credits", "--bogus", "--jq", ".error.kind"])
        .assert()
        .code(2);
    assert_eq!(stdout(&out), "usage\n");
    // With a --jq that does not compile, stdout holds the error document
    // as it is: with --json or --jq, stdout is one JSON document.
    let out = env
        .nemo()
        .args(["credits", "--bogus", "--jq", ".["])
        .assert()
        .code(2);
    assert_eq!(json(&out)["error"]["kind"], "usage");
    assert!(
        json(&out)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'--bogus'"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn chat_json_lines_are_filtered_line_by_line() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args([
            "chat",
            "hello",
            "--jq",
            "select(.type == \"text\" or .type == \"done\") | .type",
        ])
        .assert()
        .success();
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert!(lines.len() >= 2, "{lines:?}");
    assert_eq!(lines.last().map(String::as_str), Some("done"));
    assert!(
        lines[..lines.len() - 1].iter().all(|l| l == "text"),
        "{lines:?}"
    );
}
