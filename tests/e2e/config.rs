//! The config store: modes, atomic writes under a lock, damaged files,
//! parallel processes.

use crate::common::{Env, stderr};

#[cfg(unix)]
#[test]
fn folder_is_0700_and_file_0600() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.login();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&env.config_dir()), 0o700);
    assert_eq!(mode(&env.config_path()), 0o600);
    assert_eq!(mode(&env.config_dir().join("client_id")), 0o600);
}

#[test]
fn damaged_config_is_named_and_left_untouched() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    std::fs::write(env.config_path(), "{\"token\": oops").unwrap();
    let out = env.nemo().args(["session", "new"]).assert().code(1);
    let err = stderr(&out);
    assert!(err.contains("nemo-cli.json is damaged"), "{err}");
    assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1);
    assert_eq!(
        std::fs::read_to_string(env.config_path()).unwrap(),
        "{\"token\": oops"
    );
    assert!(env.requests().is_empty(), "nothing was sent");
}

#[test]
fn no_temp_files_are_left_behind() {
    let env = Env::new();
    env.session();
    env.session();
    let leftovers: Vec<_> = std::fs::read_dir(env.config_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn parallel_processes_never_lose_each_others_writes() {
    let env = Env::new();
    env.login();
    // Ten processes at once, each creating a session and recording it.
    let children: Vec<_> = (0..10)
        .map(|_| {
            let mut cmd = env.nemo_process();
            cmd.args(["session", "new", "-q"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ids.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    let config = env.config();
    let known: Vec<&str> = config["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(known.len(), 10, "{config}");
    for id in &ids {
        assert!(known.contains(&id.as_str()), "{id} lost");
    }
}

#[test]
fn parallel_first_use_gets_one_token_and_one_session() {
    let env = Env::new();
    // Eight fresh processes need a token and a session at once: one client
    // id, one token (the emulator allows one per client id, so a second
    // would be a 429), one session.
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = env.nemo_process();
            cmd.args(["state", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 1);
    assert_eq!(env.requests_to("/api/tasks/me/with-session").len(), 1);
    assert_eq!(env.config()["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(env.requests_to("/api/state/").len(), 8);
}

/// A config someone loosened (0644 file, 0755 folder) is tightened back,
/// with a warning naming each path, and the command still runs.
#[cfg(unix)]
#[test]
fn loosened_modes_are_tightened_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.login();
    let set = |p: &std::path::Path, m| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    set(&env.config_dir(), 0o755);
    set(&env.config_path(), 0o644);
    let out = env.nemo().arg("credits").assert().success();
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings[0].ends_with("was readable by others (mode 0755); nemo set it to 0700"),
        "{err}"
    );
    assert!(
        warnings[1].contains("nemo-cli.json was readable by others (mode 0644)"),
        "{err}"
    );
    assert_eq!(mode(&env.config_dir()), 0o700);
    assert_eq!(mode(&env.config_path()), 0o600);
    // Once tight, nothing more is said.
    let out = env.nemo().arg("credits").assert().success();
    assert!(!stderr(&out).contains("warning:"), "{}", stderr(&out));
}
