//! `nemo export`: submit → poll → download, the `.part` discipline, resume
//! (in one run after a cut, and across runs), fallbacks, failures and their
//! exit codes, `--no-wait`/`resume`/`list`/`cancel`, and parallel exports.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::{Value, json};

use crate::common::{Env, clip_draft, json, stderr, stdout};

/// The file every emulated render produces, read from disk (not through
/// the emulator) to compare downloads with.
fn fixture() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("emulator/assets/render.mp4");
    std::fs::read(path).expect("the MP4 fixture")
}

/// A logged-in env with a current session that has something to export;
/// renders take 200 ms.
fn ready() -> (Env, String) {
    let env = Env::new();
    let sid = env.session();
    env.set_draft(&sid, clip_draft());
    env.emu.with_state(|s| s.faults.render.render_ms = 200);
    (env, sid)
}

/// `nemo export …` run in the test's temp folder, polling fast.
fn export(env: &Env, args: &[&str]) -> Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["export", "--poll-interval", "0.05"])
        .args(args);
    cmd
}

/// `nemo export --no-wait …`: submits a render and returns its id.
fn submit(env: &Env, args: &[&str]) -> String {
    let out = export(env, args).assert().success();
    stdout(&out).trim().to_string()
}

/// `nemo export resume ID …` run in the test's temp folder, polling fast.
fn resume(env: &Env, id: &str, args: &[&str]) -> Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["export", "resume", id, "--poll-interval", "0.05"])
        .args(args);
    cmd
}

fn cdn_requests(env: &Env) -> Vec<nemo_emulator::RecordedRequest> {
    env.requests()
        .into_iter()
        .filter(|r| r.listener == "cdn")
        .collect()
}

fn submits(env: &Env) -> usize {
    env.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/render/proxy/lambda")
        .count()
}

fn renders(env: &Env) -> Vec<Value> {
    env.config()["renders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn part_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".part"))
        .collect()
}

/// The render id in a line of output.
fn render_id_in(text: &str) -> String {
    let start = text.find("render_").expect("a render id");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[test]
fn export_downloads_the_rendered_file_byte_for_byte_without_the_token_at_the_cdn() {
    let (env, sid) = ready();
    let token = env.stored_token().unwrap();
    let out = export(&env, &["-o", "panda.mp4"]).assert().success();
    assert_eq!(stdout(&out), "panda.mp4\n");
    let err = stderr(&out);
    assert!(err.contains("Submitted render render_"), "{err}");
    assert!(err.contains(": completed (100%)"), "{err}");
    assert!(!err.contains(&token), "the token leaked: {err}");

    let file = env.tmp.path().join("panda.mp4");
    assert_eq!(std::fs::read(&file).unwrap(), fixture());
    assert!(part_files(env.tmp.path()).is_empty(), "a .part was left");

    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 1, "{cdn:?}");
    assert!(cdn[0].path.starts_with("/renders/render_"));
    assert_eq!(
        cdn[0].header("authorization"),
        None,
        "token sent to the CDN"
    );
    assert!(
        cdn.iter()
            .all(|r| r.headers.iter().all(|(_, v)| !v.contains(&token)))
    );
    // The submit and the polls went to the API with the token.
    let submit = env.requests_to("/api/render/proxy/lambda").remove(0);
    assert_eq!(submit.method, "POST");
    assert!(
        submit
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );

    let records = renders(&env);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["session_id"], sid.as_str());
    assert_eq!(r["status"], "completed");
    assert_eq!(r["format"], "mp4");
    assert_eq!(r["quality"], "high");
    assert_eq!(r["bytes"], fixture().len());
    assert_eq!(
        r["output"].as_str().map(PathBuf::from),
        Some(std::path::absolute(&file).unwrap())
    );
    assert!(r["started_at"].as_str().unwrap().ends_with('Z'));
    let emulated = env.emu.snapshot();
    let render = emulated
        .renders
        .get(r["render_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(render.session_id, sid);
}

#[test]
fn the_submit_carries_the_documented_body() {
    let (env, sid) = ready();
    let out = export(&env, &["--no-wait"]).assert().success();
    let id = stdout(&out).trim().to_string();
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // render_<unix ms>, from the last few seconds.
    let ms: u128 = id.strip_prefix("render_").unwrap().parse().unwrap();
    assert!(ms <= created && created - ms < 60_000, "{id}");
    let render = env.emu.snapshot().renders.get(&id).cloned().unwrap();
    assert_eq!(render.session_id, sid);
    assert_eq!(render.format, "mp4");
    assert_eq!(render.quality, "high");
}

#[test]
fn json_document_and_a_folder_as_output() {
    let (env, _) = ready();
    std::fs::create_dir(env.tmp.path().join("out")).unwrap();
    let out = export(&env, &["-o", "out", "--json"]).assert().success();
    let doc = json(&out);
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["bytes", "path", "project_url", "render_id", "status", "url"]
    );
    assert!(
        doc["project_url"]
            .as_str()
            .unwrap()
            .starts_with("https://web.nemo.test/workspace/claim?ct=clm_")
    );
    let id = doc["render_id"].as_str().unwrap();
    assert!(id.starts_with("render_"));
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["bytes"], fixture().len());
    assert_eq!(doc["path"], format!("out/{id}.mp4"));
    assert_eq!(
        doc["url"],
        format!("{}/renders/{id}.mp4", env.emu.cdn_url).as_str()
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join(format!("out/{id}.mp4"))).unwrap(),
        fixture()
    );
}

