//! `nemo batch` re-runs that must converge without paying twice: refused
//! prompts are "not sent" and a plain re-run sends them, no job starts
//! after a 2001, a paid reply is exported without prompting, a recorded
//! render is polled (never replaced), jobs are known by content, only a
//! verified file is skipped, unknown jobs are looked at first with a line
//! on stderr, and a re-run exits with the recorded cause. Also the jobs
//! file's own errors (a folder, nothing in it).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::batch::{batch, journal, out_dir, ready, write_jobs};
use crate::common::{json, stderr};
use crate::generate::{count, fixture, set_credits};

const RUN: &str = "/run_sse";
const SUBMIT: &str = "/api/render/proxy/lambda";

#[test]
fn after_a_2001_no_new_job_starts_and_a_plain_rerun_sends_the_refused_prompts() {
    let env = ready();
    // The balance covers the estimate, but a generation costs 600: the
    // second job is refused with 2001.
    set_credits(&env, 1000);
    env.emu
        .with_state(|s| s.faults.chat.chat_generate_cost = 600);
    write_jobs(&env, "generate a panda\ngenerate a cat\ngenerate a dog\n");
    let out = batch(&env, &["jobs.txt", "-j", "1", "-o", "out", "--json"])
        .assert()
        .code(4);
    // The first refusal stops the batch: the third job is not started.
    assert_eq!(count(&env, "POST", RUN), 2);
    let doc = json(&out);
    let statuses: Vec<&str> = doc["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert!(!statuses.contains(&"unknown"), "{doc}");
    let refused: Vec<Value> = journal(&env)
        .into_iter()
        .filter(|r| r["prompt"] == "generate a cat")
        .collect();
    // The intent was recorded first, then the refusal: not sent.
    let last = refused.last().unwrap();
    assert_eq!(last["state"], "refused", "{refused:?}");
    assert_eq!(last["sent"], false, "{refused:?}");

    // Topped up: a plain re-run sends the two left, each once.
    set_credits(&env, 10_000);
    let out = batch(&env, &["jobs.txt", "-j", "1", "-o", "out"])
        .assert()
        .success();
    assert!(
        stderr(&out).ends_with("2 done, 0 failed, 1 skipped\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 4);
}

#[test]
fn a_429_on_run_sse_is_not_sent_and_a_plain_rerun_sends_it() {
    let env = ready();
    env.emu
        .with_state(|s| s.faults.chat.chat_rate_limit_next = 1);
    write_jobs(&env, "generate a panda\n");
    let out = batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .assert()
        .code(6);
    let err = stderr(&out);
    // It was rightly not retried: no "still after one retry".
    assert!(!err.contains("after one retry"), "{err}");
    assert_eq!(count(&env, "POST", RUN), 1);

    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert!(!stderr(&out).contains("not sent again"), "{}", stderr(&out));
    assert_eq!(count(&env, "POST", RUN), 2);
    assert_eq!(
        std::fs::read(out_dir(&env).join("1-generate-a-panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_paid_reply_whose_state_read_failed_is_exported_on_rerun_without_prompting() {
    let env = ready();
    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 2);
    write_jobs(&env, "generate a panda\n");
    batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_RATE_LIMIT_WAIT", "0")
        .assert()
        .code(6);
    assert_eq!(count(&env, "POST", RUN), 1);

    env.emu
        .with_state(|s| s.faults.chat.chat_state_rate_limit_after = 0);
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert!(
        stderr(&out).ends_with("1 done, 0 failed, 0 skipped\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 1, "the prompt was sent again");
    assert_eq!(
        std::fs::read(out_dir(&env).join("1-generate-a-panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn a_rerun_after_a_timeout_polls_the_recorded_render_instead_of_submitting_another() {
    let env = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 4_000);
    write_jobs(&env, "generate a panda\n");
    batch(&env, &["jobs.txt", "-o", "out", "--timeout", "1.5"])
        .assert()
        .code(8);
    assert_eq!(count(&env, "POST", SUBMIT), 1);
    let out = batch(&env, &["jobs.txt", "-o", "out", "--timeout", "30"])
        .assert()
        .success();
    assert_eq!(
        count(&env, "POST", SUBMIT),
        1,
        "a new render was submitted: {}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 1);
    assert_eq!(
        std::fs::read(out_dir(&env).join("1-generate-a-panda.mp4")).unwrap(),
        fixture()
    );
}

#[test]
fn jobs_are_known_by_content_so_a_comment_line_added_on_top_costs_nothing() {
    let env = ready();
    write_jobs(&env, "generate a panda\ngenerate a cat\n");
    batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert_eq!(count(&env, "POST", RUN), 2);
    let before = env.requests().len();
    write_jobs(&env, "# my jobs\n\ngenerate a panda\ngenerate a cat\n");
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
    assert!(
        stderr(&out).ends_with("0 done, 0 failed, 2 skipped\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 2);
    assert_eq!(
        env.requests().len(),
        before,
        "{:?}",
        &env.requests()[before..]
    );
    // The files keep the names they were given.
    assert!(out_dir(&env).join("1-generate-a-panda.mp4").exists());
    assert!(!out_dir(&env).join("3-generate-a-panda.mp4").exists());
}

#[test]
fn only_a_verified_file_is_skipped_others_are_downloaded_again_from_the_recorded_render() {
    let env = ready();
    write_jobs(
        &env,
        "generate a panda\ngenerate a cat\ngenerate a dog\ngenerate a fox\n",
    );
    batch(&env, &["jobs.txt", "-o", "out", "-j", "4"])
        .assert()
        .success();
    let dir = out_dir(&env);
    let names = [
        "1-generate-a-panda.mp4",
        "2-generate-a-cat.mp4",
        "3-generate-a-dog.mp4",
        "4-generate-a-fox.mp4",
    ];
    // Empty, garbage of another size, truncated, a dangling symlink.
    std::fs::write(dir.join(names[0]), b"").unwrap();
    std::fs::write(dir.join(names[1]), vec![b'x'; 1000]).unwrap();
    let whole = fixture();
    std::fs::write(dir.join(names[2]), &whole[..whole.len() / 2]).unwrap();
    std::fs::remove_file(dir.join(names[3])).unwrap();
    std::os::unix::fs::symlink(dir.join("nowhere.mp4"), dir.join(names[3])).unwrap();
    let out = batch(&env, &["jobs.txt", "-o", "out", "-j", "4"])
        .assert()
        .success();
    assert_eq!(count(&env, "POST", RUN), 4, "a prompt was sent again");
    assert_eq!(
        count(&env, "POST", SUBMIT),
        4,
        "a render was submitted again"
    );
    for name in &names[..3] {
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), whole, "{name}");
    }
    assert!(
        stderr(&out).ends_with("4 done, 0 failed, 0 skipped\n") || stderr(&out).contains("3 done"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_job_is_looked_at_first_with_a_line_and_a_rerun_keeps_its_exit_code() {
    let env = ready();
    env.emu.with_state(|s| {
        s.faults.chat.chat_drop_stream = true;
        s.faults.chat.chat_late_ms = 3_600_000;
    });
    write_jobs(&env, "generate a panda\n");
    batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.001")
        .assert()
        .code(9);
    let session = journal(&env)
        .last()
        .and_then(|r| r["session_id"].as_str().map(str::to_string))
        .unwrap();
    let started = Instant::now();
    let out = batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.001")
        .assert()
        .code(9);
    assert!(started.elapsed() < Duration::from_secs(20));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("line 1: looking at session {session}")),
        "{err}"
    );
    // The hint names the job's session.
    assert!(err.contains(&format!("--session {session}")), "{err}");
    assert_eq!(count(&env, "POST", RUN), 1);
}

#[test]
fn a_rerun_keeps_the_exit_code_of_the_recorded_cause() {
    let env = ready();
    // The stream drops, and the work never shows: unknown, exit 9.
    env.emu.with_state(|s| {
        s.faults.chat.chat_drop_stream = true;
        s.faults.chat.chat_late_ms = 3_600_000;
    });
    write_jobs(&env, "generate a panda\n");
    batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.001")
        .assert()
        .code(9);
    // A recorded agent failure is exit 8 on re-run, not retried without
    // --retry-failed; a recorded rate limit keeps 6.
    let mut records = journal(&env);
    let mut last: Value = records.pop().unwrap();
    last["state"] = "failed".into();
    last["exit_code"] = 6.into();
    last["error"] = "rate limited".into();
    let mut text = std::fs::read_to_string(out_dir(&env).join(".nemo-batch.jsonl")).unwrap();
    text.push_str(&format!("{last}\n"));
    std::fs::write(out_dir(&env).join(".nemo-batch.jsonl"), text).unwrap();
    let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().code(6);
    assert!(stderr(&out).contains("--retry-failed"), "{}", stderr(&out));
    assert_eq!(count(&env, "POST", RUN), 1);
}

#[test]
fn retry_failed_sends_again_a_job_whose_agent_made_no_video() {
    let env = ready();
    write_jobs(&env, "hello there\n");
    batch(&env, &["jobs.txt", "-o", "out"]).assert().code(8);
    batch(&env, &["jobs.txt", "-o", "out"]).assert().code(8);
    assert_eq!(count(&env, "POST", RUN), 1);
    let out = batch(&env, &["jobs.txt", "-o", "out", "--retry-failed"])
        .assert()
        .code(8);
    assert!(!stderr(&out).contains("not sent again"), "{}", stderr(&out));
    assert_eq!(count(&env, "POST", RUN), 2);
}

#[test]
fn a_dropped_stream_in_a_batch_gets_chat_s_warning() {
    let env = ready();
    env.emu
        .with_state(|s| s.faults.chat.chat_drop_stream = true);
    write_jobs(&env, "generate a panda\n");
    let out = batch(&env, &["jobs.txt", "-o", "out"])
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .assert()
        .success();
    assert!(
        stderr(&out).contains("line 1: the reply was cut off, but the agent went on"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&env, "POST", RUN), 1);
}

#[test]
fn a_folder_as_the_jobs_file_is_exit_7_and_an_empty_file_is_0_done() {
    let env = ready();
    let out = batch(&env, &[env.tmp.path().to_str().unwrap(), "-o", "out"])
        .assert()
        .code(7);
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    for text in ["", "# only a comment\n\n"] {
        write_jobs(&env, text);
        let out = batch(&env, &["jobs.txt", "-o", "out"]).assert().success();
        assert!(
            stderr(&out).ends_with("0 done, 0 failed, 0 skipped\n"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(env.requests_to(RUN).len(), 0);
}

/// How many times each prompt reached `/run_sse`.
fn sent_per_prompt(env: &crate::common::Env) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    env.emu.with_state(|s| {
        for run in &s.chat.runs {
            let text = run.body["new_message"]["parts"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            *counts.entry(text).or_insert(0) += 1;
        }
    });
    counts
}

/// Every complete line of the journal is a record; only a last line
/// without its newline may be torn.
fn journal_parses(env: &crate::common::Env) {
    let text = std::fs::read_to_string(out_dir(env).join(".nemo-batch.jsonl")).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    for line in complete.lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    }
}

#[test]
fn a_batch_killed_at_random_points_converges_and_no_plain_run_sends_a_prompt_twice() {
    const PROMPTS: [&str; 3] = ["generate a panda", "generate a cat", "generate a dog"];
    let env = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 150);
    write_jobs(&env, &PROMPTS.join("\n"));
    let plain = |env: &crate::common::Env| {
        let mut cmd = env.nemo_process();
        cmd.current_dir(env.tmp.path())
            .env("NEMO_CHAT_TIME_SCALE", "0.002")
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
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    };
    // A fixed seed: the same kill points every run.
    let mut seed: u64 = 0x5eed_1234_abcd_0042;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        seed >> 33
    };
    let started = Instant::now();
    for _ in 0..24 {
        let before = sent_per_prompt(&env);
        let mut child = plain(&env).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(next() % 500));
        let _ = child.kill();
        let _ = child.wait();
        let after = sent_per_prompt(&env);
        for prompt in PROMPTS {
            let sent = after.get(prompt).unwrap_or(&0) - before.get(prompt).unwrap_or(&0);
            assert!(sent <= 1, "{prompt:?} sent {sent} times in one run");
        }
        journal_parses(&env);
    }
    // Then plain runs to the end: each prompt at most once per run. A
    // prompt killed between its record and its send stays unknown (its
    // session shows nothing) until --retry-unknown sends it.
    let before = sent_per_prompt(&env);
    let _ = plain(&env).status().unwrap();
    let after = sent_per_prompt(&env);
    for prompt in PROMPTS {
        assert!(after.get(prompt).unwrap_or(&0) - before.get(prompt).unwrap_or(&0) <= 1);
    }
    batch(
        &env,
        &["jobs.txt", "-j", "2", "-o", "out", "--retry-unknown"],
    )
    .env("NEMO_CHAT_TIME_SCALE", "0.002")
    .assert()
    .success();
    journal_parses(&env);
    for (line, prompt) in PROMPTS.iter().enumerate() {
        let name = format!("{}-{}.mp4", line + 1, prompt.replace(' ', "-"));
        assert_eq!(
            std::fs::read(out_dir(&env).join(&name)).unwrap(),
            fixture(),
            "{name}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(60));
}
