//! The interactive `nemo chat` prompt on a real terminal (util-linux
//! `script` gives it one): the words that run a command instead of going
//! to the agent — credits, status, upload, export — do what those commands
//! do, through the same requests, and nothing reaches the agent.

use crate::common::{Env, city_draft, stdout};

/// `script`, which runs a command on a pseudo-terminal; a missing one
/// fails the test rather than let it pass without a terminal.
#[cfg(target_os = "linux")]
fn script() -> std::path::PathBuf {
    ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .expect("util-linux `script` is needed to give nemo a terminal")
}

#[cfg(target_os = "linux")]
#[test]
fn routed_words_run_credits_state_upload_and_export() {
    let env = Env::new();
    let session = env.session();
    env.set_draft(&session, city_draft());
    env.emu.with_state(|s| s.faults.render.render_ms = 100);
    let work = env.tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("clip one.mp4"), vec![7u8; 4096]).unwrap();

    let line = format!("'{}' chat", env!("CARGO_BIN_EXE_nemo"));
    let mut cmd = assert_cmd::Command::new(script());
    cmd.args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "dumb")
        .env("HOME", env.home())
        .env("NEMO_CONFIG_DIR", env.config_dir())
        .env("NEMO_API_URL", &env.emu.api_url)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .current_dir(&work)
        .write_stdin("credits\nstatus\nupload 'clip one.mp4'\nexport\n/quit\n")
        .timeout(std::time::Duration::from_secs(60));
    let out = cmd.assert().success();
    let screen = stdout(&out).replace('\r', "");

    // credits: the balance lines of `nemo credits`.
    assert!(
        screen.contains("available 100\nfrozen 0\ntotal 100"),
        "{screen}"
    );
    // status: the timeline of `nemo state`.
    assert!(screen.contains("Timeline (3 tracks):"), "{screen}");
    assert!(
        screen.contains("3. Title: \"Urban Dreams\" (0-3s)"),
        "{screen}"
    );
    // upload: the file's line of `nemo upload`.
    assert!(screen.contains("clip one.mp4  video"), "{screen}");
    // export: the rendered file, saved under its default name.
    let saved: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("render_") && name.ends_with(".mp4"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}\n{screen}");
    assert!(screen.contains(&saved[0]), "{screen}");
    let mp4 = std::fs::read(work.join(&saved[0])).unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");

    // Each went to its endpoint, once; none was sent to the agent.
    assert_eq!(env.requests_to("/api/credits").len(), 1);
    assert!(!env.requests_to("/api/state/").is_empty());
    assert_eq!(env.emu.snapshot().uploads.len(), 1);
    assert!(env.requests_to("/run_sse").is_empty());
}
