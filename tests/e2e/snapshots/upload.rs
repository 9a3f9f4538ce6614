//! Snapshots of `nemo upload`: files, URLs, a rejected file.

use super::{Shot, nemo_in_tmp, snap};
use crate::common::Env;

#[test]
fn upload_files_and_urls() {
    let env = Env::new();
    env.session();
    std::fs::write(
        env.tmp.path().join("city timelapse.mp4"),
        vec![1u8; 1_500_000],
    )
    .unwrap();
    std::fs::write(env.tmp.path().join("logo.png"), vec![2u8; 20_000]).unwrap();
    std::fs::write(env.tmp.path().join("music.mp3"), vec![3u8; 300_000]).unwrap();
    snap!(
        "upload_files",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["upload", "city timelapse.mp4", "logo.png", "music.mp3"])
        )
    );
    snap!(
        "upload_urls",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args([
                "upload",
                "https://cdn.example.com/v/beach.MOV",
                "HTTP://example.com/song.mp3"
            ])
        )
    );
}

#[test]
fn upload_rejected_before_sending() {
    let env = Env::new();
    std::fs::write(env.tmp.path().join("good.mp4"), vec![1u8; 5000]).unwrap();
    std::fs::write(env.tmp.path().join("notes.txt"), "notes").unwrap();
    snap!(
        "upload_rejected_type",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["upload", "good.mp4", "notes.txt"])
        )
    );
    snap!(
        "upload_rejected_several",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["upload", "notes.txt", "missing.mov", "http://"])
        )
    );
    let big = env.tmp.path().join("huge.mp4");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(600 * 1024 * 1024)
        .unwrap();
    snap!(
        "upload_rejected_size",
        Shot::of(&env, nemo_in_tmp(&env).args(["upload", "huge.mp4"]))
    );
    assert!(env.requests().is_empty());
}

#[test]
fn upload_refused_by_the_server() {
    let env = Env::new();
    env.session();
    std::fs::write(env.tmp.path().join("first.mp4"), vec![1u8; 3000]).unwrap();
    std::fs::write(env.tmp.path().join("clip.mkv"), vec![2u8; 3000]).unwrap();
    env.emu
        .with_state(|s| s.faults.upload.upload_refused_types = vec!["mkv".into()]);
    snap!(
        "upload_refused_4001",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["upload", "first.mp4", "clip.mkv"])
        )
    );
}
