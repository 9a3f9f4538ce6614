//! `nemo upload`: checks before sending, streaming, URLs, server errors,
//! recovery after 1001/1002, output and progress.

use std::path::Path;

use nemo_emulator::upload::UploadRecord;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{Env, json, stderr, stdout};

const UPLOAD_PATH: &str = "/api/upload-video/nemo_agent/me/";

/// Writes `len` pseudo-random bytes (seeded) and returns their sha256.
fn write_file(path: &Path, len: usize, seed: u64) -> String {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut bytes = vec![0u8; len];
    rng.fill(&mut bytes);
    std::fs::write(path, &bytes).expect("write the test file");
    hex(&Sha256::digest(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn uploads(env: &Env) -> Vec<UploadRecord> {
    env.emu.snapshot().uploads
}

fn media_of(env: &Env, session: &str) -> Vec<Value> {
    env.emu.snapshot().sessions[session].state["video_infos"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `name  type  duration  WxH` from a server entry, as the spec shapes it.
fn expected_line(file: &Value) -> String {
    let mut fields = vec![file["filename"].as_str().unwrap().to_string()];
    fields.push(file["file_type"].as_str().unwrap().to_string());
    // Always four fields, `-` for what the server did not give.
    fields.push(match file["duration"].as_f64() {
        Some(d) => {
            let text = format!("{d:.2}");
            format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
        }
        None => "-".into(),
    });
    fields.push(match (file["width"].as_u64(), file["height"].as_u64()) {
        (Some(w), Some(h)) => format!("{w}x{h}"),
        _ => "-".into(),
    });
    fields.join("  ")
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn streams_a_multi_megabyte_file_byte_for_byte() {
    let env = Env::new();
    let session = env.session();
    let file = env.tmp.path().join("city timelapse.mp4");
    let size = 6 * 1024 * 1024 + 12_345;
    let sha = write_file(&file, size, 1);

    let out = env
        .nemo()
        .args(["upload", &path_arg(&file)])
        .assert()
        .success();

    let records = uploads(&env);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(record.size, Some(size as u64));
    assert_eq!(record.filename, "city timelapse.mp4");
    assert_eq!(record.content_type.as_deref(), Some("video/mp4"));
    assert_eq!(record.source, "file");
    assert_eq!(record.session_id, session);

    let sent = env.requests_to(UPLOAD_PATH);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("{UPLOAD_PATH}{session}"));
    assert!(
        sent[0]
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    // The length is declared up front (a known-length stream, not chunked).
    let declared: u64 = sent[0].header("content-length").unwrap().parse().unwrap();
    assert!(declared > size as u64, "{declared}");

    let media = media_of(&env, &session);
    assert_eq!(media.len(), 1);
    assert_eq!(media[0]["hash"], sha.as_str());
    assert_eq!(stdout(&out), format!("{}\n", expected_line(&media[0])));
    assert!(stdout(&out).starts_with("city timelapse.mp4  video  "));
    let err = stderr(&out);
    assert!(
        err.contains("Uploading city timelapse.mp4 (6.0 MB)…"),
        "{err}"
    );
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn json_prints_the_files_as_the_server_returned_them() {
    let env = Env::new();
    let session = env.session();
    let png = env.tmp.path().join("logo.png");
    let mp3 = env.tmp.path().join("music.mp3");
    write_file(&png, 20_000, 2);
    write_file(&mp3, 300_000, 3);
    let out = env
        .nemo()
        .args(["upload", &path_arg(&png), &path_arg(&mp3), "--json"])
        .assert()
        .success();
    let doc = json(&out);
    let media = media_of(&env, &session);
    assert_eq!(doc, json!({ "files": media }));
    assert_eq!(doc["files"][0]["file_type"], "image");
    assert_eq!(doc["files"][1]["file_type"], "audio");
    // One request per local file.
    assert_eq!(env.requests_to(UPLOAD_PATH).len(), 2);

    let out = env
        .nemo()
        .args(["upload", &path_arg(&png), &path_arg(&mp3)])
        .assert()
        .success();
    let media = media_of(&env, &session);
    assert_eq!(
        stdout(&out),
        format!(
            "{}\n{}\n",
            expected_line(&media[2]),
            expected_line(&media[3])
        )
    );
    assert!(stdout(&out).starts_with("logo.png  image  -  1080x1080\nmusic.mp3  audio  "));
}

#[test]
fn content_types_follow_the_extension_in_any_case() {
    let env = Env::new();
    env.session();
    let expected = [
        ("a.mp4", "video/mp4"),
        ("b.MOV", "video/quicktime"),
        ("c.avi", "video/x-msvideo"),
        ("d.WebM", "video/webm"),
        ("e.mkv", "video/x-matroska"),
        ("f.JPG", "image/jpeg"),
        ("g.jpeg", "image/jpeg"),
        ("h.png", "image/png"),
        ("i.gif", "image/gif"),
        ("j.webp", "image/webp"),
        ("k.mp3", "audio/mpeg"),
        ("l.WAV", "audio/wav"),
        ("m.m4a", "audio/mp4"),
        ("n.aac", "audio/aac"),
    ];
    let mut args = vec!["upload".to_string()];
    for (i, (name, _)) in expected.iter().enumerate() {
        let path = env.tmp.path().join(name);
        write_file(&path, 1000 + i, i as u64);
        args.push(path_arg(&path));
    }
    let out = env.nemo().args(&args).assert().success();
    assert_eq!(stdout(&out).lines().count(), expected.len());
    let records = uploads(&env);
    let got: Vec<(String, String)> = records
        .iter()
        .map(|r| (r.filename.clone(), r.content_type.clone().unwrap()))
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(n, c)| (n.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn nothing_is_sent_when_one_of_three_arguments_is_bad() {
    let env = Env::new();
    let good = env.tmp.path().join("good.mp4");
    let notes = env.tmp.path().join("notes.txt");
    write_file(&good, 5000, 4);
    write_file(&notes, 100, 5);
    let missing = env.tmp.path().join("missing.mov");
    let cases: [(Vec<String>, &str, &str); 3] = [
        (
            vec![path_arg(&good), path_arg(&notes), path_arg(&good)],
            "notes.txt: files of type .txt are not accepted",
            "accepted formats: mp4 mov avi webm mkv",
        ),
        (
            vec![path_arg(&good), path_arg(&good), path_arg(&missing)],
            "missing.mov: no such file",
            "check the paths",
        ),
        (
            vec![
                path_arg(env.tmp.path()),
                path_arg(&good),
                "https://example.com/a.mp4".into(),
            ],
            "is a folder, not a file",
            "check the paths",
        ),
    ];
    for (args, reason, hint) in cases {
        let out = env.nemo().arg("upload").args(&args).assert().code(7);
        let err = stderr(&out);
        assert!(err.contains("error: cannot upload "), "{err}");
        assert!(err.contains(reason), "{err}");
        assert!(err.contains("nothing was sent"), "{err}");
        assert!(err.contains(&format!("hint: {hint}")), "{err}");
        assert_eq!(stdout(&out), "");
        // Not even a token or a session was asked for.
        assert!(env.requests().is_empty(), "{:?}", env.requests());
    }
    assert!(!env.config_path().exists());

    // Several bad ones: each is named; --json gets the error document.
    let out = env
        .nemo()
        .args(["upload", "--json", &path_arg(&notes), &path_arg(&missing)])
        .arg("http://")
        .assert()
        .code(7);
    let doc = json(&out);
    assert_eq!(doc["error"]["kind"], "input");
    assert_eq!(doc["error"]["exit_code"], 7);
    let message = doc["error"]["message"].as_str().unwrap();
    assert!(message.contains("3 of 3 arguments"), "{message}");
    assert!(
        message.contains("notes.txt: files of type .txt"),
        "{message}"
    );
    assert!(message.contains("missing.mov: no such file"), "{message}");
    assert!(message.contains("http://: not a valid URL"), "{message}");
    assert!(env.requests().is_empty());
}

#[test]
fn files_over_500_mb_are_refused_from_metadata() {
    let env = Env::new();
    let big = env.tmp.path().join("huge.mp4");
    // Sparse: nothing to read, and nemo must not try.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(600 * 1024 * 1024)
        .unwrap();
    let edge = env.tmp.path().join("edge.mov");
    std::fs::File::create(&edge)
        .unwrap()
        .set_len(500 * 1024 * 1024 + 1)
        .unwrap();
    let out = env
        .nemo()
        .args(["upload", &path_arg(&big)])
        .assert()
        .code(7);
    let err = stderr(&out);
    assert!(
        err.contains("error: cannot upload ")
            && err.contains(
                "huge.mp4: 600.0 MB (629145600 bytes) is over the 500 MB limit (524288000 bytes); nothing was sent"
            ),
        "{err}"
    );
    assert!(err.contains("hint: files are limited to 500 MB"), "{err}");
    let out = env
        .nemo()
        .args(["upload", &path_arg(&edge)])
        .assert()
        .code(7);
    // One byte over: the exact sizes say why "500.0 MB" is refused.
    let err = stderr(&out);
    assert!(
        err.contains(
            "edge.mov: 500.0 MB (524288001 bytes) is over the 500 MB limit (524288000 bytes)"
        ),
        "{err}"
    );
    assert!(env.requests().is_empty());
}

#[test]
fn urls_go_in_one_json_request() {
    let env = Env::new();
    let session = env.session();
    let file = env.tmp.path().join("a.mp4");
    let sha = write_file(&file, 4096, 6);
    let urls = [
        "https://cdn.example.com/v/beach.MOV",
        "HTTP://example.com/song.mp3",
    ];
    let out = env
        .nemo()
        .args(["upload", urls[0], &path_arg(&file), urls[1]])
        .assert()
        .success();
    let sent = env.requests_to(UPLOAD_PATH);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0]
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data")
    );
    assert_eq!(sent[1].header("content-type"), Some("application/json"));
    let records = uploads(&env);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0].sha256.as_deref(), Some(sha.as_str()));
    let url_records: Vec<(Option<String>, String)> = records[1..]
        .iter()
        .map(|r| (r.url.clone(), r.source.clone()))
        .collect();
    assert_eq!(
        url_records,
        vec![
            (Some(urls[0].to_string()), "url".to_string()),
            (Some(urls[1].to_string()), "url".to_string())
        ]
    );
    let media = media_of(&env, &session);
    let lines: Vec<String> = media.iter().map(expected_line).collect();
    assert_eq!(stdout(&out), format!("{}\n", lines.join("\n")));
    assert!(stdout(&out).contains("beach.MOV  video"));
    assert!(stderr(&out).contains("Sending 2 URLs…"));
}

#[test]
fn server_4001_and_4002_exit_7_with_their_hints() {
    let env = Env::new();
    env.session();
    let first = env.tmp.path().join("first.mp4");
    let mkv = env.tmp.path().join("clip.mkv");
    write_file(&first, 3000, 7);
    write_file(&mkv, 3000, 8);
    env.emu
        .with_state(|s| s.faults.upload.upload_refused_types = vec!["mkv".into()]);
    let out = env
        .nemo()
        .args(["upload", &path_arg(&first), &path_arg(&mkv)])
        .assert()
        .code(7);
    let err = stderr(&out);
    assert!(
        err.contains("error: the server does not accept this file type"),
        "{err}"
    );
    assert!(err.contains("hint: accepted formats:"), "{err}");
    // The file before it stays uploaded, and says so.
    assert!(
        stdout(&out).starts_with("first.mp4  video  "),
        "{}",
        stdout(&out)
    );
    assert!(
        err.contains("warning: uploaded before the failure: first.mp4"),
        "{err}"
    );
    assert_eq!(
        err,
        "Uploading first.mp4 (2.9 KB)…\n\
         Uploading clip.mkv (2.9 KB)…\n\
         warning: uploaded before the failure: first.mp4\n\
         error: the server does not accept this file type\n\
         hint: accepted formats: mp4 mov avi webm mkv (video), jpg jpeg png gif webp (image), \
         mp3 wav m4a aac (audio)\n"
    );
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stdout(&out));
    assert_eq!(env.requests_to(UPLOAD_PATH).len(), 2);

    let doc = json(
        &env.nemo()
            .args(["upload", "--json", &path_arg(&mkv)])
            .assert()
            .code(7),
    );
    assert_eq!(doc["error"]["api_code"], 4001);
    assert_eq!(doc["error"]["kind"], "input");

    env.emu.with_state(|s| {
        s.faults.upload.upload_refused_types.clear();
        s.faults.upload.upload_max_bytes = 2000;
    });
    let out = env
        .nemo()
        .args(["upload", "--json", &path_arg(&first)])
        .assert()
        .code(7);
    assert_eq!(json(&out)["error"]["api_code"], 4002);
    let err = stderr(&out);
    assert!(
        err.contains("error: the file is too large for the server"),
        "{err}"
    );
    assert!(err.contains("hint: files are limited to 500 MB"), "{err}");
    assert_eq!(uploads(&env).len(), 1);
}

#[test]
fn a_lost_session_is_replaced_and_the_file_sent_again_once() {
    let env = Env::new();
    let old = env.session();
    let file = env.tmp.path().join("take.mp4");
    let sha = write_file(&file, 3 * 1024 * 1024, 9);
    env.emu.with_state(|s| s.lose_all_sessions());

    let out = env
        .nemo()
        .args(["upload", &path_arg(&file)])
        .assert()
        .success();
    let new = env.config()["current_session"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: session {old} was not found on the server; started a new session {new}"
        )),
        "{err}"
    );
    let sent = env.requests_to(UPLOAD_PATH);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].path, format!("{UPLOAD_PATH}{old}"));
    assert_eq!(sent[1].path, format!("{UPLOAD_PATH}{new}"));
    let records = uploads(&env);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].session_id, new);
    assert_eq!(records[0].sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(media_of(&env, &new).len(), 1);
    assert!(stdout(&out).starts_with("take.mp4  video  "));

    // Lost again right after: recovered once only, then exit 10.
    env.emu
        .with_state(|s| s.faults.upload.upload_session_lost_next = 2);
    let out = env
        .nemo()
        .args(["upload", &path_arg(&file)])
        .assert()
        .code(10);
    assert_eq!(env.requests_to(UPLOAD_PATH).len(), 4);
    let err = stderr(&out);
    assert!(
        err.contains("was not found on the server; started a new session"),
        "{err}"
    );
    assert!(
        err.contains("error: the session was not found on the server"),
        "{err}"
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(uploads(&env).len(), 1);
}

#[test]
fn an_expired_token_is_renewed_and_the_file_sent_again() {
    let env = Env::new();
    let session = env.session();
    let old_token = env.stored_token().unwrap();
    let file = env.tmp.path().join("renew.webm");
    let sha = write_file(&file, 2 * 1024 * 1024, 10);
    env.emu.with_state(|s| s.expire_all_tokens());
    let out = env
        .nemo()
        .args(["upload", &path_arg(&file)])
        .assert()
        .success();
    assert_ne!(env.stored_token().unwrap(), old_token);
    assert_eq!(env.requests_to(UPLOAD_PATH).len(), 2);
    let records = uploads(&env);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sha256.as_deref(), Some(sha.as_str()));
    assert_eq!(records[0].session_id, session);
    assert!(stdout(&out).starts_with("renew.webm  video  "));
    assert!(!stderr(&out).contains(&old_token));
}