#[test]
fn default_output_is_the_render_id_in_the_current_folder() {
    let (env, _) = ready();
    let out = export(&env, &[]).assert().success();
    let printed = stdout(&out);
    let id = render_id_in(&printed);
    assert_eq!(printed, format!("{id}.mp4\n"));
    assert_eq!(
        std::fs::read(env.tmp.path().join(format!("{id}.mp4"))).unwrap(),
        fixture()
    );
}

#[test]
fn an_existing_file_is_kept_and_nothing_is_submitted_without_force() {
    let (env, _) = ready();
    let file = env.tmp.path().join("keep.mp4");
    std::fs::write(&file, "precious").unwrap();
    let before = env.requests().len();
    let out = export(&env, &["-o", "keep.mp4"]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("error: keep.mp4 already exists"), "{err}");
    assert!(err.contains("hint: add --force"), "{err}");
    assert_eq!(
        err,
        "error: keep.mp4 already exists\n\
         hint: add --force to overwrite it, or choose another path with -o\n"
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(std::fs::read(&file).unwrap(), b"precious");
    // Checked first: not even the state was read.
    assert_eq!(env.requests().len(), before);
    assert!(renders(&env).is_empty());

    let doc = json(&export(&env, &["-o", "keep.mp4", "--json"]).assert().code(7));
    assert_eq!(doc["error"]["kind"], "input");
    assert_eq!(doc["error"]["exit_code"], 7);

    let out = export(&env, &["-o", "keep.mp4", "--force"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "keep.mp4\n");
    assert_eq!(std::fs::read(&file).unwrap(), fixture());
    assert_eq!(submits(&env), 1);
}

#[test]
fn a_missing_output_folder_is_bad_input() {
    let (env, _) = ready();
    let out = export(&env, &["-o", "nowhere/x.mp4"]).assert().code(7);
    assert_eq!(
        stderr(&out),
        "error: the folder nowhere does not exist\n\
         hint: create it first, or choose another path with -o\n"
    );
    let out = export(&env, &["-o", "nowhere/"]).assert().code(7);
    assert!(stderr(&out).contains("does not exist"));
    assert_eq!(submits(&env), 0);
}

#[test]
fn an_empty_draft_is_refused_with_a_chat_hint() {
    let env = Env::new();
    let sid = env.session();
    let out = export(&env, &["-o", "x.mp4"]).assert().code(7);
    let err = stderr(&out);
    assert!(err.contains("nothing to export"), "{err}");
    assert!(err.contains("hint:") && err.contains("nemo chat"), "{err}");
    assert_eq!(
        err,
        format!(
            "error: the draft of session {sid} is empty: there is nothing to export\n\
             hint: make something first, e.g. `nemo chat \"make a 10-second video of a panda\"`\n"
        )
    );
    assert_eq!(stdout(&out), "");
    assert_eq!(submits(&env), 0);
    assert!(!env.tmp.path().join("x.mp4").exists());
}

#[test]
fn bad_flags_are_usage_errors() {
    let (env, _) = ready();
    for args in [
        &["export", "--poll-interval", "0"][..],
        &["export", "--timeout", "-1"],
        &["export", "--format", "../x"],
        &["export", "resume", "a", "b"],
    ] {
        env.nemo().args(args).assert().code(2);
    }
    assert_eq!(submits(&env), 0);
}

#[test]
fn help_shows_examples_and_subcommands() {
    let env = Env::new();
    let out = env.nemo().args(["export", "--help"]).assert().success();
    let text = stdout(&out);
    for word in [
        "Examples:",
        "resume",
        "list",
        "cancel",
        "--no-wait",
        "--poll-interval",
        "--sandbox",
    ] {
        assert!(text.contains(word), "{word}: {text}");
    }
    for sub in ["resume", "list", "cancel"] {
        let out = env
            .nemo()
            .args(["export", sub, "--help"])
            .assert()
            .success();
        assert!(stdout(&out).contains("Examples:"), "{sub}");
    }
}

#[test]
fn no_wait_prints_the_id_then_resume_downloads_to_the_recorded_path() {
    let (env, sid) = ready();
    std::fs::create_dir(env.tmp.path().join("out")).unwrap();
    let out = export(&env, &["--no-wait", "-o", "out"]).assert().success();
    let id = stdout(&out).trim().to_string();
    assert!(id.starts_with("render_"), "{id}");
    assert!(stderr(&out).contains(&format!("nemo export resume {id}")));
    // Recorded before any waiting; no status was asked for.
    let records = renders(&env);
    assert_eq!(records[0]["render_id"], id.as_str());
    assert_eq!(records[0]["session_id"], sid.as_str());
    assert_eq!(records[0]["status"], "pending");
    assert!(
        env.requests_to(&format!("/api/render/proxy/lambda/{id}"))
            .is_empty()
    );
    assert!(cdn_requests(&env).is_empty());

    // From another folder: the recorded (absolute) path is used.
    let elsewhere = env.tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let out = env
        .nemo()
        .current_dir(&elsewhere)
        .args(["export", "resume", &id, "--poll-interval", "0.05"])
        .assert()
        .success();
    let expected = std::path::absolute(env.tmp.path().join(format!("out/{id}.mp4"))).unwrap();
    assert_eq!(stdout(&out).trim(), expected.display().to_string());
    assert_eq!(std::fs::read(&expected).unwrap(), fixture());
    assert_eq!(renders(&env)[0]["status"], "completed");

    // Once more: the file is saved already; said so, exit 0, nothing asked.
    let before = env.requests().len();
    let out = resume(&env, &id, &[]).assert().success();
    assert_eq!(stdout(&out).trim(), expected.display().to_string());
    assert!(stderr(&out).contains("already saved"), "{}", stderr(&out));
    assert_eq!(env.requests().len(), before);
    let doc = json(
        &resume(&env, &id, &["-o", "again.mp4", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["path"], "again.mp4");
    assert_eq!(doc["render_id"], id.as_str());
}

#[test]
fn no_wait_json_has_the_same_shape() {
    let (env, _) = ready();
    let doc = json(
        &export(&env, &["--no-wait", "--json", "-o", "a.mp4"])
            .assert()
            .success(),
    );
    assert_eq!(doc["status"], "pending");
    assert_eq!(doc["path"], "a.mp4");
    assert!(doc["url"].is_null() && doc["bytes"].is_null());
    assert!(doc["render_id"].as_str().unwrap().starts_with("render_"));
}

#[test]
fn a_download_cut_halfway_is_resumed_with_a_range_request() {
    let (env, _) = ready();
    let half = (fixture().len() / 2) as u64;
    env.emu
        .with_state(|s| s.faults.render.render_cdn_cut_after = Some(half));
    let out = export(&env, &["-o", "cut.mp4"]).assert().success();
    let err = stderr(&out);
    assert!(err.contains("The download was cut after"), "{err}");
    assert!(err.contains("resuming it"), "{err}");
    assert_eq!(
        std::fs::read(env.tmp.path().join("cut.mp4")).unwrap(),
        fixture()
    );
    assert!(part_files(env.tmp.path()).is_empty());
    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 2, "{cdn:?}");
    assert_eq!(cdn[0].header("range"), None);
    assert_eq!(
        cdn[1].header("range"),
        Some(format!("bytes={half}-").as_str())
    );
    assert!(cdn.iter().all(|r| r.header("authorization").is_none()));
}

#[test]
fn a_large_padded_render_is_streamed_and_resumed_whole() {
    // A 3 MiB file (the fixture plus a trailing MP4 `free` box), cut after
    // 2 MiB: the resumed file must be exactly the bytes the CDN serves.
    let (env, _) = ready();
    let pad: u64 = 3 * 1024 * 1024;
    env.emu.with_state(|s| {
        s.faults.render.render_pad_bytes = pad;
        s.faults.render.render_cdn_cut_after = Some(2 * 1024 * 1024);
    });
    export(&env, &["-o", "big.mp4"]).assert().success();
    let got = std::fs::read(env.tmp.path().join("big.mp4")).unwrap();
    let fixture = fixture();
    assert_eq!(got.len() as u64, fixture.len() as u64 + pad);
    assert_eq!(&got[..fixture.len()], fixture.as_slice());
    let free = &got[fixture.len()..fixture.len() + 8];
    assert_eq!(&free[..4], &(pad as u32).to_be_bytes());
    assert_eq!(&free[4..], b"free");
    assert!(got[fixture.len() + 8..].iter().all(|b| *b == 0));
    assert_eq!(cdn_requests(&env).len(), 2);
    assert!(part_files(env.tmp.path()).is_empty());
}

#[test]
fn a_cut_download_starts_over_when_the_server_takes_no_ranges() {
    let (env, _) = ready();
    env.emu.with_state(|s| {
        s.faults.render.render_cdn_cut_after = Some(1000);
        s.faults.render.render_cdn_no_ranges = true;
    });
    let out = export(&env, &["-o", "over.mp4"]).assert().success();
    assert!(
        stderr(&out).contains("starting it over"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join("over.mp4")).unwrap(),
        fixture()
    );
    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 2);
    assert!(cdn.iter().all(|r| r.header("range").is_none()));
}

#[test]
fn resume_goes_on_from_a_part_file_left_by_an_earlier_run() {
    let (env, _) = ready();
    let id = submit(&env, &["--no-wait", "-o", "later.mp4"]);
    let part = env.tmp.path().join("later.mp4.part");
    std::fs::write(&part, &fixture()[..1000]).unwrap();
    // The sidecar an earlier run writes before its first byte: this `.part`
    // is that render's.
    let sidecar = env.tmp.path().join("later.mp4.part.json");
    std::fs::write(&sidecar, json!({"render_id": id, "size": null}).to_string()).unwrap();
    let out = resume(&env, &id, &[]).assert().success();
    assert_eq!(
        stdout(&out).trim(),
        std::path::absolute(env.tmp.path().join("later.mp4"))
            .unwrap()
            .display()
            .to_string()
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join("later.mp4")).unwrap(),
        fixture()
    );
    assert!(!part.exists());
    assert!(!sidecar.exists());
    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 1);
    assert_eq!(cdn[0].header("range"), Some("bytes=1000-"));
}

