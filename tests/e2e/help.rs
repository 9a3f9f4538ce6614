//! The command tree seen from outside: every subcommand's `--help` shows an
//! example of itself, and every shell's completion script really completes
//! nemo (its subcommands and global flags), not merely mentions it. Help
//! that reads well: `nemo` alone, help topics, the global options under
//! their own heading, man pages from the one clap definition.

use crate::common::{DOCUMENTED_ENV, Env, stderr, stdout};

/// Every command path (`[]`, `["auth"]`, `["auth", "login"]`, …), found by
/// reading the `Commands:` section of each `--help` (nemo's own `help`
/// included: clap's is switched off).
pub(crate) fn command_paths(env: &Env) -> Vec<Vec<String>> {
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
            let mut child = path.clone();
            child.push(name.to_string());
            queue.push(child);
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
        "help",
        "man",
        "sandbox",
        "sandbox credits",
        "sandbox reset",
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
    // clap's own `help` subcommands are off: `nemo help` is nemo's, once.
    assert_eq!(
        paths.iter().filter(|p| p.ends_with("help")).count(),
        1,
        "{paths:?}"
    );
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
    // Every variable nemo reads, bar the hidden test switches (the
    // harness scrubs these and the rest), is documented.
    for name in DOCUMENTED_ENV {
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
    let out = env.nemo().args(["help", "nosuch"]).assert().code(2);
    assert_eq!(
        stderr(&out),
        "error: no command or help topic \"nosuch\"\nhint: topics: exit-codes, environment; commands: `nemo --help`\n"
    );
    // A near miss gets a "did you mean".
    for (typed, meant) in [
        ("exit-code", "exit-codes"),
        ("env", "environment"),
        ("export resme", "export resume"),
    ] {
        let words: Vec<&str> = typed.split(' ').collect();
        let out = env.nemo().arg("help").args(&words).assert().code(2);
        assert_eq!(
            stderr(&out),
            format!(
                "error: no command or help topic {typed:?}\nhint: did you mean `nemo help {meant}`?\n"
            )
        );
    }
    // The seed skills' version is the same default here as in --help.
    let out = env.nemo().args(["help", "environment"]).assert().success();
    assert!(
        stdout(&out).contains("[1.0.0 for the five\n                        NemoVideo seed skills, else nemo's version]"),
        "{}",
        stdout(&out)
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

/// help, man, completions, `--version` and `sandbox reset` talk to no API:
/// a bad `NEMO_API_URL` or `NEMO_SESSION` cannot stop them.
#[test]
fn commands_that_talk_to_no_api_ignore_its_settings() {
    let env = Env::new();
    let dir = env.tmp.path().join("man1");
    let runs: Vec<Vec<String>> = vec![
        vec!["completions".into(), "bash".into()],
        vec!["help".into(), "exit-codes".into()],
        vec!["help".into(), "environment".into()],
        vec!["help".into(), "export".into()],
        vec!["man".into()],
        vec!["man".into(), dir.display().to_string()],
        vec!["--version".into()],
        vec!["sandbox".into(), "reset".into()],
    ];
    for args in &runs {
        for (name, value) in [("NEMO_API_URL", "::not a url"), ("NEMO_SESSION", "bad id!")] {
            let out = env.nemo().args(args).env(name, value).assert();
            let code = out.get_output().status.code();
            assert_eq!(
                code,
                Some(0),
                "{name}={value:?} nemo {args:?}: {}",
                stderr(&out)
            );
        }
    }
    assert!(dir.join("nemo.1").exists());
}

/// An option set by its variable was not typed: clap's usage lines must
/// not show it as if it were required (`nemo generate --config-dir <DIR>
/// <PROMPT>...` when `NEMO_CONFIG_DIR` is set).
#[test]
fn usage_lines_never_show_options_set_by_variables() {
    let env = Env::new();
    let out = env
        .nemo()
        .arg("generate")
        .env("NEMO_SESSION", "123")
        .env("NEMO_SKILL", "nemo-cli")
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(
        err.contains("\nUsage: nemo generate <PROMPT>...\n"),
        "{err}"
    );
    assert!(!err.contains("--config-dir"), "{err}");
}

/// `export`, `generate` and `batch` share one typed set of render options:
/// `--help` lists the values, shows the defaults the code uses (polls
/// widen from 2 s to 15 s; no "30 s"), and a bad value is clap's usage
/// error (exit 2) before anything is read or sent.
#[test]
fn render_options_are_typed_alike_in_export_generate_and_batch() {
    let env = Env::new();
    let jobs = env.tmp.path().join("jobs.txt");
    std::fs::write(&jobs, "a panda\n").unwrap();
    let jobs = jobs.display().to_string();
    let commands: [Vec<&str>; 3] = [
        vec!["export"],
        vec!["generate", "a panda"],
        vec!["batch", &jobs],
    ];
    for command in &commands {
        let name = command[0];
        let out = env.nemo().arg(name).arg("--help").assert().success();
        let help = stdout(&out);
        assert!(
            help.contains("[default: mp4] [possible values: mp4, mov, webm, gif]"),
            "{name}: {help}"
        );
        assert!(
            help.contains("[default: high] [possible values: low, medium, high]"),
            "{name}: {help}"
        );
        let one_line = help.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            one_line.contains("[default: widening ×1.5 from two seconds up to fifteen]"),
            "{name}: {help}"
        );
        assert!(!help.contains("default: 30"), "{name}: {help}");
        for (flag, bad, allowed) in [
            ("--format", "mp3", "[possible values: mp4, mov, webm, gif]"),
            ("--quality", "ultra", "[possible values: low, medium, high]"),
        ] {
            let out = env
                .nemo()
                .args(command)
                .args([flag, bad])
                .current_dir(env.tmp.path())
                .assert()
                .code(2);
            let err = stderr(&out);
            assert!(
                err.starts_with(&format!("error: invalid value '{bad}' for '{flag} <")),
                "{name} {flag}: {err}"
            );
            assert!(err.contains(allowed), "{name} {flag}: {err}");
        }
        // Any case is the same value.
        let out = env
            .nemo()
            .args(command)
            .args(["--format", "MOV", "--quality", "Low", "--help"])
            .assert()
            .success();
        assert!(stdout(&out).contains("--format <FORMAT>"));
    }
    assert!(env.requests().is_empty());
}

/// Man pages refer only to pages that exist, put the examples under
/// EXAMPLES (not clap_mangen's "EXTRA"), and have EXIT STATUS and
/// ENVIRONMENT; `nemo man FILE` (a file, not a folder) is a usage error.
#[test]
fn man_pages_have_the_usual_sections_and_only_real_references() {
    let env = Env::new();
    let dir = env.tmp.path().join("man1");
    env.nemo().arg("man").arg(&dir).assert().success();
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        pages.push((name, std::fs::read_to_string(&path).unwrap()));
    }
    let names: Vec<String> = pages.iter().map(|(name, _)| name.clone()).collect();
    for (name, page) in &pages {
        for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT"] {
            assert!(page.contains(section), "{name}: no {section}");
        }
        assert!(!page.contains(".SH EXTRA"), "{name}: an EXTRA section");
        // Every `name(1)` reference is a page that was written.
        for reference in page.split("(1)").map(|before| {
            before
                .rsplit(|c: char| c.is_whitespace())
                .next()
                .unwrap_or_default()
                .replace("\\-", "-")
        }) {
            if reference.starts_with("nemo") {
                assert!(
                    names.contains(&reference),
                    "{name} refers to {reference}(1)"
                );
            }
        }
    }
    let export = &pages.iter().find(|(n, _)| n == "nemo-export").unwrap().1;
    let examples = export
        .split(".SH EXAMPLES")
        .nth(1)
        .expect("an EXAMPLES section");
    assert!(
        examples.contains("nemo export \\-o panda.mp4"),
        "{examples}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("-help") && n != "nemo-help"),
        "{names:?}"
    );

    let file = env.tmp.path().join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let out = env.nemo().arg("man").arg(&file).assert().code(2);
    assert!(
        stderr(&out).starts_with(&format!(
            "error: {} is a file, not a folder",
            file.display()
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "not a folder");
}