#[test]
fn no_progress_bar_when_stderr_is_not_a_terminal() {
    let env = Env::new();
    env.session();
    let file = env.tmp.path().join("quiet.mp4");
    write_file(&file, 1024 * 1024, 11);
    let out = env
        .nemo()
        .args(["upload", &path_arg(&file)])
        .assert()
        .success();
    let err = stderr(&out);
    assert_eq!(err, "Uploading quiet.mp4 (1.0 MB)…\n");
    let out = env
        .nemo()
        .args(["upload", "-q", &path_arg(&file)])
        .assert()
        .success();
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out).lines().count(), 1);
}

/// Runs nemo under util-linux `script`, which gives it a terminal; returns
/// what the terminal showed. Linux only (BSD `script` on macOS takes other
/// flags; the test is marked ignored there). A missing `script` fails the
/// test: it must never pass without having looked at a terminal.
#[cfg(target_os = "linux")]
fn on_a_terminal(env: &Env, args: &[String]) -> String {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .expect(
            "util-linux `script` is needed to give nemo a terminal \
             (Debian/Ubuntu: package bsdutils; Alpine: util-linux-misc)",
        );
    let mut line = shell_quote(env!("CARGO_BIN_EXE_nemo"));
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    let output = std::process::Command::new(script)
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("HOME", env.home())
        .env("NEMO_CONFIG_DIR", env.config_dir())
        .env("NEMO_API_URL", &env.emu.api_url)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run script");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[cfg(target_os = "linux")]
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Shown as ignored where util-linux `script` cannot give nemo a terminal.
#[cfg(not(target_os = "linux"))]
#[test]
#[ignore = "needs util-linux `script` (Linux only)"]
fn a_progress_bar_per_file_on_a_terminal() {}

#[cfg(target_os = "linux")]
#[test]
fn a_progress_bar_per_file_on_a_terminal() {
    let env = Env::new();
    env.session();
    let a = env.tmp.path().join("one.mp4");
    let b = env.tmp.path().join("two.png");
    write_file(&a, 2 * 1024 * 1024, 12);
    write_file(&b, 300 * 1024, 13);
    let screen = on_a_terminal(&env, &["upload".into(), path_arg(&a), path_arg(&b)]);
    assert!(screen.contains("one.mp4 [="), "{screen:?}");
    assert!(screen.contains("/2.0 MB"), "{screen:?}");
    assert!(screen.contains("two.png [="), "{screen:?}");
    assert!(screen.contains("/300.0 KB"), "{screen:?}");
    assert!(
        screen.contains("two.png  image  -  1080x1080"),
        "{screen:?}"
    );
    assert!(!screen.contains("Uploading one.mp4"), "{screen:?}");
    assert_eq!(uploads(&env).len(), 2);

    let quiet = on_a_terminal(&env, &["upload".into(), "-q".into(), path_arg(&b)]);
    assert!(!quiet.contains("[="), "{quiet:?}");
    assert!(quiet.contains("two.png  image"), "{quiet:?}");
}

#[test]
fn rate_limited_once_the_file_is_sent_again() {
    let env = Env::new();
    env.session();
    let file = env.tmp.path().join("again.mp4");
    let sha = write_file(&file, 3 * 1024 * 1024, 14);
    env.emu.with_state(|s| s.faults.rate_limit_next = 1);
    let out = env
        .nemo()
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .args(["upload", &path_arg(&file)])
        .assert()
        .success();
    assert_eq!(env.requests_to(UPLOAD_PATH).len(), 2);
    let records = uploads(&env);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sha256.as_deref(), Some(sha.as_str()));
    assert!(stdout(&out).starts_with("again.mp4  video  "));
}

/// Paths are OS strings: a file whose name is not UTF-8 uploads like any
/// other (its part's file name is shown lossily).
#[cfg(unix)]
#[test]
fn a_path_that_is_not_utf8_is_uploaded() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.session();
    let name = std::ffi::OsStr::from_bytes(b"clip-\xff.mp4");
    let path = env.tmp.path().join(name);
    std::fs::write(&path, vec![7u8; 4096]).unwrap();
    let out = env.nemo().arg("upload").arg(&path).assert().success();
    assert_eq!(uploads(&env).len(), 1, "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("clip-\u{fffd}.mp4  video"),
        "{}",
        stdout(&out)
    );
}