#[test]
fn a_new_export_never_reuses_a_stale_part_file() {
    let (env, _) = ready();
    std::fs::write(env.tmp.path().join("fresh.mp4.part"), b"junk from before").unwrap();
    export(&env, &["-o", "fresh.mp4"]).assert().success();
    assert_eq!(
        std::fs::read(env.tmp.path().join("fresh.mp4")).unwrap(),
        fixture()
    );
    assert!(cdn_requests(&env)[0].header("range").is_none());
}

#[test]
fn a_failed_render_exits_8_with_the_servers_reason_cleaned() {
    let (env, _) = ready();
    env.emu.with_state(|s| {
        s.faults.render.render_fail = true;
        s.faults.render.render_fail_error = "\u{1b}[31mLambda ran out\nof memory\u{7}".into();
    });
    let out = export(&env, &["-o", "f.mp4"]).assert().code(8);
    let err = stderr(&out);
    assert!(
        err.contains("error: render render_") && err.contains("failed: Lambda ran out of memory"),
        "{err}"
    );
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert_eq!(stdout(&out), "");
    assert!(!env.tmp.path().join("f.mp4").exists());
    assert!(part_files(env.tmp.path()).is_empty());
    let r = &renders(&env)[0];
    assert_eq!(r["status"], "failed");
    assert_eq!(r["error"], "Lambda ran out of memory");

    let doc = json(&export(&env, &["-o", "g.mp4", "--json"]).assert().code(8));
    assert_eq!(doc["error"]["kind"], "job");
    assert_eq!(doc["error"]["exit_code"], 8);
}

