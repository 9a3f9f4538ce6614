//! The command tree seen from outside: every subcommand's `--help` shows an
//! example of itself, and every shell's completion script really completes
//! nemo (its subcommands and global flags), not merely mentions it.

use crate::common::{Env, stdout};

/// Every command path (`[]`, `["auth"]`, `["auth", "login"]`, …), found by
/// reading the `Commands:` section of each `--help`, clap's own `help`
/// excepted.
fn command_paths(env: &Env) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut queue = vec![Vec::<String>::new()];
    while let Some(path) = queue.pop() {
        let out = env.nemo().args(&path).arg("--help").assert().success();
        let text = stdout(&out);
        let mut in_commands = false;
        for line in text.lines() {
            if line == "Commands:" {
                in_commands = true;
                continue;
            }
            if !in_commands {
                continue;
            }
            if line.trim().is_empty() || !line.starts_with("  ") {
                break;
            }
            let name = line.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                let mut child = path.clone();
                child.push(name.to_string());
                queue.push(child);
            }
        }
        found.push(path);
    }
    found.sort();
    found
}

/// The walk itself is checked, so the tests built on it cannot pass by
/// finding nothing: every command of today is found (new ones may join).
#[test]
fn the_walk_finds_every_command() {
    let env = Env::new();
    let paths: Vec<String> = command_paths(&env).iter().map(|p| p.join(" ")).collect();
    for expected in [
        "",
        "auth",
        "auth login",
        "auth logout",
        "auth status",
        "auth token",
        "chat",
        "completions",
        "credits",
        "export",
        "export cancel",
        "export list",
        "export resume",
        "sandbox",
        "session",
        "session list",
        "session new",
        "session open",
        "session show",
        "session use",
        "state",
        "upload",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected:?} not in {paths:?}"
        );
    }
    assert!(!paths.iter().any(|p| p.ends_with("help")), "{paths:?}");
}

#[test]
fn every_command_s_help_shows_an_example_of_itself() {
    let env = Env::new();
    for path in command_paths(&env) {
        let invocation = if path.is_empty() {
            "nemo ".to_string()
        } else {
            format!("nemo {}", path.join(" "))
        };
        for flag in ["-h", "--help"] {
            let out = env.nemo().args(&path).arg(flag).assert().success();
            let text = stdout(&out);
            let examples: Vec<&str> = text
                .lines()
                .skip_while(|l| *l != "Examples:")
                .skip(1)
                .take_while(|l| l.starts_with("  "))
                .collect();
            assert!(
                examples.iter().any(|l| l.contains(&invocation)),
                "`{invocation} {flag}` has no example running `{invocation}` under \"Examples:\":\n{text}"
            );
        }
    }
}

#[test]
fn completions_for_every_shell_complete_the_whole_tree() {
    let env = Env::new();
    let paths = command_paths(&env);
    let script = |shell: &str| stdout(&env.nemo().args(["completions", shell]).assert().success());

    let bash = script("bash");
    assert!(
        bash.contains("complete -F _nemo ") && bash.starts_with("_nemo() {\n"),
        "{bash}"
    );
    let zsh = script("zsh");
    assert!(zsh.starts_with("#compdef nemo\n"), "{zsh}");
    assert!(zsh.contains("compdef _nemo nemo"), "{zsh}");
    let fish = script("fish");
    let powershell = script("powershell");
    assert!(
        powershell.contains("Register-ArgumentCompleter -Native -CommandName 'nemo'"),
        "{powershell}"
    );
    let elvish = script("elvish");
    assert!(
        elvish.contains("set edit:completion:arg-completer[nemo]"),
        "{elvish}"
    );

    // Global flags, in every shell's own syntax.
    for flag in ["api-url", "session", "json", "sandbox"] {
        assert!(bash.contains(&format!(" --{flag}")), "bash: --{flag}");
        assert!(zsh.contains(&format!("'--{flag}")), "zsh: --{flag}");
        assert!(fish.contains(&format!(" -l {flag}")), "fish: --{flag}");
        assert!(
            powershell.contains(&format!("[CompletionResult]::new('--{flag}'")),
            "powershell: --{flag}"
        );
        assert!(
            elvish.contains(&format!("cand --{flag} ")),
            "elvish: --{flag}"
        );
    }
    // Every subcommand, at its place in the tree.
    for path in paths.iter().filter(|p| !p.is_empty()) {
        let name = path.last().map(String::as_str).unwrap_or_default();
        let bash_name = format!("nemo__subcmd__{}", path.join("__subcmd__"));
        assert!(bash.contains(&bash_name), "bash: {bash_name}");
        assert!(zsh.contains(&format!("\n'{name}:")), "zsh: {name}");
        assert!(fish.contains(&format!(" -a \"{name}\"")), "fish: {name}");
        let nested = format!("'nemo;{}'", path.join(";"));
        assert!(powershell.contains(&nested), "powershell: {nested}");
        assert!(elvish.contains(&format!("&{nested}=")), "elvish: {nested}");
    }

    // bash itself accepts the script, where bash is installed.
    if let Some(bash_bin) = ["/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        let file = env.tmp.path().join("nemo.bash");
        std::fs::write(&file, &bash).unwrap();
        let checked = std::process::Command::new(bash_bin)
            .arg("-n")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            checked.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&checked.stderr)
        );
    } else if cfg!(target_os = "linux") {
        panic!("bash is missing: the bash script cannot be checked");
    }

    env.nemo().args(["completions", "tcsh"]).assert().code(2);
}
