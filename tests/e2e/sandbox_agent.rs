//! `nemo --sandbox` against its in-process emulator, from the emulator's
//! side: the scripted agent does what the request asks, by intent, in the
//! request's or the session's language; failures come from markers only;
//! `NEMO_SANDBOX_FAULTS` puts a faults file in force.

use assert_cmd::Command;
use serde_json::Value;

use crate::common::{Env, stderr, stdout};

/// `nemo --sandbox …` in this test's temp dir, the test's own emulator
/// out of the way.
fn sandbox(env: &Env, args: &[&str]) -> Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .env_remove("NEMO_API_URL")
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .arg("--sandbox")
        .args(args);
    cmd
}

fn credits(env: &Env) -> i64 {
    let out = sandbox(env, &["credits", "--json"]).assert().success();
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    doc["available"].as_i64().expect("available")
}

#[test]
fn the_help_example_make_the_music_quieter_spends_nothing_without_a_video() {
    let env = Env::new();
    let out = sandbox(&env, &["chat", "-"])
        .write_stdin("make the music quieter\n")
        .assert()
        .success();
    let text = stdout(&out);
    assert!(text.contains("nothing to edit"), "{text}");
    assert!(!text.contains("Your video is ready"), "{text}");
    assert_eq!(credits(&env), 100);
    assert!(env.requests().is_empty(), "the test's emulator saw nothing");
}

#[test]
fn crashing_waves_generate_and_the_title_goes_when_asked() {
    let env = Env::new();
    let out = sandbox(
        &env,
        &["chat", "generate a video of waves crashing on rocks"],
    )
    .assert()
    .success();
    assert!(
        stdout(&out).contains("a 10-second clip of waves crashing on rocks"),
        "{}",
        stdout(&out)
    );
    assert_eq!(credits(&env), 0);
    // No credits left for an edit: exit 4, nothing changed.
    sandbox(&env, &["chat", "remove the title"])
        .assert()
        .code(4);
    let state = env.config_dir().join("sandbox/emulator.json");
    let mut saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    for user in saved["users"].as_object_mut().unwrap().values_mut() {
        user["available"] = 500.into();
    }
    std::fs::write(&state, serde_json::to_vec(&saved).unwrap()).unwrap();
    let out = sandbox(&env, &["chat", "remove the title"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "I removed the title.\n");
    let out = sandbox(&env, &["state"]).assert().success();
    let timeline = stdout(&out);
    assert!(!timeline.contains("Title"), "{timeline}");
    assert!(!timeline.contains("Untitled"), "{timeline}");
    assert!(
        timeline.contains("Video: waves crashing on rocks"),
        "{timeline}"
    );
}

#[test]
fn a_chinese_request_gets_a_chinese_reply_and_ordinary_words_never_fail() {
    let env = Env::new();
    let out = sandbox(&env, &["chat", "生成一个10秒的熊猫视频"])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "好的，我来生成一段10秒的视频：熊猫……\n视频做好了：一段10秒的视频（熊猫），配上了轻音乐和标题「熊猫」。\n"
    );
    // "terror" holds "error", "crash it" is a request: questions, free.
    for message in ["is a terror movie possible?", "crash it"] {
        let out = sandbox(&env, &["chat", message]).assert().success();
        assert!(!stderr(&out).contains("error:"), "{}", stderr(&out));
    }
    // The marker does fail.
    sandbox(&env, &["chat", "[[sandbox:crash]]"])
        .assert()
        .code(8);
}

#[test]
fn a_zh_cn_session_answers_in_chinese() {
    let env = Env::new();
    let out = sandbox(&env, &["chat", "what can you do?"])
        .env("LANG", "zh_CN.UTF-8")
        .assert()
        .success();
    assert!(stdout(&out).starts_with("我可以"), "{}", stdout(&out));
}