#[test]
fn http_402_is_a_plan_problem_exit_5() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_plan_required = true);
    let out = export(&env, &["-o", "p.mp4"]).assert().code(5);
    let err = stderr(&out);
    assert!(
        err.contains("hint: Register or upgrade your plan to unlock export"),
        "{err}"
    );
    assert!(!err.to_lowercase().contains("credits"), "{err}");
    // Not a failure a new id would fix: submitted once, nothing recorded.
    assert_eq!(submits(&env), 1);
    assert!(renders(&env).is_empty());
    let doc = json(&export(&env, &["-o", "p.mp4", "--json"]).assert().code(5));
    assert_eq!(doc["error"]["kind"], "plan");
}

#[test]
fn a_missing_attribution_header_gets_402_too() {
    let (env, sid) = ready();
    let token = env.stored_token().unwrap();
    // nemo always sends all three headers, so speak raw HTTP to show the
    // emulator's rule: no X-Skill-Version, no export.
    let body = format!(
        r#"{{"id":"render_1","sessionId":"{sid}","draft":{{"t":[{{"tt":0,"sg":[{{"d":1000}}]}}]}},"output":{{"format":"mp4","quality":"high"}}}}"#
    );
    let addr = env.emu.api_url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "POST /api/render/proxy/lambda HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         X-Skill-Source: nemo-cli\r\nX-Skill-Platform: unknown\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 402"), "{answer}");
}

