//! Dynamic completion (`NEMO_COMPLETE=<shell> nemo`): values as well as flags —
//! session and render ids from the config, `--format`, `--quality`, shells.

use crate::common::{Env, clip_draft, stdout};

/// What the completer offers for the last word of `words` (fish's
/// protocol: a candidate a line, `value<TAB>help`), values only.
fn offered(env: &Env, words: &[&str]) -> Vec<String> {
    let out = env
        .nemo()
        .env("NEMO_COMPLETE", "fish")
        .arg("--")
        .arg("nemo")
        .args(words)
        .assert()
        .success();
    stdout(&out)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or("").to_string())
        .filter(|v| !v.starts_with('-'))
        .collect()
}

#[test]
fn ids_from_the_config_formats_qualities_and_shells() {
    let env = Env::new();
    let first = env.session();
    let second = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&second).expect("the session").state["draft"] = clip_draft();
    });
    let render = stdout(
        &env.nemo()
            .current_dir(env.tmp.path())
            .args(["export", "--no-wait"])
            .assert()
            .success(),
    )
    .trim()
    .to_string();
    assert!(render.starts_with("render_"), "{render}");

    // The current session first.
    assert_eq!(
        offered(&env, &["session", "use", ""]),
        [second.clone(), first.clone()]
    );
    assert_eq!(
        offered(&env, &["--session", ""]),
        [second.clone(), first.clone()]
    );
    // A typed prefix narrows the list.
    assert_eq!(
        offered(&env, &["state", "--session", &first]),
        vec![first.clone()]
    );
    assert_eq!(
        offered(&env, &["export", "resume", ""]),
        vec![render.clone()]
    );
    assert_eq!(offered(&env, &["export", "cancel", "render_"]), [render]);
    assert_eq!(
        offered(&env, &["export", "--format", ""]),
        ["mp4", "mov", "webm", "gif"]
    );
    assert_eq!(
        offered(&env, &["export", "--quality", ""]),
        ["low", "medium", "high"]
    );
    assert_eq!(
        offered(&env, &["completions", ""]),
        ["bash", "elvish", "fish", "powershell", "zsh"]
    );
}

#[test]
fn no_config_offers_no_ids_and_the_registration_scripts_print() {
    let env = Env::new();
    assert!(offered(&env, &["session", "use", ""]).is_empty());
    for (shell, marker) in [
        ("bash", "_clap_complete_nemo"),
        ("zsh", "#compdef nemo"),
        ("fish", "complete --keep-order --exclusive --command nemo"),
    ] {
        let out = env.nemo().env("NEMO_COMPLETE", shell).assert().success();
        assert!(stdout(&out).contains(marker), "{shell}: {}", stdout(&out));
    }
    assert!(env.requests().is_empty());
}

#[test]
fn a_stray_complete_variable_changes_nothing() {
    let env = Env::new();
    let out = env
        .nemo()
        .env("COMPLETE", "1")
        .arg("credits")
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 100\nfrozen 0\ntotal 100\n");
}

/// Under `--sandbox` (or `NEMO_SANDBOX=1`) the ids offered are the
/// sandbox's own, from `<config-dir>/sandbox/`, not the real config's.
#[test]
fn the_sandbox_offers_its_own_ids() {
    let env = Env::new();
    // Two real sessions, one in the sandbox: the lists tell them apart
    // (both emulators number their sessions alike).
    let first = env.session();
    let second = env.session();
    let out = env
        .nemo()
        .args(["--sandbox", "session", "new"])
        .assert()
        .success();
    let sandboxed = stdout(&out).trim().to_string();

    assert_eq!(offered(&env, &["session", "use", ""]), [second, first]);
    assert_eq!(
        offered(&env, &["--sandbox", "session", "use", ""]),
        std::slice::from_ref(&sandboxed)
    );
    assert_eq!(
        offered(&env, &["state", "--sandbox", "--session", ""]),
        std::slice::from_ref(&sandboxed)
    );
    let out = env
        .nemo()
        .env("NEMO_COMPLETE", "fish")
        .env("NEMO_SANDBOX", "1")
        .args(["--", "nemo", "session", "use", ""])
        .assert()
        .success();
    let first = stdout(&out);
    assert_eq!(first.trim().split('\t').next(), Some(sandboxed.as_str()));
    // --config-dir among the words is the folder looked in.
    let other = env.tmp.path().join("other");
    assert!(
        offered(
            &env,
            &[
                "--config-dir",
                other.to_str().unwrap(),
                "session",
                "use",
                ""
            ]
        )
        .is_empty()
    );
}
