//! Every example nemo shows does what it says in the sandbox: each `nemo …`
//! line of every `--help`'s Examples (the whole command tree, walked as
//! `help.rs` does) and of README.md's fenced code blocks runs under
//! `--sandbox` (a `nemo` on `PATH` that adds it), in a fresh config dir
//! holding a prepared sandbox (a generated video, a recorded render, 1000
//! credits), with its placeholders (ids, files) made real. Each must exit
//! 0, or the code it demonstrates. A short allow-list names the few that
//! cannot run here, and why. Unix only: the examples are shell lines.
#![cfg(unix)]

use std::path::{Path, PathBuf};

use crate::common::{Env, stdout};
use crate::help::command_paths;

/// The hidden switch that gives the `--sandbox` emulator a quick pace: the
/// examples show what happens, not how long the sandbox's agent takes.
const QUICK: &str = "NEMO_SANDBOX_QUICK";

/// Examples that cannot run in this test, with the reason.
const CANNOT_RUN: [(&str, &str); 7] = [
    (
        "HTTPS_PROXY=http://proxy.corp",
        "needs a corporate proxy and its CA file",
    ),
    (
        "curl ",
        "needs the network (`…` stands for a real API call)",
    ),
    ("nemo sandbox --port", "starts a server in the background"),
    (
        "NEMO_API_URL=http://127.0.0.1:8787",
        "needs that server running",
    ),
    (
        "nemo sandbox --fault",
        "serves in the foreground until Ctrl-C",
    ),
    ("nemo chat            # interactive", "needs a terminal"),
    (
        "nemo sandbox --faults",
        "serves in the foreground until Ctrl-C",
    ),
];

/// Examples that demonstrate a failure: (part of the line, a sandbox
/// balance to set first, the exit code they show).
const FAILURES: [(&str, Option<u32>, i32); 3] = [
    ("nemo credits --min 500 --json", Some(100), 4),
    ("NEMO_SANDBOX_FAULTS=faults.json", None, 8),
    ("nemo sandbox credits 0 &&", None, 4),
];

/// Placeholders in the examples and what stands for them here.
struct Prepared {
    config: PathBuf,
    render_id: String,
    session_id: String,
    token: String,
    video: Vec<u8>,
}

#[derive(Debug)]
struct Example {
    source: String,
    line: String,
}

/// The `nemo …` lines of every `--help`'s Examples section.
fn help_examples(env: &Env) -> Vec<Example> {
    let mut found = Vec::new();
    for path in command_paths(env) {
        let text = stdout(&env.nemo().args(&path).arg("--help").assert().success());
        let lines = text
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .take_while(|l| l.starts_with("  "));
        for line in lines {
            if line.contains("nemo") {
                found.push(Example {
                    source: format!("nemo {} --help", path.join(" ")),
                    line: line.trim().to_string(),
                });
            }
        }
    }
    found
}

/// The `nemo …` lines of README.md's fenced code blocks (`$ ` prompts
/// taken off, `cargo run … --` read as `nemo`, comment lines skipped).
fn readme_examples() -> Vec<Example> {
    let readme = include_str!("../../README.md");
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    let mut in_cookbook = false;
    let mut joined: Vec<(usize, String)> = Vec::new();
    for (n, line) in readme.lines().enumerate() {
        match joined.last_mut() {
            Some((_, last)) if last.ends_with('\\') => {
                last.pop();
                last.push_str(line.trim_start());
            }
            _ => joined.push((n, line.to_string())),
        }
    }
    for (n, line) in joined {
        let line = line.as_str();
        // The cookbook's recipes are run by `cookbook.rs`, against a
        // served emulator, as whole scripts.
        if line.starts_with("## ") {
            in_cookbook = line == "## Cookbook";
        }
        if in_cookbook {
            continue;
        }
        if let Some(lang) = line.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.to_string()),
            };
            continue;
        }
        let Some(lang) = &fence else { continue };
        let line = match lang.as_str() {
            "console" => match line.strip_prefix("$ ") {
                Some(command) => command,
                None => continue,
            },
            _ => line,
        };
        let line = line.replace("cargo run -q --", "nemo");
        if line.trim_start().starts_with('#') || !line.contains("nemo ") {
            continue;
        }
        found.push(Example {
            source: format!("README.md line {}", n + 1),
            line: line.trim().to_string(),
        });
    }
    found
}