#[test]
fn an_unsendable_attribution_value_is_a_usage_error_before_anything_is_sent() {
    let (env, _) = ready();
    let before = env.requests().len();
    let out = export(&env, &["-o", "p.mp4"])
        .args(["--skill-version", "1.0\u{1}"])
        .assert()
        .code(2);
    assert!(stderr(&out).contains("--skill-version"), "{}", stderr(&out));
    assert_eq!(env.requests().len(), before);
    assert!(!env.tmp.path().join("p.mp4").exists());
}

#[test]
fn a_render_that_takes_too_long_times_out_with_a_resume_hint() {
    let (env, _) = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    let out = export(&env, &["-o", "slow.mp4", "--timeout", "0.5"])
        .assert()
        .code(8);
    let err = stderr(&out);
    let id = render_id_in(&err);
    assert!(
        err.contains(&format!("error: render {id} is not done after")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "hint: the render goes on in the cloud; run `nemo export resume {id}`"
        )),
        "{err}"
    );
    let r = &renders(&env)[0];
    assert_eq!(r["render_id"], id.as_str());
    assert_eq!(r["status"], "pending");
    assert!(!env.tmp.path().join("slow.mp4").exists());
}

#[test]
fn the_flat_status_shape_is_read_too() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_status_flat = true);
    let doc = json(
        &export(&env, &["-o", "flat.mp4", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc["status"], "completed");
    assert!(doc["url"].as_str().unwrap().starts_with(&env.emu.cdn_url));
    assert_eq!(
        std::fs::read(env.tmp.path().join("flat.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn without_an_output_url_the_api_download_is_used_with_the_token() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_no_output_url = true);
    let doc = json(
        &export(&env, &["-o", "api.mp4", "--json"])
            .assert()
            .success(),
    );
    let id = doc["render_id"].as_str().unwrap();
    assert_eq!(
        doc["url"],
        format!("{}/api/render/proxy/{id}/download", env.emu.api_url).as_str()
    );
    assert_eq!(
        std::fs::read(env.tmp.path().join("api.mp4")).unwrap(),
        fixture()
    );
    assert!(cdn_requests(&env).is_empty());
    let download = env
        .requests_to(&format!("/api/render/proxy/{id}/download"))
        .remove(0);
    assert!(
        download
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
}

#[test]
fn when_the_cdn_fails_the_api_download_is_the_fallback() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_cdn_status = Some(403));
    let out = export(&env, &["-o", "fb.mp4"]).assert().success();
    let err = stderr(&out);
    assert!(
        err.contains("warning: cannot download the render from 127.0.0.1:"),
        "{err}"
    );
    assert!(err.contains("trying the API's download endpoint"), "{err}");
    assert_eq!(
        std::fs::read(env.tmp.path().join("fb.mp4")).unwrap(),
        fixture()
    );
    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 1);
    assert!(cdn[0].header("authorization").is_none());
    assert!(
        env.requests()
            .iter()
            .any(|r| r.path.ends_with("/download") && r.listener == "api")
    );
}

#[test]
fn a_redirect_from_the_api_download_is_followed_without_the_token() {
    let (env, _) = ready();
    env.emu.with_state(|s| {
        s.faults.render.render_no_output_url = true;
        s.faults.render.render_download_redirect = true;
    });
    let doc = json(&export(&env, &["-o", "r.mp4", "--json"]).assert().success());
    assert!(doc["url"].as_str().unwrap().starts_with(&env.emu.cdn_url));
    assert_eq!(
        std::fs::read(env.tmp.path().join("r.mp4")).unwrap(),
        fixture()
    );
    let cdn = cdn_requests(&env);
    assert_eq!(cdn.len(), 1);
    assert_eq!(cdn[0].header("authorization"), None);
    assert!(cdn[0].header("x-skill-source").is_none());
}

#[test]
fn a_failed_submit_is_tried_once_more_with_a_new_id() {
    let (env, _) = ready();
    env.emu
        .with_state(|s| s.faults.render.render_submit_fail_next = 1);
    let out = export(&env, &["-o", "again.mp4"]).assert().success();
    let err = stderr(&out);
    assert!(
        err.contains("warning: the render was not accepted") && err.contains("new id"),
        "{err}"
    );
    assert_eq!(submits(&env), 2);
    assert_eq!(renders(&env).len(), 1);
    assert_eq!(env.emu.snapshot().renders.len(), 1);

    // Twice in a row: given up after the second try.
    env.emu
        .with_state(|s| s.faults.render.render_submit_fail_next = 2);
    let out = export(&env, &["-o", "never.mp4"]).assert().code(1);
    assert!(stderr(&out).contains("Render service is busy"));
    assert_eq!(submits(&env), 4);
    assert_eq!(renders(&env).len(), 1);
}

#[test]
fn status_errors_while_waiting_do_not_end_the_wait() {
    let (env, _) = ready();
    let id = submit(&env, &["--no-wait", "-o", "w.mp4"]);
    // Four 502s: more than one read's three tries.
    env.emu.with_state(|s| s.faults.server_error_next = 4);
    let out = resume(&env, &id, &[]).assert().success();
    let err = stderr(&out);
    assert!(
        err.contains(&format!("warning: cannot read the status of render {id}"))
            && err.contains("still waiting"),
        "{err}"
    );
    assert!(!err.contains("<html"), "{err}");
    assert_eq!(
        std::fs::read(env.tmp.path().join("w.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn an_expired_free_token_is_renewed_while_waiting() {
    let (env, _) = ready();
    let id = submit(&env, &["--no-wait", "-o", "t.mp4"]);
    let old = env.stored_token().unwrap();
    env.emu.with_state(|s| s.expire_all_tokens());
    resume(&env, &id, &[]).assert().success();
    assert_ne!(env.stored_token().unwrap(), old);
    assert_eq!(
        std::fs::read(env.tmp.path().join("t.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn resume_of_an_unknown_render_is_bad_input() {
    let (env, _) = ready();
    let out = resume(&env, "render_123", &[]).assert().code(7);
    let err = stderr(&out);
    assert!(
        err.contains("the server knows no render render_123"),
        "{err}"
    );
    assert!(err.contains("nemo export list"), "{err}");
    assert_eq!(
        err,
        "Resuming render render_123\n\
         error: the server knows no render render_123\n\
         hint: `nemo export list` shows the renders this config recorded\n"
    );
}

#[test]
fn list_shows_recorded_renders_and_their_last_status() {
    let (env, sid) = ready();
    let out = env.nemo().args(["export", "list"]).assert().success();
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        "No renders recorded yet; start one with `nemo export`\n"
    );
    assert_eq!(
        json(
            &env.nemo()
                .args(["export", "list", "--json"])
                .assert()
                .success()
        ),
        json!([])
    );

    let done = json(
        &export(&env, &["-o", "one.mp4", "--json"])
            .assert()
            .success(),
    );
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    let waiting = submit(&env, &["--no-wait", "-o", "two.mp4"]);

    let out = env.nemo().args(["export", "list"]).assert().success();
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    let first = done["render_id"].as_str().unwrap();
    assert!(
        // The same status word as the JSON's.
        lines[0].starts_with(first) && lines[0].contains("  completed  "),
        "{text}"
    );
    assert!(
        lines[0].contains(&sid) && lines[0].ends_with("one.mp4"),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&waiting) && lines[1].contains("pending"),
        "{text}"
    );

    let doc = json(
        &env.nemo()
            .args(["export", "list", "--json"])
            .assert()
            .success(),
    );
    let rows = doc.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["render_id"], first);
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[0]["bytes"], fixture().len());
    assert_eq!(rows[0]["session_id"], sid.as_str());
    assert!(rows[0]["path"].as_str().unwrap().ends_with("one.mp4"));
    assert_eq!(rows[1]["render_id"], waiting.as_str());
    assert_eq!(rows[1]["status"], "pending");
    assert!(rows[1]["bytes"].is_null());
}

#[test]
fn cancel_stops_the_render_in_the_cloud() {
    let (env, _) = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    let id = submit(&env, &["--no-wait", "-o", "c.mp4"]);
    let out = env
        .nemo()
        .args(["export", "cancel", &id])
        .assert()
        .success();
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), format!("Cancelled render {id}\n"));
    assert_eq!(
        env.requests_to(&format!("/api/render/proxy/lambda/{id}/cancel"))
            .len(),
        1
    );
    assert!(env.emu.snapshot().renders[&id].cancelled_ms.is_some());
    assert_eq!(renders(&env)[0]["status"], "cancelled");

    // Waiting for it now ends at once, exit 8.
    let out = resume(&env, &id, &[]).assert().code(8);
    assert!(stderr(&out).contains(&format!("render {id} was cancelled")));

    // Cancelled already: nothing to cancel (exit 7), never "Cancelled" again.
    let doc = json(
        &env.nemo()
            .args(["export", "cancel", &id, "--json"])
            .assert()
            .code(7),
    );
    assert_eq!(doc["error"]["exit_code"], 7, "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nothing to cancel")),
        "{doc}"
    );
}

