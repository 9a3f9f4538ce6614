//! The README's cookbook, run as it stands: each recipe's `sh` block is read
//! from README.md (so the two cannot drift) and run with bash against this
//! test's emulator, with `nemo` on the PATH.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{Env, clip_draft};

/// `(title, code)` of every recipe under `## Cookbook`.
fn recipes() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme.find("\n## Cookbook\n").expect("a Cookbook section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    section
        .split("\n### ")
        .skip(1)
        .map(|recipe| {
            let title = recipe.lines().next().unwrap_or("").trim().to_string();
            let code = recipe
                .split_once("```sh\n")
                .and_then(|(_, rest)| rest.split_once("\n```"))
                .map(|(code, _)| code.to_string())
                .unwrap_or_else(|| panic!("recipe {title:?} has no sh block"));
            (title, code)
        })
        .collect()
}

fn recipe(title: &str) -> String {
    recipes()
        .into_iter()
        .find(|(t, _)| t == title)
        .map(|(_, code)| code)
        .unwrap_or_else(|| panic!("no recipe {title:?} in the README"))
}

/// bash in `dir` with the test's environment (emulator URL, config dir,
/// scrubbed variables) and `nemo` first on the PATH.
fn bash(env: &Env, dir: &Path) -> std::process::Command {
    let nemo = env.nemo_process();
    let mut bash = std::process::Command::new("bash");
    for (name, value) in nemo.get_envs() {
        match value {
            Some(value) => bash.env(name, value),
            None => bash.env_remove(name),
        };
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_nemo"));
    let path = std::env::join_paths(
        std::iter::once(bin.parent().expect("bin dir").to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .expect("PATH");
    bash.env("PATH", path)
        .current_dir(dir)
        .stdin(std::process::Stdio::null());
    bash
}

/// Runs `code` with `bash -euo pipefail`; it must succeed.
fn run(env: &Env, dir: &Path, code: &str) -> Output {
    let output = bash(env, dir)
        .args(["-euo", "pipefail", "-c", code])
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "{code}\nexit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn workdir(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("work");
    std::fs::create_dir_all(&dir).expect("work dir");
    dir
}

#[test]
fn every_recipe_has_a_test() {
    let titles: Vec<String> = recipes().into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        titles,
        [
            "Batch upload a folder",
            "Export sessions in parallel",
            "Gate CI on credits",
            "Pipe a prompt from a file",
            "Resume a render after a reboot",
        ]
    );
}

#[test]
fn batch_upload_a_folder() {
    let env = Env::new();
    let dir = workdir(&env);
    std::fs::create_dir_all(dir.join("clips")).unwrap();
    for name in ["a.mp4", "b.MOV", "c.png"] {
        std::fs::write(dir.join("clips").join(name), vec![7u8; 2048]).unwrap();
    }
    std::fs::write(dir.join("clips/notes.txt"), "not media").unwrap();
    let out = run(&env, &dir, &recipe("Batch upload a folder"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert_eq!(env.requests_to("/api/upload-video/nemo_agent/me/").len(), 3);
}

#[test]
fn export_sessions_in_parallel() {
    let env = Env::new();
    let dir = workdir(&env);
    let sessions: Vec<String> = (0..3).map(|_| env.session()).collect();
    for sid in &sessions {
        env.set_draft(sid, clip_draft());
    }
    env.emu.with_state(|s| s.faults.render.render_ms = 1);
    run(&env, &dir, &recipe("Export sessions in parallel"));
    for sid in &sessions {
        let file = dir.join("out").join(format!("{sid}.mp4"));
        assert!(file.is_file(), "{} missing", file.display());
    }
    let renders = env.config()["renders"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(renders.len(), 3);
}

#[test]
fn gate_ci_on_credits() {
    let env = Env::new();
    let dir = workdir(&env);
    let out = run(&env, &dir, &recipe("Gate CI on credits"));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "credits: 100\n");
    // Below the gate the job fails, saying why.
    env.emu.with_state(|s| {
        for user in s.users.values_mut() {
            user.available = 10;
        }
    });
    let out = bash(&env, &dir)
        .args(["-c", &recipe("Gate CI on credits")])
        .output()
        .expect("run bash");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fewer than 50 credits left"));
}

#[test]
fn pipe_a_prompt_from_a_file() {
    let env = Env::fast();
    let dir = workdir(&env);
    std::fs::write(dir.join("prompt.txt"), "add a title \"From A File\"\n").unwrap();
    let out = run(&env, &dir, &recipe("Pipe a prompt from a file"));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "+ Title: \"From A File\" (0-3s)\n"
    );
}

#[test]
fn resume_a_render_after_a_reboot() {
    let env = Env::new();
    let dir = workdir(&env);
    let sid = env.session();
    env.set_draft(&sid, clip_draft());
    env.emu.with_state(|s| s.faults.render.render_ms = 1);
    // Submitted, then the machine went down before the download.
    let out = env
        .nemo()
        .current_dir(&dir)
        .args(["export", "--no-wait"])
        .assert()
        .success();
    let id = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_string();
    run(&env, &dir, &recipe("Resume a render after a reboot"));
    assert!(dir.join(format!("{id}.mp4")).is_file());
    assert_eq!(env.config()["renders"][0]["status"], "completed");
    // Run again: nothing left to resume, nothing downloaded twice.
    let before = env.requests().len();
    run(&env, &dir, &recipe("Resume a render after a reboot"));
    assert_eq!(
        env.requests().len(),
        before,
        "{:?}",
        &env.requests()[before..]
    );
}
