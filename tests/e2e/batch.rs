//! `nemo batch` end to end: three jobs two at a time, a re-run that sends
//! nothing, a run killed with SIGKILL and finished without a second
//! `/run_sse` for any prompt that went out, unknown results not re-sent,
//! bad lines refused before anything is sent, and the `--json` document.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Env, json, stderr, stdout};
use crate::generate::{count, fast_env, fixture, set_credits, wait_bounded};

const THREE: &str = "# three jobs\ngenerate a panda\n\n{\"prompt\":\"make a cat\",\"output\":\"cat.mp4\",\"name\":\"cats\"}\ngenerate a dog\n";

pub fn write_jobs(env: &Env, text: &str) -> PathBuf {
    let path = env.tmp.path().join("jobs.txt");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn batch(env: &Env, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.current_dir(env.tmp.path())
        .args(["batch", "--poll-interval", "0.05"])
        .args(args);
    cmd
}

pub fn out_dir(env: &Env) -> PathBuf {
    env.tmp.path().join("out")
}

/// The journal's records, in order.
pub fn journal(env: &Env) -> Vec<Value> {
    let text = std::fs::read_to_string(out_dir(env).join(".nemo-batch.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn ready() -> Env {
    let env = fast_env();
    env.login();
    set_credits(&env, 10_000);
    env
}

#[test]
fn three_jobs_two_at_a_time_make_three_files_then_a_rerun_sends_nothing() {
    let env = ready();
    let current = env.session();
    write_jobs(&env, THREE);
    let out = batch(&env, &["jobs.txt", "-j", "2", "-o", "out"])
        .assert()
        .success();
    let names = ["2-generate-a-panda.mp4", "cat.mp4", "5-generate-a-dog.mp4"];
    for name in names {
        assert_eq!(
            std::fs::read(out_dir(&env).join(name)).unwrap(),
            fixture(),
            "{name}"
        );
        assert!(!out_dir(&env).join(format!("{name}.part")).exists());
    }
    let mut printed: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    printed.sort();
    let mut expected: Vec<String> = names.iter().map(|n| format!("out/{n}")).collect();
    expected.sort();
    assert_eq!(printed, expected);
    assert!(
        stderr(&out).ends_with("3 done, 0 failed, 0 skipped\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", "/run_sse"), 3);
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 3);
    // Each job in its own session, kept in the journal (the config stays
    // bounded); the current one left alone.
    let config = env.config();
    assert_eq!(config["current_session"], current.as_str());
    assert_eq!(config["sessions"].as_array().unwrap().len(), 1);
    let sessions: std::collections::BTreeSet<String> = journal(&env)
        .iter()
        .filter_map(|r| r["session_id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert!(!sessions.contains(&current));
    let records = journal(&env);
    let saved = records.iter().filter(|r| r["state"] == "saved").count();
    assert_eq!(saved, 3);

    // The same command again: every file is there, nothing is sent at all.
    let before = env.requests().len();
    let out = batch(&env, &["jobs.txt", "-j", "2", "-o", "out"])
        .assert()
        .success();
    assert_eq!(
        env.requests().len(),
        before,
        "{:?}",
        &env.requests()[before..]
    );
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).ends_with("0 done, 0 failed, 3 skipped\n"));
}

#[test]
fn a_batch_killed_mid_way_finishes_on_rerun_without_sending_any_prompt_twice() {
    let env = ready();
    // Generations take a while: the kill comes while the agent works.
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 1500);
    write_jobs(&env, THREE);
    let mut child = env.nemo_process();
    child
        .current_dir(env.tmp.path())
        .args([
            "batch",
            "--poll-interval",
            "0.05",
            "jobs.txt",
            "-j",
            "2",
            "-o",
            "out",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = child.spawn().unwrap();
    let start = Instant::now();
    loop {
        let sent = journal(&env)
            .iter()
            .filter(|r| r["state"] == "sent")
            .count();
        if sent >= 2 && count(&env, "POST", "/run_sse") >= 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no prompt went out"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let sent_before = count(&env, "POST", "/run_sse");
    assert_eq!(sent_before, 2);

    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 60);
    let out = batch(&env, &["jobs.txt", "-j", "2", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.05")
        .assert()
        .success();
    for name in ["2-generate-a-panda.mp4", "cat.mp4", "5-generate-a-dog.mp4"] {
        assert_eq!(
            std::fs::read(out_dir(&env).join(name)).unwrap(),
            fixture(),
            "{name}"
        );
    }
    // Only the job that never sent its prompt sent one now.
    assert_eq!(count(&env, "POST", "/run_sse"), 3);
    let runs: Vec<Value> = env
        .emu
        .with_state(|s| s.chat.runs.iter().map(|r| r.body.clone()).collect());
    let mut sessions: Vec<&str> = runs
        .iter()
        .map(|r| r["session_id"].as_str().unwrap())
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    assert_eq!(sessions.len(), 3);
    assert!(
        stderr(&out).ends_with("3 done, 0 failed, 0 skipped\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_result_is_not_sent_again_without_retry_unknown() {
    let env = ready();
    // The stream drops and the agent's work never shows up in time.
    env.emu.with_state(|s| {
        s.faults.chat.chat_drop_stream = true;
        s.faults.chat.chat_late_ms = 3_600_000;
    });
    write_jobs(&env, "generate a panda\n");
    let out = batch(&env, &["jobs.txt", "-o", "out", "--json"])
        .env("NEMO_CHAT_TIME_SCALE", "0.001")
        .assert()
        .code(9);
    let doc = json(&out);
    assert_eq!(doc["jobs"][0]["status"], "unknown");
    assert_eq!(doc["failed"], 1);
    assert_eq!(count(&env, "POST", "/run_sse"), 1);

    // Again: reported, not sent.
    let out = batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.001")
        .assert()
        .code(9);
    assert!(
        stderr(&out).contains("line 1: unknown:"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("--retry-unknown"));
    assert_eq!(count(&env, "POST", "/run_sse"), 1);

    // --retry-unknown sends it again, in the same session.
    env.emu
        .with_state(|s| s.faults.chat.chat_drop_stream = false);
    let out = batch(&env, &["jobs.txt", "-o", "out", "--retry-unknown"])
        .assert()
        .success();
    // It did send: nothing says it was "not sent again".
    assert!(!stderr(&out).contains("not sent again"), "{}", stderr(&out));
    assert_eq!(count(&env, "POST", "/run_sse"), 2);
    let runs: Vec<Value> = env
        .emu
        .with_state(|s| s.chat.runs.iter().map(|r| r.body.clone()).collect());
    assert_eq!(runs[0]["session_id"], runs[1]["session_id"]);
    assert!(out_dir(&env).join("1-generate-a-panda.mp4").exists());
}

#[test]
fn a_bad_line_is_refused_before_anything_is_sent() {
    let env = fast_env();
    write_jobs(&env, "generate a panda\n{\"promt\":\"typo\"}\n");
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().code(7);
    assert!(
        stderr(&out).starts_with("error: jobs.txt line 2: not a job object (unknown field `promt`"),
        "{}",
        stderr(&out)
    );
    write_jobs(
        &env,
        "generate a panda\n{\"prompt\":\"x\",\"files\":[\"missing.png\"]}\n",
    );
    let out = batch(&env, &["jobs.txt"]).assert().code(7);
    assert!(
        stderr(&out).starts_with("error: jobs.txt line 2: cannot upload missing.png: no such file"),
        "{}",
        stderr(&out)
    );
    write_jobs(&env, "a\n{\"prompt\":\"b\",\"output\":\"1-a.mp4\"}\n");
    let out = batch(&env, &["jobs.txt"]).assert().code(7);
    assert!(stderr(&out).contains("line 2: another line already writes 1-a.mp4"));
    write_jobs(&env, "a\n{\"prompt\":\"b\",\"output\":\"../b.mp4\"}\n");
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().code(7);
    assert!(
        stderr(&out).contains(
            "line 2: the output \"../b.mp4\" must be a file name inside the output folder"
        ),
        "{}",
        stderr(&out)
    );
    batch(&env, &["jobs.txt", "-j", "0"]).assert().code(2);
    batch(&env, &["jobs.txt", "-j", "9"]).assert().code(2);
    assert!(env.requests().is_empty());
    assert!(!out_dir(&env).exists());
}

#[test]
fn too_few_credits_for_the_jobs_left_is_exit_4_and_nothing_is_sent() {
    let env = fast_env();
    env.login();
    set_credits(&env, 250);
    write_jobs(&env, THREE);
    let before = env.requests().len();
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().code(4);
    assert!(
        stderr(&out).starts_with(
            "error: only 250 credits available; 3 generations cost about 300: nothing was sent"
        ),
        "{}",
        stderr(&out)
    );
    let posts = env.requests()[before..]
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 0);
}

#[test]
fn an_output_in_a_sub_folder_gets_its_folder_made() {
    let env = ready();
    write_jobs(
        &env,
        "{\"prompt\":\"generate a panda\",\"output\":\"pandas/one.mp4\"}\n",
    );
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert_eq!(stdout(&out), "out/pandas/one.mp4\n");
    assert_eq!(
        std::fs::read(out_dir(&env).join("pandas/one.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn the_json_document_lists_every_job() {
    let env = ready();
    std::fs::create_dir(out_dir(&env)).unwrap();
    std::fs::write(out_dir(&env).join("cat.mp4"), b"mine").unwrap();
    write_jobs(&env, THREE);
    let out = batch(&env, &["jobs.txt", "-o", "out", "--json", "-j", "3"])
        .assert()
        .success();
    let doc = json(&out);
    assert_eq!(doc["done"], 2);
    assert_eq!(doc["failed"], 0);
    assert_eq!(doc["skipped"], 1);
    let jobs = doc["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 3);
    let mut keys: Vec<&str> = jobs[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "error",
            "line",
            "path",
            "project_url",
            "prompt",
            "render_id",
            "session_id",
            "status"
        ]
    );
    assert_eq!(jobs[0]["line"], 2);
    assert_eq!(jobs[0]["status"], "done");
    assert_eq!(jobs[0]["prompt"], "generate a panda");
    assert_eq!(jobs[0]["path"], "out/2-generate-a-panda.mp4");
    assert!(
        jobs[0]["render_id"]
            .as_str()
            .unwrap()
            .starts_with("render_")
    );
    assert_eq!(jobs[1]["status"], "skipped");
    assert_eq!(jobs[1]["session_id"], Value::Null);
    assert_eq!(
        std::fs::read(out_dir(&env).join("cat.mp4")).unwrap(),
        b"mine"
    );
    assert_eq!(count(&env, "POST", "/run_sse"), 2);
}

#[test]
fn two_batches_on_one_folder_exclude_each_other() {
    let env = ready();
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 1500);
    write_jobs(&env, "generate a panda\n");
    let first = env
        .nemo_process()
        .current_dir(env.tmp.path())
        .args(["batch", "--poll-interval", "0.05", "jobs.txt", "-o", "out"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while journal(&env).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().code(7);
    assert!(stderr(&out).contains("another `nemo batch` is working in out"));
    let first = wait_bounded(first);
    assert!(first.status.success());
    assert_eq!(count(&env, "POST", "/run_sse"), 1);
}

#[test]
fn ctrl_c_stops_says_how_to_go_on_and_the_rerun_sends_no_prompt_twice() {
    let env = ready();
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 1500);
    write_jobs(&env, THREE);
    let child = env
        .nemo_process()
        .current_dir(env.tmp.path())
        .args([
            "batch",
            "--poll-interval",
            "0.05",
            "jobs.txt",
            "-j",
            "1",
            "-o",
            "out",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !journal(&env).iter().any(|r| r["state"] == "sent")
        || count(&env, "POST", "/run_sse") == 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no prompt went out"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let output = wait_bounded(child);
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.ends_with("error: interrupted\nhint: what started is on record: run the same command again to go on (no prompt is sent twice)\n"),
        "{err}"
    );
    // One job at a time: only the first prompt went out.
    assert_eq!(count(&env, "POST", "/run_sse"), 1);

    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 60);
    batch(&env, &["jobs.txt", "-j", "2", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.05")
        .assert()
        .success();
    assert_eq!(count(&env, "POST", "/run_sse"), 3);
    assert_eq!(
        std::fs::read(out_dir(&env).join("2-generate-a-panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_failed_render_fails_its_job_only_and_the_rerun_renders_it_again_without_a_prompt() {
    let env = ready();
    // The second render accepted ends failed.
    env.emu.with_state(|s| s.faults.render.render_fail_nth = 2);
    write_jobs(&env, THREE);
    let out = batch(&env, &["jobs.txt", "-j", "1", "-o", "out"])
        .assert()
        .code(8);
    let err = stderr(&out);
    assert!(err.contains("line 4: failed: render render_"), "{err}");
    assert!(
        err.contains(
            "2 done, 1 failed, 0 skipped\nerror: 1 of 3 jobs failed; line 4: render render_"
        ),
        "{err}"
    );
    assert!(!out_dir(&env).join("cat.mp4").exists());
    assert_eq!(count(&env, "POST", "/run_sse"), 3);

    // Again: the render is made again from the session's draft; no prompt.
    let out = batch(&env, &["jobs.txt", "-j", "1", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.05")
        .assert()
        .success();
    assert_eq!(stdout(&out), "out/cat.mp4\n");
    assert_eq!(count(&env, "POST", "/run_sse"), 3);
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 4);
    assert_eq!(
        std::fs::read(out_dir(&env).join("cat.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_render_recorded_before_a_kill_is_resumed_not_submitted_again() {
    let env = ready();
    // Renders take a while: the kill comes while the first one renders.
    env.emu.with_state(|s| s.faults.render.render_ms = 3000);
    write_jobs(&env, "generate a panda\n");
    let mut child = env.nemo_process();
    child
        .current_dir(env.tmp.path())
        .args(["batch", "--poll-interval", "0.05", "jobs.txt", "-o", "out"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = child.spawn().unwrap();
    let start = Instant::now();
    while !journal(&env).iter().any(|r| r["state"] == "rendering") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no render was recorded"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert_eq!(stdout(&out), "out/1-generate-a-panda.mp4\n");
    assert_eq!(count(&env, "POST", "/run_sse"), 1);
    assert_eq!(count(&env, "POST", "/api/render/proxy/lambda"), 1);
    assert_eq!(
        std::fs::read(out_dir(&env).join("1-generate-a-panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn jobs_from_stdin_and_a_live_display_on_a_terminal() {
    let env = ready();
    let out = batch(&env, &["-", "-o", "out", "-j", "2"])
        .env("NEMO_PRETEND_TTY", "stderr")
        .write_stdin("generate a panda\ngenerate a cat\n")
        .assert()
        .success();
    let text = stdout(&out);
    let mut paths: Vec<&str> = text.lines().collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        ["out/1-generate-a-panda.mp4", "out/2-generate-a-cat.mp4"]
    );
    let err = stderr(&out);
    // One line per running job, redrawn; no line per state change.
    assert!(err.contains("line 1: "), "{err}");
    assert!(!err.contains("line 1: prompt sent\n"), "{err}");
    assert!(err.ends_with("2 done, 0 failed, 0 skipped\n"), "{err}");
}