#[test]
fn ctrl_c_while_waiting_leaves_the_render_running_and_says_how_to_resume() {
    let (env, _) = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    let child = env
        .nemo_process()
        .current_dir(env.tmp.path())
        .args(["export", "-o", "int.mp4", "--poll-interval", "0.05"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the render is recorded and being polled.
    let deadline = Instant::now() + Duration::from_secs(30);
    let id = loop {
        assert!(Instant::now() < deadline, "the render was never polled");
        if let Some(id) = renders(&env)
            .first()
            .and_then(|r| r["render_id"].as_str().map(str::to_string))
            && !env
                .requests_to(&format!("/api/render/proxy/lambda/{id}"))
                .is_empty()
        {
            break id;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(err.contains("error: interrupted"), "{err}");
    assert!(err.contains(&format!("nemo export resume {id}")), "{err}");
    assert!(output.stdout.is_empty());
    // Not cancelled: it runs on in the cloud, and stays recorded.
    assert!(env.emu.snapshot().renders[&id].cancelled_ms.is_none());
    assert!(
        env.requests_to(&format!("/api/render/proxy/lambda/{id}/cancel"))
            .is_empty()
    );
    assert_eq!(renders(&env)[0]["render_id"], id.as_str());
}

#[test]
fn eight_parallel_exports_on_eight_sessions_are_all_recorded() {
    let env = Env::new();
    env.emu.with_state(|s| s.faults.render.render_ms = 300);
    let sessions: Vec<String> = (0..8).map(|_| env.session()).collect();
    for sid in &sessions {
        env.set_draft(sid, clip_draft());
    }
    let out_dir = env.tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let children: Vec<_> = sessions
        .iter()
        .map(|sid| {
            env.nemo_process()
                .current_dir(env.tmp.path())
                .args([
                    "--session",
                    sid,
                    "export",
                    "-o",
                    "out/",
                    "--poll-interval",
                    "0.1",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut printed = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(0), "{err}");
        printed.push(String::from_utf8(output.stdout).unwrap().trim().to_string());
    }
    let records = renders(&env);
    assert_eq!(records.len(), 8, "{records:#?}");
    let mut recorded_sessions: Vec<String> = records
        .iter()
        .map(|r| r["session_id"].as_str().unwrap().to_string())
        .collect();
    recorded_sessions.sort();
    let mut expected = sessions.clone();
    expected.sort();
    assert_eq!(recorded_sessions, expected);
    for r in &records {
        assert_eq!(r["status"], "completed", "{r}");
        let id = r["render_id"].as_str().unwrap();
        assert!(printed.contains(&format!("out/{id}.mp4")), "{printed:?}");
        assert_eq!(
            std::fs::read(out_dir.join(format!("{id}.mp4"))).unwrap(),
            fixture()
        );
    }
    assert!(part_files(&out_dir).is_empty());
}

#[test]
fn sandbox_export_renders_offline_across_processes() {
    let env = Env::new();
    let sandbox = |args: &[&str]| {
        let mut cmd = env.nemo();
        cmd.current_dir(env.tmp.path())
            .env_remove("NEMO_API_URL")
            .arg("--sandbox")
            .args(args);
        cmd
    };
    let sid = stdout(&sandbox(&["session", "new"]).assert().success())
        .trim()
        .to_string();
    // Give the sandbox session a draft, in the sandbox's saved state.
    let state_file = env.config_dir().join("sandbox/emulator.json");
    let mut state: Value = serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    state["sessions"][&sid]["state"]["draft"] = clip_draft();
    state["faults"]["render_ms"] = json!(300);
    std::fs::write(&state_file, serde_json::to_vec(&state).unwrap()).unwrap();

    let id = stdout(
        &sandbox(&["export", "--no-wait", "-o", "sb.mp4"])
            .assert()
            .success(),
    )
    .trim()
    .to_string();
    // A new process, a new emulator port: the render goes on by the clock.
    let out = sandbox(&["export", "resume", &id]).assert().success();
    assert!(stdout(&out).trim().ends_with("sb.mp4"));
    assert_eq!(
        std::fs::read(env.tmp.path().join("sb.mp4")).unwrap(),
        fixture()
    );
    // Nothing reached the test's own emulator.
    assert!(env.requests().is_empty());
}