#[test]
fn a_faults_file_rehearses_a_failing_render_and_a_bad_one_is_exit_2() {
    let env = Env::new();
    let file = env.tmp.path().join("faults.json");
    std::fs::write(&file, r#"{"render_fail_on": [1], "render_seconds": 0.2}"#).unwrap();
    let with_faults = |args: &[&str]| {
        let mut cmd = sandbox(&env, args);
        cmd.env("NEMO_SANDBOX_FAULTS", &file);
        cmd
    };
    with_faults(&["chat", "generate a video of a fox"])
        .assert()
        .success();
    let out = with_faults(&["export", "-o", "fox.mp4"]).assert().code(8);
    assert!(stderr(&out).contains("failed"), "{}", stderr(&out));
    // The second render is fine.
    with_faults(&["export", "-o", "fox.mp4"]).assert().success();
    assert!(env.tmp.path().join("fox.mp4").exists());

    std::fs::write(&file, r#"{"no_such_fault": true}"#).unwrap();
    let out = with_faults(&["credits"]).assert().code(2);
    let err = stderr(&out);
    assert!(err.contains("NEMO_SANDBOX_FAULTS"), "{err}");
    assert!(err.contains("faults.json"), "{err}");
    assert!(err.contains("no_such_fault"), "{err}");
}

#[test]
fn nemo_sandbox_refuses_a_faults_file_that_is_not_json() {
    let env = Env::new();
    let file = env.tmp.path().join("broken.json");
    std::fs::write(&file, "{render_fail_on: [3]").unwrap();
    let out = env
        .nemo()
        .args(["sandbox", "--faults"])
        .arg(&file)
        .assert()
        .code(2);
    let err = stderr(&out);
    assert!(err.starts_with("error: --faults "), "{err}");
    assert!(err.contains("broken.json: not JSON"), "{err}");
}

#[test]
fn nemo_sandbox_serves_with_the_faults_of_its_file() {
    let env = Env::new();
    let file = env.tmp.path().join("faults.json");
    std::fs::write(&file, r#"{"no_credits": true}"#).unwrap();
    let mut child = env
        .nemo_process()
        .args(["sandbox", "--faults"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    let url = line
        .trim()
        .strip_prefix("NEMO_API_URL=")
        .map(str::to_string);
    let out = url.as_ref().map(|url| {
        env.nemo()
            .env("NEMO_API_URL", url)
            .args(["credits", "--json"])
            .output()
            .unwrap()
    });
    child.kill().unwrap();
    let _ = child.wait();
    let out = out.expect("the first line names the URL");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["available"], 0, "no_credits from the file: {doc}");
}

#[test]
fn export_format_mov_webm_and_gif_saves_that_container() {
    let env = Env::new();
    let file = env.tmp.path().join("faults.json");
    std::fs::write(&file, r#"{"render_seconds": 0.2}"#).unwrap();
    let with_faults = |args: &[&str]| {
        let mut cmd = sandbox(&env, args);
        cmd.env("NEMO_SANDBOX_FAULTS", &file);
        cmd
    };
    with_faults(&["chat", "generate a video of a fox"])
        .assert()
        .success();
    std::fs::create_dir(env.tmp.path().join("out")).unwrap();
    let formats: [(&str, &[u8], &[u8]); 3] = [
        ("mov", b"\0\0\0\x14ftypqt  ", nemo_emulator::RENDERED_MOV),
        ("webm", b"\x1a\x45\xdf\xa3", nemo_emulator::RENDERED_WEBM),
        ("gif", b"GIF89a", nemo_emulator::RENDERED_GIF),
    ];
    for (format, magic, bytes) in formats {
        let out = with_faults(&["export", "--format", format, "-o", "out/"])
            .assert()
            .success();
        let saved = std::path::PathBuf::from(stdout(&out).trim());
        assert_eq!(
            saved.extension().and_then(|e| e.to_str()),
            Some(format),
            "{}",
            stdout(&out)
        );
        let got = std::fs::read(env.tmp.path().join(&saved)).unwrap();
        assert!(got.starts_with(magic), "{format}: {:?}", &got[..16]);
        assert!(got == bytes, "{format}: not the emulator's file");
    }
}
