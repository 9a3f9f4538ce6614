//! `nemo session new` with a config it cannot write: the lock and the
//! folder are checked before the session is created on the server, so no
//! session is ever made that could not be recorded.

use crate::common::{Env, stderr};

fn creates(env: &Env) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/tasks"))
        .count()
}

#[test]
fn a_config_lock_that_cannot_be_taken_stops_before_anything_remote() {
    let env = Env::new();
    env.login();
    // A directory where the lock file goes: no process, root included,
    // can open it for writing.
    let lock = env.config_dir().join("nemo-cli.json.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let before = env.config();
    let out = env.nemo().args(["session", "new"]).assert().code(1);
    let err = stderr(&out);
    assert!(
        err.contains(&env.config_dir().display().to_string()),
        "{err}"
    );
    assert_eq!(
        creates(&env),
        0,
        "no session made on the server: {:?}",
        env.requests()
    );
    assert_eq!(env.config(), before);
}

#[cfg(unix)]
#[test]
fn a_read_only_config_folder_stops_before_anything_remote() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let env = Env::new();
    env.login();
    let dir = env.config_dir();
    let as_root = std::fs::metadata(&dir).unwrap().uid() == 0;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let out = env.nemo().args(["session", "new"]).assert();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    if as_root {
        // Mode 0500 does not stop root (CI runs as root): the folder is
        // writable to it, so the session is made and recorded, and the
        // order of the checks is shown by the lock test above instead.
        let sid = crate::common::stdout(&out.success());
        assert_eq!(creates(&env), 1, "one session made on the server");
        assert_eq!(
            env.config()["current_session"],
            sid.trim(),
            "{}",
            env.config()
        );
        return;
    }
    let err = stderr(&out.code(1));
    assert!(err.contains(&dir.display().to_string()), "{err}");
    assert_eq!(creates(&env), 0, "no session made on the server");
}

/// The session `chat` and `upload` make on first use follows the same
/// order: a config that cannot be written stops them before the session is
/// created on the server (it would be made and never recorded).
#[test]
fn first_use_with_a_config_that_cannot_be_written_creates_nothing_remote() {
    let env = Env::new();
    env.login();
    let media = env.tmp.path().join("clip.mp4");
    std::fs::write(&media, b"\x00\x00\x00\x18ftypmp42").unwrap();
    let lock = env.config_dir().join("nemo-cli.json.lock");
    let _ = std::fs::remove_file(&lock);
    std::fs::create_dir(&lock).unwrap();
    let before = env.config();
    for args in [
        vec!["chat", "hello"],
        vec!["upload", media.to_str().unwrap()],
    ] {
        let out = env.nemo().args(&args).assert().code(1);
        let err = stderr(&out);
        assert!(
            err.contains(&env.config_dir().display().to_string()),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        creates(&env),
        0,
        "no session made on the server: {:?}",
        env.requests()
    );
    assert!(
        !env.requests()
            .iter()
            .any(|r| r.path == "/run_sse" || r.path.contains("upload")),
        "nothing sent: {:?}",
        env.requests()
    );
    assert_eq!(env.config(), before);
}
