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

/// Temp files a `kill -9` left mid-write (they hold the token).
fn plant_stale_temp_files(env: &Env, token: &str) -> Vec<std::path::PathBuf> {
    ["abc123", "zz9XyW"]
        .iter()
        .map(|tag| {
            let path = env.config_dir().join(format!(".nemo-cli.{tag}.tmp"));
            std::fs::write(&path, format!("{{\"token\":{{\"value\":\"{token}\"")).unwrap();
            path
        })
        .collect()
}

#[test]
fn stale_temp_files_are_removed_by_the_next_write_and_logout_leaves_none() {
    let env = Env::new();
    let token = env.login();
    let stale = plant_stale_temp_files(&env, &token);
    env.session();
    for path in &stale {
        assert!(!path.exists(), "{} is still there", path.display());
    }
    let stale = plant_stale_temp_files(&env, &token);
    env.nemo().args(["auth", "logout"]).assert().success();
    let left: Vec<_> = std::fs::read_dir(env.config_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|text| text.contains(&token)))
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "the token is still on disk in {left:?}");
    assert!(stale.iter().all(|p| !p.exists()));
}

#[test]
fn the_config_keeps_the_latest_500_renders_and_200_sessions() {
    let env = Env::new();
    std::fs::create_dir_all(env.config_dir()).unwrap();
    let sessions: Vec<_> = (0..300)
        .map(|i| serde_json::json!({"session_id": format!("{}", 1000 + i)}))
        .collect();
    let renders: Vec<_> = (0..600)
        .map(|i| {
            serde_json::json!({
                "render_id": format!("render_{}", 1_700_000_000_000u64 + i),
                "session_id": "1000",
                "format": "mp4",
                "started_at": "2026-01-01T00:00:00Z",
                "status": "completed",
            })
        })
        .collect();
    // The current session is the oldest: it is kept all the same.
    let config = serde_json::json!({
        "current_session": "1000",
        "sessions": sessions,
        "renders": renders,
    });
    std::fs::write(env.config_path(), config.to_string()).unwrap();
    env.login();
    let config = env.config();
    let sessions = config["sessions"].as_array().unwrap();
    let renders = config["renders"].as_array().unwrap();
    assert_eq!(sessions.len(), 200);
    assert_eq!(renders.len(), 500);
    assert_eq!(config["current_session"], "1000");
    assert!(sessions.iter().any(|s| s["session_id"] == "1000"));
    assert_eq!(sessions.last().unwrap()["session_id"], "1299");
    assert_eq!(renders[0]["render_id"], "render_1700000000100");
    assert_eq!(renders[499]["render_id"], "render_1700000000599");
}

/// The config stays bounded: a batch keeps its jobs' sessions in its
/// journal, not in the config (a generate's session is in both).
#[test]
fn a_batch_keeps_its_sessions_in_its_journal_not_in_the_config() {
    use crate::batch::{batch, journal, ready, write_jobs};
    let env = ready();
    let before = env.config()["sessions"].as_array().map_or(0, |s| s.len());
    write_jobs(&env, "a panda\na cat\na dog\n");
    batch(&env, &["jobs.txt", "-j", "2", "-o", "out"])
        .assert()
        .success();
    let journaled: std::collections::BTreeSet<String> = journal(&env)
        .iter()
        .filter_map(|r| r["session_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(journaled.len(), 3, "{:?}", journal(&env));
    let known: Vec<String> = env.config()["sessions"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|r| r["session_id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(known.len(), before, "{known:?}");
    assert!(
        journaled.iter().all(|sid| !known.contains(sid)),
        "{known:?}"
    );
}
