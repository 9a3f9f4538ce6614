//! `generate` and `batch` check the output folder before anything is sent:
//! a folder that takes no write (a full disk) is exit 7 naming it, with no
//! session made, no upload and no prompt — nothing paid.

use crate::batch::write_jobs;
use crate::common::{Env, no_room, stderr};
use crate::generate::{fast_env, set_credits};

/// A logged-in env with credits, a file to upload and an `out/` folder.
fn ready() -> Env {
    let env = fast_env();
    env.login();
    set_credits(&env, 1000);
    std::fs::write(env.tmp.path().join("logo.png"), b"png").unwrap();
    std::fs::create_dir(env.tmp.path().join("out")).unwrap();
    env
}

/// Nothing was sent since `before` requests: no session, no upload, no
/// prompt, not even the balance read.
fn nothing_sent(env: &Env, before: usize) {
    let requests = env.requests();
    let sent: Vec<_> = requests[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(sent.is_empty(), "sent: {sent:?}");
    assert!(env.requests_to("/run_sse").is_empty());
    assert!(env.requests_to("/api/upload").is_empty());
    assert!(env.emu.snapshot().uploads.is_empty());
}

#[cfg(unix)]
#[test]
fn generate_to_a_folder_that_takes_no_write_is_exit_7_before_anything_is_sent() {
    let env = ready();
    let before = env.requests().len();
    let out = no_room(
        &env,
        &[
            "generate",
            "--upload",
            "logo.png",
            "generate a panda",
            "-o",
            "out/panda.mp4",
        ],
    )
    .assert()
    .code(7);
    let err = stderr(&out);
    assert!(err.contains("the folder out cannot be written"), "{err}");
    assert_eq!(err.matches("error: ").count(), 1, "{err}");
    nothing_sent(&env, before);
}

#[cfg(unix)]
#[test]
fn batch_to_a_folder_that_takes_no_write_is_exit_7_before_anything_is_sent() {
    let env = ready();
    let jobs = write_jobs(
        &env,
        "generate a panda\n{\"prompt\":\"a cat\",\"files\":[\"logo.png\"]}\n",
    );
    let before = env.requests().len();
    let out = no_room(&env, &["batch", jobs.to_str().unwrap(), "-o", "out"])
        .assert()
        .code(7);
    let err = stderr(&out);
    assert!(err.contains("the folder out cannot be written"), "{err}");
    nothing_sent(&env, before);
}