/// A sandbox with a generated video, a recorded render and 1000 credits.
fn prepare(env: &Env) -> Prepared {
    let root = env.tmp.path().join("prepared");
    let config = root.join("config");
    std::fs::create_dir_all(&root).unwrap();
    let nemo = |args: &[&str]| {
        env.nemo()
            .current_dir(&root)
            .env_remove("NEMO_API_URL")
            .env("NEMO_CONFIG_DIR", &config)
            .env(QUICK, "1")
            .args(args)
            .assert()
            .success()
    };
    nemo(&[
        "--sandbox",
        "chat",
        "generate a 10-second video of a panda walking through a bamboo forest",
    ]);
    nemo(&[
        "--sandbox",
        "export",
        "-o",
        "panda.mp4",
        "--poll-interval",
        "0.2",
    ]);
    nemo(&["sandbox", "credits", "1000"]);
    let list: serde_json::Value =
        serde_json::from_str(&stdout(&nemo(&["--sandbox", "export", "list", "--json"]))).unwrap();
    let render_id = list[0]["render_id"].as_str().expect("a render").to_string();
    let session: serde_json::Value =
        serde_json::from_str(&stdout(&nemo(&["--sandbox", "session", "show", "--json"]))).unwrap();
    let session_id = session["session_id"].as_str().unwrap().to_string();
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.join("sandbox/nemo-cli.json")).unwrap())
            .unwrap();
    let token = stored["token"]["value"].as_str().unwrap().to_string();
    let video = std::fs::read(root.join("panda.mp4")).unwrap();
    // As on a fresh checkout: the render is recorded, its file is not there.
    std::fs::remove_file(root.join("panda.mp4")).unwrap();
    Prepared {
        config,
        render_id,
        session_id,
        token,
        video,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A fresh place for one example: the prepared config, a home and a work
/// folder with the files examples name, and `nemo` on `PATH` adding
/// `--sandbox`. Returns (work dir, home, bin dir, config dir).
fn stage(env: &Env, n: usize, prepared: &Prepared) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let root = env.tmp.path().join(format!("example{n}"));
    let (work, home, bin, config) = (
        root.join("work"),
        root.join("home"),
        root.join("bin"),
        root.join("config"),
    );
    copy_dir(&prepared.config, &config);
    for dir in [
        work.join("out"),
        work.join("renders"),
        home.join("Videos"),
        home.join(".zfunc"),
        home.join(".config/fish"),
        home.join(".local/share/bash-completion/completions"),
        home.join(".local/share/man/man1"),
        bin.clone(),
    ] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let write = |path: PathBuf, bytes: &[u8]| std::fs::write(path, bytes).unwrap();
    write(work.join("intro.mp4"), &prepared.video);
    write(home.join("Videos/beach.MOV"), &prepared.video);
    write(work.join("logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    write(work.join("music.mp3"), b"ID3\x03\0\0\0\0\0\0");
    write(
        work.join("prompts.txt"),
        b"# two jobs\ngenerate a panda in a bamboo forest\na sunrise over the sea\n",
    );
    write(
        work.join("jobs.jsonl"),
        b"{\"prompt\":\"generate a fox in the snow\",\"output\":\"fox.mp4\"}\n",
    );
    write(work.join("ideas.txt"), b"a lighthouse at night\n\n");
    // The faults file of `nemo sandbox --help`: the first render fails.
    write(work.join("faults.json"), b"{\"render_fail_on\": [1]}\n");
    // Each example starts as on a fresh checkout: the recorded render's
    // file belongs in this example's own folder and is not there yet (the
    // examples run at once; two `export resume`s saving to one path
    // would collide).
    let prepared_root = prepared.config.parent().expect("the prepared folder");
    let records = config.join("sandbox/nemo-cli.json");
    let text = std::fs::read_to_string(&records).unwrap();
    assert!(
        text.contains(&*prepared_root.to_string_lossy()),
        "the render is recorded with its path: {text}"
    );
    let text = text.replace(&*prepared_root.to_string_lossy(), &work.to_string_lossy());
    std::fs::write(&records, text).unwrap();
    write(work.join("token.txt"), prepared.token.as_bytes());
    write(
        work.join("sessions"),
        format!("{}\n", prepared.session_id).as_bytes(),
    );
    let nemo = env!("CARGO_BIN_EXE_nemo");
    let script = format!(
        "#!/bin/sh\ncase \" $* \" in *\" --sandbox \"*) exec '{nemo}' \"$@\";; esac\nexec '{nemo}' --sandbox \"$@\"\n"
    );
    write(bin.join("nemo"), script.as_bytes());
    // Opening a link: it must be the emulator's (a page it wrote, under
    // --sandbox).
    write(
        bin.join("xdg-open"),
        b"#!/bin/sh\ncase \"$1\" in http://127.0.0.1:*) exit 0;; file:///*) test -e \"${1#file://}\" && exit 0;; esac\necho \"not a loopback link or a page that exists: $1\" >&2\nexit 1\n",
    );
    // Tools the examples pipe into: the real one where installed, else a
    // stand-in that reads its input (nemo's own exit code is what counts).
    let mut made = vec!["nemo", "xdg-open"];
    for tool in ["jq", "man"] {
        let installed = ["/usr/local/bin", "/usr/bin", "/bin"]
            .iter()
            .any(|dir| Path::new(dir).join(tool).exists());
        if !installed {
            write(bin.join(tool), b"#!/bin/sh\ncat >/dev/null\n");
            made.push(tool);
        }
    }
    for name in made {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (work, home, bin, config)
}

/// The line with its placeholders made real: a render to cancel is one
/// still running (started now), other render ids the recorded render.
fn substitute(line: &str, prepared: &Prepared, running: impl FnOnce() -> String) -> String {
    let render = if line.contains("export cancel") {
        running()
    } else {
        prepared.render_id.clone()
    };
    line.replace("render_1742198400000", &render)
        .replace("render_1743712257390", &render)
        .replace("5529798706024415232", &prepared.session_id)
}

/// How many examples run at once. They spend their time waiting on the
/// emulator and on each other's processes, not on the CPU, and each is
/// staged in its own folder with its own sandbox.
const AT_ONCE: usize = 6;

/// Runs one staged example; `Err` says how it went wrong.
fn run_example(env: &Env, n: usize, example: &Example, prepared: &Prepared) -> Result<(), String> {
    let (work, home, bin, config) = stage(env, n, prepared);
    // The README's later blocks go on in the folder its first one makes
    // (`mkdir -p "${TMPDIR:-/tmp}/nemo-demo"`); each example runs alone,
    // with TMPDIR its own folder.
    std::fs::create_dir_all(work.join("nemo-demo")).unwrap();
    let failure = FAILURES
        .iter()
        .find(|(part, _, _)| example.line.contains(part));
    let nemo = |args: &[&str], quick: bool| {
        let mut cmd = std::process::Command::new(bin.join("nemo"));
        cmd.args(args)
            .env("NEMO_CONFIG_DIR", &config)
            .env("HOME", &home);
        if quick {
            cmd.env(QUICK, "1");
        } else {
            cmd.env_remove(QUICK);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    if let Some((_, Some(balance), _)) = failure {
        nemo(&["sandbox", "credits", &balance.to_string()], true);
    }
    let expected = failure.map_or(0, |(_, _, code)| *code);
    // The render to cancel is submitted at the sandbox's own pace (2.5 s),
    // so it is still running when the example cancels it.
    let line = substitute(&example.line, prepared, || {
        nemo(&["export", "--no-wait"], false)
    });
    let out = assert_cmd::Command::new("bash")
        .args(["-o", "pipefail", "-c", &line])
        .current_dir(&work)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .env("HOME", &home)
        // The README's examples write to ${TMPDIR:-/tmp}/nemo-demo: keep
        // that inside the example's own folder.
        .env("TMPDIR", &work)
        .env("NEMO_CONFIG_DIR", &config)
        .env("MY_TOKEN", &prepared.token)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env(QUICK, "1")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    if out.status.code() == Some(expected) {
        return Ok(());
    }
    Err(format!(
        "{} ({}): exit {:?}, expected {expected}\n  stdout: {}\n  stderr: {}",
        example.line,
        example.source,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

#[test]
fn every_example_in_help_and_readme_does_what_it_says_in_the_sandbox() {
    let env = Env::new();
    let mut examples = help_examples(&env);
    let from_help = examples.len();
    examples.extend(readme_examples());
    assert!(
        from_help >= 40,
        "the walk found the help examples: {from_help}"
    );
    assert!(examples.len() > from_help + 5, "README examples found");
    let runnable: Vec<(usize, &Example)> = examples
        .iter()
        .enumerate()
        .filter(|(_, example)| {
            !CANNOT_RUN
                .iter()
                .any(|(part, _)| example.line.contains(part))
        })
        .collect();
    // The faults-file examples are among them: a rehearsal that cannot
    // fail would prove nothing about `NEMO_SANDBOX_FAULTS`.
    assert!(
        runnable
            .iter()
            .any(|(_, e)| e.line.contains("NEMO_SANDBOX_FAULTS")),
        "the faults-file examples run: {runnable:?}"
    );
    let prepared = prepare(&env);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                while let Some((n, example)) = runnable
                    .get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                    .copied()
                {
                    if let Err(failure) = run_example(&env, n, example, &prepared) {
                        failures.lock().unwrap().push(failure);
                    }
                }
            });
        }
    });
    assert!(runnable.len() > 40, "examples ran: {}", runnable.len());
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
