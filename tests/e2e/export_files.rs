//! The files of a download, which must never overwrite what is not
//! nemo's own: a `.part` is
//! resumed only when its sidecar says it is this render's; a symlinked
//! `.part` is never written through; two downloads to one path exclude
//! each other.

use std::path::Path;

use serde_json::json;

use crate::common::{Env, clip_draft, stderr};

fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("emulator/assets/render.mp4");
    std::fs::read(path).expect("the MP4 fixture")
}

/// A logged-in env with a render submitted (not waited for) to `name`.
fn submitted(name: &str) -> (Env, String) {
    let env = Env::new();
    let sid = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session exists").state["draft"] = clip_draft();
        s.faults.render.render_ms = 200;
    });
    let out = env
        .nemo()
        .current_dir(env.tmp.path())
        .args(["export", "--no-wait", "-o", name])
        .assert()
        .success();
    let id = String::from_utf8_lossy(&out.get_output().stdout)
        .trim()
        .to_string();
    (env, id)
}

fn resume(env: &Env, id: &str) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["export", "resume", id, "--poll-interval", "0.05"]);
    cmd
}

fn cdn_ranges(env: &Env) -> Vec<Option<String>> {
    env.requests()
        .into_iter()
        .filter(|r| r.listener == "cdn")
        .map(|r| r.header("range").map(str::to_string))
        .collect()
}

#[test]
fn a_part_file_without_a_sidecar_is_never_resumed_into() {
    let (env, id) = submitted("a.mp4");
    let part = env.tmp.path().join("a.mp4.part");
    std::fs::write(&part, vec![b'Z'; 1000]).unwrap();
    let out = resume(&env, &id).assert().success();
    assert!(
        stderr(&out).contains("is not a download of render"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join("a.mp4")).unwrap(),
        fixture()
    );
    assert_eq!(cdn_ranges(&env), [None], "started afresh");
    assert!(!part.exists());
    assert!(!env.tmp.path().join("a.mp4.part.json").exists());
    assert!(!env.tmp.path().join("a.mp4.part.lock").exists());
}

#[test]
fn a_part_file_of_another_render_is_never_resumed_into() {
    let (env, id) = submitted("b.mp4");
    std::fs::write(env.tmp.path().join("b.mp4.part"), vec![b'Z'; 1000]).unwrap();
    std::fs::write(
        env.tmp.path().join("b.mp4.part.json"),
        json!({"render_id": "render_1", "size": 1000}).to_string(),
    )
    .unwrap();
    resume(&env, &id).assert().success();
    assert_eq!(
        std::fs::read(env.tmp.path().join("b.mp4")).unwrap(),
        fixture()
    );
    assert_eq!(cdn_ranges(&env), [None], "started afresh");
}

#[cfg(unix)]
#[test]
fn a_symlinked_part_file_is_never_written_through() {
    let (env, id) = submitted("c.mp4");
    let victim = env.tmp.path().join("victim.txt");
    std::fs::write(&victim, b"keep me").unwrap();
    let part = env.tmp.path().join("c.mp4.part");
    std::os::unix::fs::symlink(&victim, &part).unwrap();
    // Even with a sidecar that claims it.
    std::fs::write(
        env.tmp.path().join("c.mp4.part.json"),
        json!({"render_id": id, "size": null}).to_string(),
    )
    .unwrap();
    resume(&env, &id).assert().success();
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert_eq!(
        std::fs::read(env.tmp.path().join("c.mp4")).unwrap(),
        fixture()
    );
    assert!(
        !std::fs::symlink_metadata(env.tmp.path().join("c.mp4"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_second_download_to_the_same_path_is_refused_while_the_first_runs() {
    let (env, id) = submitted("d.mp4");
    // Another nemo holds the download lock of d.mp4.
    let lock = std::fs::File::create(env.tmp.path().join("d.mp4.part.lock")).unwrap();
    lock.lock().unwrap();
    let out = resume(&env, &id).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("another nemo is downloading to"), "{err}");
    assert!(!env.tmp.path().join("d.mp4").exists());
    assert!(cdn_ranges(&env).is_empty(), "nothing downloaded");
    drop(lock);
    resume(&env, &id).assert().success();
    assert_eq!(
        std::fs::read(env.tmp.path().join("d.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn two_resumes_at_once_leave_one_whole_file() {
    let (env, id) = submitted("e.mp4");
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = env.nemo_process();
            cmd.current_dir(env.tmp.path())
                .args([
                    "export",
                    "resume",
                    &id,
                    "--poll-interval",
                    "0.05",
                    "--force",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let code = out.status.code();
        assert!(matches!(code, Some(0) | Some(7)), "{code:?}: {err}");
        if code == Some(7) {
            assert!(err.contains("another nemo is downloading to"), "{err}");
        }
        codes.push(code);
    }
    assert!(codes.contains(&Some(0)), "{codes:?}");
    assert_eq!(
        std::fs::read(env.tmp.path().join("e.mp4")).unwrap(),
        fixture()
    );
    assert!(!env.tmp.path().join("e.mp4.part").exists());
}

#[test]
fn two_resumes_without_force_download_once() {
    let (env, id) = submitted("f.mp4");
    let children: Vec<_> = (0..2)
        .map(|_| {
            let mut cmd = env.nemo_process();
            cmd.current_dir(env.tmp.path())
                .args(["export", "resume", &id, "--poll-interval", "0.05"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    let mut codes = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.code() == Some(7) {
            assert!(
                err.contains("another nemo is downloading to") || err.contains("already exists"),
                "{err}"
            );
        }
        codes.push(out.status.code());
    }
    codes.sort();
    assert_eq!(codes, [Some(0), Some(7)], "one saves, the other is refused");
    assert_eq!(
        std::fs::read(env.tmp.path().join("f.mp4")).unwrap(),
        fixture()
    );
    assert_eq!(cdn_ranges(&env).len(), 1, "downloaded once");
    for leftover in ["f.mp4.part", "f.mp4.part.json", "f.mp4.part.lock"] {
        assert!(
            !env.tmp.path().join(leftover).exists(),
            "{leftover} left behind"
        );
    }
}
