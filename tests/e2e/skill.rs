//! `skills/nemo/SKILL.md`, the agent skill: its front matter names and
//! describes it; every `nemo …` command it shows (in code blocks and inline
//! code) names a real command and only options that command's `--help`
//! lists; and its main example runs, line by line, in the sandbox.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::common::{Env, stdout};
use crate::help::command_paths;

const SKILL: &str = include_str!("../../skills/nemo/SKILL.md");

/// Global options that take a value (the value is not a command word).
const VALUED_GLOBALS: [&str; 8] = [
    "--session",
    "--jq",
    "--config-dir",
    "--api-url",
    "--web-url",
    "--skill",
    "--skill-version",
    "--color",
];

/// Every `nemo …` command in the skill: lines of fenced blocks, and
/// inline code spans outside them.
fn commands() -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in SKILL.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            if line.trim_start().starts_with("nemo ") {
                found.push(line.trim().to_string());
            }
            continue;
        }
        for (n, span) in line.split('`').enumerate() {
            if n % 2 == 1 && span.starts_with("nemo ") {
                found.push(span.to_string());
            }
        }
    }
    found
}

/// The words of a command line after `nemo`, quoted text and shell
/// redirections and pipes left out.
fn words(line: &str) -> Vec<String> {
    let mut unquoted = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                unquoted.push_str(" QUOTED ");
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, c) => unquoted.push(c),
        }
    }
    unquoted
        .split_whitespace()
        .skip(1)
        .take_while(|w| !matches!(*w, "<" | ">" | "|" | "&&" | ";"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_front_matter_names_and_describes_the_skill() {
    let front = SKILL
        .strip_prefix("---\n")
        .and_then(|rest| rest.split("\n---\n").next())
        .expect("front matter between --- lines");
    assert!(front.lines().any(|l| l == "name: nemo"), "{front}");
    let description = front
        .lines()
        .find_map(|l| l.strip_prefix("description: "))
        .expect("a description");
    assert!(description.len() > 100, "{description}");
}

#[test]
fn every_nemo_command_in_the_skill_parses() {
    let env = Env::new();
    let paths = command_paths(&env);
    let lines = commands();
    assert!(
        lines.len() >= 20,
        "the skill's commands were found: {lines:?}"
    );
    for line in &lines {
        let words = words(line);
        let mut command = Vec::new();
        let mut flags = Vec::new();
        let mut iter = words.iter();
        while let Some(word) = iter.next() {
            if word.starts_with('-') {
                let flag = word.split('=').next().unwrap_or_default().to_string();
                if VALUED_GLOBALS.contains(&flag.as_str()) && !word.contains('=') {
                    iter.next();
                }
                flags.push(flag);
            } else {
                command.push(word.clone());
            }
        }
        // The longest run of leading words that is a command path.
        let path = (1..=command.len())
            .rev()
            .map(|n| command[..n].to_vec())
            .find(|prefix| paths.contains(prefix))
            .unwrap_or_else(|| panic!("{line:?} names no nemo command"));
        let help = stdout(&env.nemo().args(&path).arg("--help").assert().success());
        let listed: Vec<&str> = help
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '='))
            .collect();
        for flag in flags {
            assert!(
                listed.contains(&flag.as_str()),
                "{line:?}: `nemo {} --help` lists no {flag}",
                path.join(" ")
            );
        }
    }
}

#[test]
fn the_skills_main_example_runs_in_the_sandbox() {
    let env = Env::new();
    let block: Vec<&str> = SKILL
        .split("<!-- main example")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("```").next())
        .expect("the main example's block")
        .lines()
        .collect();
    assert!(block.len() >= 3, "{block:?}");
    let root = env.tmp.path();
    let (work, bin) = (root.join("work"), root.join("bin"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // `nemo` on PATH is the built binary under --sandbox.
    let wrapper = bin.join("nemo");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' --sandbox \"$@\"\n",
            env!("CARGO_BIN_EXE_nemo")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The sandbox's agent at test pace.
    let faults = root.join("faults.json");
    std::fs::write(
        &faults,
        r#"{"chat_pace_ms":2,"chat_tool_ms":60,"chat_keepalive_ms":20,"chat_late_ms":100}"#,
    )
    .unwrap();
    let mut last = String::new();
    for line in block {
        let out = assert_cmd::Command::new("bash")
            .args(["-o", "pipefail", "-c", line])
            .current_dir(&work)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("HOME", env.home())
            .env("NEMO_CONFIG_DIR", env.config_dir())
            .env("NEMO_SANDBOX_FAULTS", &faults)
            .timeout(std::time::Duration::from_secs(120))
            .assert()
            .success();
        last = stdout(&out);
    }
    let export: Value = serde_json::from_str(&last).expect("export --json");
    assert_eq!(export["status"], "completed", "{export}");
    assert!(work.join("waves.mp4").exists());
    assert!(export["project_url"].is_string(), "{export}");
}
