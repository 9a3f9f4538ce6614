//! `nemo chat` end to end: the real binary against the emulated agent.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Env, WEB_URL, json, stderr, stdout};

const GREETING: &str = "Hi! I'm NemoVideo's agent. Tell me what video to make — for example \"a panda in a bamboo forest\".\n";

/// The bodies `/run_sse` received.
fn runs(env: &Env) -> Vec<Value> {
    env.emu
        .with_state(|s| s.chat.runs.iter().map(|r| r.body.clone()).collect())
}

/// stdout as JSON Lines.
fn lines(out: &assert_cmd::assert::Assert) -> Vec<Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

fn of_type<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["type"] == kind).collect()
}

/// The state of the only session, with the agent's due edits applied.
fn only_session_state(env: &Env) -> Value {
    env.emu.with_state(|s| {
        nemo_emulator::agent::settle(s);
        assert_eq!(s.sessions.len(), 1);
        let session = s.sessions.values().next().unwrap().clone();
        session.state
    })
}

#[test]
fn streams_the_reply_text_to_stdout_each_piece_once() {
    let env = Env::fast();
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    // The greeting comes as four partial pieces and then the whole text
    // again in the final event: shown once.
    assert_eq!(stdout(&out), GREETING);
    let err = stderr(&out);
    assert!(err.contains("Connecting…"), "{err}");
    assert!(err.contains("Created session"), "{err}");
    assert!(!err.contains("error"), "{err}");
    let sid = env.config()["current_session"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(err, format!("Connecting…\nCreated session {sid}\n"));
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn several_words_make_one_message() {
    let env = Env::fast();
    env.nemo()
        .args(["chat", "hello", "there"])
        .assert()
        .success();
    assert_eq!(
        runs(&env)[0]["new_message"]["parts"][0]["text"],
        "hello there"
    );
}

#[test]
fn the_request_body_and_headers_are_exact() {
    let env = Env::fast();
    let sid = env.session();
    env.nemo()
        .args(["chat", "hi \"there\" 你好"])
        .assert()
        .success();
    assert_eq!(
        runs(&env),
        vec![json!({
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": sid,
            "new_message": {"role": "user", "parts": [{"text": "hi \"there\" 你好"}]},
        })]
    );
    let requests = env.requests_to("/run_sse");
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let token = env.stored_token().unwrap();
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(r.header("x-skill-source"), Some("nemo-cli"));
    assert_eq!(r.header("x-skill-platform"), Some("unknown"));
    // The state was read before sending (for the diff of a silent reply).
    let paths: Vec<String> = env.requests().iter().map(|r| r.path.clone()).collect();
    let state = paths
        .iter()
        .rposition(|p| p.starts_with("/api/state/"))
        .unwrap();
    let run = paths.iter().position(|p| p == "/run_sse").unwrap();
    assert!(state < run, "{paths:?}");
}

#[test]
fn the_text_arrives_before_the_reply_ends() {
    // On a pipe the text comes a line at a time: the first line is there
    // while the agent still works on the generation.
    let env = Env::fast();
    env.session();
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 20_000);
    let mut child = env
        .nemo_process()
        .args(["chat", "--timeout", "30", "generate a panda"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("I'll generate"), "{first:?}");
    // Still running: the line was written as it came, not at the end.
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn each_line_of_a_reply_reaches_a_pipe_in_one_write() {
    // The pieces of a line come 150 ms apart; whatever a reader gets at
    // once ends with a newline, so processes sharing a pipe never glue
    // their lines together.
    let env = Env::fast();
    env.session();
    env.emu.with_state(|s| s.faults.chat.chat_pace_ms = 150);
    let mut child = env
        .nemo_process()
        .args(["chat", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut chunks = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        chunks.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(chunks.concat(), GREETING);
    assert!(chunks.iter().all(|c| c.ends_with('\n')), "{chunks:?}");
}

#[test]
fn json_records_arrive_before_the_reply_ends() {
    // Records are held only while the next event is already at hand: one
    // that arrives alone is written at once.
    let env = Env::fast();
    env.session();
    env.emu.with_state(|s| {
        s.faults.chat.chat_endless = true;
        s.faults.chat.chat_pace_ms = 50;
    });
    let mut child = env
        .nemo_process()
        .args(["--json", "chat", "--timeout", "20", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("{\"type\":\"text\""), "{first}");
    assert!(child.try_wait().unwrap().is_none());
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn json_lines_one_record_per_event_and_done_last() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["--json", "chat", "hello"])
        .assert()
        .success();
    let records = lines(&out);
    let texts: Vec<&str> = of_type(&records, "text")
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        vec![
            "Hi! I'm ",
            "NemoVideo's agent. ",
            "Tell me what video to make — ",
            "for example \"a panda in a bamboo forest\"."
        ]
    );
    let done = records.last().unwrap();
    assert_eq!(
        done,
        &json!({"type": "done", "text": GREETING.trim_end(), "silent": false, "changes": []})
    );
    assert_eq!(of_type(&records, "done").len(), 1);
    // Every record starts with its type.
    for line in stdout(&out).lines() {
        assert!(line.starts_with("{\"type\":"), "{line}");
    }
}

#[test]
fn a_generation_streams_hides_its_tools_and_edits_the_draft() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args([
            "chat",
            "generate a 10-second video of a panda walking through a bamboo forest",
        ])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "I'll generate a 10-second video of a panda walking through a bamboo forest now…\n\
         Your video is ready: a 10-second clip of a panda walking through a bamboo forest, \
         with lo-fi music and the title \"Panda Walking Through\".\n"
    );
    let err = stderr(&out);
    assert!(!err.contains("generate_video"), "{err}");
    assert!(!err.contains("debug:"), "{err}");
    let state = only_session_state(&env);
    let timeline = nemo::timeline::Timeline::from_draft(&state["draft"]);
    assert_eq!(
        timeline.one_line(),
        "Timeline (3 tracks): 1. Video: a panda walking through a bamboo forest (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: \"Panda Walking Through\" (0-3s)"
    );
    // About 100 credits a clip.
    let out = env.nemo().args(["credits"]).assert().success();
    assert!(
        stdout(&out).starts_with("available 0\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn verbose_shows_one_stderr_line_per_tool_call_and_result() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["-v", "chat", "generate a video of a cat"])
        .assert()
        .success();
    let err = stderr(&out);
    for tool in ["generate_video", "add_background_music", "add_title"] {
        let calls = err
            .lines()
            .filter(|l| l.contains(&format!("tool call: {tool} ")))
            .count();
        let results = err
            .lines()
            .filter(|l| l.contains(&format!("tool result: {tool} ")))
            .count();
        assert_eq!((calls, results), (1, 1), "{tool}: {err}");
    }
    assert!(!stdout(&out).contains("generate_video"));
    // The token is masked in the request log.
    let token = env.stored_token().unwrap();
    assert!(!err.contains(&token));
    assert!(err.contains("POST http://127.0.0.1"), "{err}");
}

#[test]
fn json_lines_carry_tool_calls_results_and_heartbeats() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["--json", "chat", "generate a video of a cat"])
        .assert()
        .success();
    let records = lines(&out);
    let calls = of_type(&records, "tool_call");
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0]["name"], "generate_video");
    assert_eq!(calls[0]["args"]["prompt"], "generate a video of a cat");
    let results = of_type(&records, "tool_result");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["response"]["status"], "success");
    // Empty data lines, comments and heartbeat events during the slow tool.
    assert!(of_type(&records, "heartbeat").len() >= 3, "{records:?}");
    let done = records.last().unwrap();
    assert_eq!(done["type"], "done");
    assert_eq!(done["silent"], false);
    let whole: String = of_type(&records, "text")
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert_eq!(done["text"], whole);
    // With --json the changes are listed even when there was text.
    let changes = done["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(changes[2]["summary"], "+ Title: \"Cat\" (0-3s)");
}

#[test]
fn a_silent_edit_prints_what_changed_on_the_timeline() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "add a title \"Paradise Found\""])
        .assert()
        .success();
    assert_eq!(stdout(&out), "+ Title: \"Paradise Found\" (0-3s)\n");
    assert!(stderr(&out).contains("answered without text"));
    let sid = env.config()["current_session"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        stderr(&out),
        format!(
            "Connecting…\nCreated session {sid}\n\
             The agent answered without text; what changed in the session:\n"
        )
    );
    let out = env
        .nemo()
        .args(["chat", "change the title to \"Lost\""])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "~ Title: \"Paradise Found\" (0-3s) → \"Lost\" (0-3s)\n"
    );
}

#[test]
fn a_silent_edit_in_json_lists_the_changes() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["--json", "chat", "add a title \"Paradise Found\""])
        .assert()
        .success();
    let records = lines(&out);
    assert!(of_type(&records, "text").is_empty());
    let done = records.last().unwrap();
    assert_eq!(done["type"], "done");
    assert_eq!(done["text"], "");
    assert_eq!(done["silent"], true);
    assert_eq!(done["changes"][0]["op"], "added");
    assert_eq!(done["changes"][0]["track"], "Title");
    assert_eq!(
        done["changes"][0]["summary"],
        "+ Title: \"Paradise Found\" (0-3s)"
    );
}

#[test]
fn a_silent_reply_without_visible_change_says_so() {
    let env = Env::fast();
    let out = env.nemo().args(["chat", "silent check"]).assert().success();
    assert_eq!(
        stdout(&out),
        "The session changed, but nothing visible on the timeline.\n"
    );
    let out = env
        .nemo()
        .args(["--json", "chat", "do nothing"])
        .assert()
        .success();
    assert_eq!(
        lines(&out).last().unwrap(),
        &json!({"type": "done", "text": "", "silent": true, "changes": []})
    );
    let out = env.nemo().args(["chat", "do nothing"]).assert().success();
    assert_eq!(stdout(&out), "No visible change on the timeline.\n");
    assert!(stderr(&out).contains("answered without text"));
    assert_eq!(
        stderr(&out),
        "The agent answered without text; what changed in the session:\n"
    );
}

#[test]
fn gui_talk_gets_hints_naming_the_commands() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "how do I export?"])
        .assert()
        .success();
    assert!(stdout(&out).contains("click the Export button"));
    let err = stderr(&out);
    assert!(
        err.contains("hint: to export the video here → nemo export"),
        "{err}"
    );
    assert!(
        err.contains("hint: to see the timeline here → nemo state"),
        "{err}"
    );
    assert!(
        err.ends_with(
            "hint: to export the video here → nemo export\n\
             hint: to see the timeline here → nemo state\n"
        ),
        "{err}"
    );
    // In Chinese too.
    let out = env.nemo().args(["chat", "怎么导出"]).assert().success();
    assert_eq!(
        stdout(&out),
        "视频已经在时间线上了。请点击右上角的「导出」按钮下载视频。\n"
    );
    assert!(stderr(&out).contains("→ nemo export"));
    // No GUI talk, no hint.
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    assert!(!stderr(&out).contains("hint:"));
}

#[test]
fn a_trailing_temporary_issue_line_is_dropped() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "hello [[sandbox:temporary]]"])
        .assert()
        .success();
    assert_eq!(stdout(&out), GREETING);
    let out = env
        .nemo()
        .args(["--json", "chat", "hello [[sandbox:temporary]]"])
        .assert()
        .success();
    let records = lines(&out);
    assert_eq!(records.last().unwrap()["text"], GREETING);
    assert!(!stdout(&out).contains("temporary issue"));
}

#[test]
fn thoughts_are_hidden_and_control_sequences_removed() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "think of ideas"])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "Here are three ideas: a sunrise, a panda, a city at night.\n"
    );
    let out = env
        .nemo()
        .args(["chat", "[[sandbox:escape]] test"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "Here is red text and a title.\n");
    assert!(!out.get_output().stdout.contains(&0x1b));
}

#[test]
fn utf8_split_inside_characters_and_crlf_line_endings() {
    let env = Env::fast();
    let out = env.nemo().args(["chat", "说中文"]).assert().success();
    assert_eq!(
        stdout(&out),
        "你好！我是视频助手 🐼，告诉我你想做什么视频。\n"
    );
    env.emu.with_state(|s| s.faults.chat.chat_crlf = true);
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    assert_eq!(stdout(&out), GREETING);
    let out = env.nemo().args(["chat", "说中文"]).assert().success();
    assert_eq!(
        stdout(&out),
        "你好！我是视频助手 🐼，告诉我你想做什么视频。\n"
    );
    let out = env
        .nemo()
        .args(["--json", "chat", "generate a video of a dog"])
        .assert()
        .success();
    let records = lines(&out);
    assert_eq!(of_type(&records, "tool_call").len(), 3);
    assert!(!of_type(&records, "heartbeat").is_empty());
}

#[test]
fn an_unreadable_event_is_skipped_with_a_warning() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "[[sandbox:garbled]]"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "Before \nafter.\n");
    let err = stderr(&out);
    assert!(
        err.contains("warning: skipped an event from the agent that cannot be read"),
        "{err}"
    );
}

#[test]
fn an_agent_error_exits_8_with_its_message() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "[[sandbox:error]] please"])
        .assert()
        .code(8);
    assert_eq!(stdout(&out), "Let me look at \n");
    assert!(
        stderr(&out).ends_with(
            "error: the agent failed: The model is overloaded. Please try again later. (RESOURCE_EXHAUSTED)\n\
             hint: `nemo state` shows what was done before it failed\n"
        ),
        "{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains(
            "error: the agent failed: The model is overloaded. Please try again later. (RESOURCE_EXHAUSTED)"
        ),
        "{err}"
    );
    let out = env
        .nemo()
        .args(["--json", "chat", "[[sandbox:error]] please"])
        .assert()
        .code(8);
    let records = lines(&out);
    let errors = of_type(&records, "error");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0]["message"],
        "The model is overloaded. Please try again later."
    );
    let last = records.last().unwrap();
    assert_eq!(last["error"]["kind"], "job");
    assert_eq!(last["error"]["exit_code"], 8);
    assert!(of_type(&records, "done").is_empty());
}

#[test]
fn a_server_error_in_the_stream_exits_8() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "[[sandbox:crash]] it"])
        .assert()
        .code(8);
    assert_eq!(stdout(&out), "Working on it…\n");
    assert!(
        stderr(&out).contains("error: the agent failed: Internal server error: the agent crashed")
    );
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn only_keep_alives_past_the_idle_timeout_exit_8() {
    let env = Env::fast();
    env.emu
        .with_state(|s| s.faults.chat.chat_heartbeats_only = true);
    let started = Instant::now();
    let out = env
        .nemo()
        .args(["--json", "chat", "--idle-timeout", "1", "hello"])
        .assert()
        .code(8);
    assert!(started.elapsed() < Duration::from_secs(30));
    let records = lines(&out);
    assert!(of_type(&records, "heartbeat").len() >= 5, "{records:?}");
    assert_eq!(records.last().unwrap()["error"]["exit_code"], 8);
    let err = stderr(&out);
    assert!(err.contains("--idle-timeout"), "{err}");
    assert!(err.contains("not sent again"), "{err}");
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn a_reply_that_never_ends_hits_the_timeout_exit_8() {
    let env = Env::fast();
    env.emu.with_state(|s| {
        s.faults.chat.chat_endless = true;
        s.faults.chat.chat_pace_ms = 20;
    });
    let out = env
        .nemo()
        .args(["chat", "--timeout", "2", "--idle-timeout", "600", "hello"])
        .assert()
        .code(8);
    assert!(stdout(&out).starts_with("."), "{}", stdout(&out));
    assert!(stdout(&out).ends_with('\n'));
    let err = stderr(&out);
    assert!(
        err.contains("error: the reply did not end within 2 s (--timeout)"),
        "{err}"
    );
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn an_agent_that_never_starts_answering_counts_as_idle_exit_8() {
    let env = Env::fast();
    env.emu
        .with_state(|s| s.faults.chat.chat_headers_delay_ms = 20_000);
    let started = Instant::now();
    let out = env
        .nemo()
        .args(["chat", "--idle-timeout", "1", "hello"])
        .assert()
        .code(8);
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(stderr(&out).contains("error: the agent did not start answering within 1 s"));
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn bad_timeouts_are_usage_errors() {
    let env = Env::fast();
    env.nemo()
        .args(["chat", "--timeout", "0", "hello"])
        .assert()
        .code(2);
    env.nemo()
        .args(["chat", "--idle-timeout", "soon", "hello"])
        .assert()
        .code(2);
    assert!(env.requests().is_empty());
}

#[test]
fn a_dropped_stream_is_watched_not_resent_and_reports_the_change() {
    let env = Env::fast();
    env.session();
    env.emu
        .with_state(|s| s.faults.chat.chat_drop_stream = true);
    let states_before = env.requests_to("/api/state/").len();
    let out = env
        .nemo()
        .env("NEMO_CHAT_TIME_SCALE", "0.01")
        .args(["chat", "generate a video of a fox"])
        .assert()
        .success();
    assert_eq!(
        stdout(&out),
        "I'll generate \n+ Video: a fox (0-10s)\n+ BGM: Lo-fi (0-10s, 35%)\n+ Title: \"Fox\" (0-3s)\n"
    );
    let err = stderr(&out);
    assert!(
        err.contains("warning: the connection to the agent dropped"),
        "{err}"
    );
    assert!(err.contains("not sent again"), "{err}");
    assert!(
        err.contains("warning: the reply was cut off, but the agent went on"),
        "{err}"
    );
    assert_eq!(runs(&env).len(), 1);
    // Read before sending, then at least once while watching.
    assert!(env.requests_to("/api/state/").len() - states_before >= 2);
}

#[test]
fn a_dropped_stream_with_no_change_exits_9_after_the_watch() {
    let env = Env::fast();
    env.session();
    env.emu
        .with_state(|s| s.faults.chat.chat_drop_stream = true);
    let states_before = env.requests_to("/api/state/").len();
    let out = env
        .nemo()
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .args(["--json", "chat", "hello"])
        .assert()
        .code(9);
    let records = lines(&out);
    assert_eq!(records[0], json!({"type": "text", "text": "Hi! I'm "}));
    let last = records.last().unwrap();
    assert_eq!(last["error"]["kind"], "network");
    assert_eq!(last["error"]["exit_code"], 9);
    let err = stderr(&out);
    assert!(
        err.contains("no change showed up in the session within 5 minutes"),
        "{err}"
    );
    assert!(err.contains("nothing is charged twice"), "{err}");
    assert!(!err.contains("try again"), "{err}");
    assert_eq!(runs(&env).len(), 1, "never sent twice");
    // One read before sending, then the whole schedule (9 reads).
    assert_eq!(env.requests_to("/api/state/").len() - states_before, 10);
}

#[test]
fn an_expired_free_token_at_run_sse_is_renewed_and_sent_once_more() {
    let env = Env::fast();
    env.session();
    let old = env.stored_token().unwrap();
    env.emu
        .with_state(|s| s.faults.chat.chat_token_expired_next = 1);
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    assert_eq!(stdout(&out), GREETING);
    assert_eq!(runs(&env).len(), 2);
    let new = env.stored_token().unwrap();
    assert_ne!(old, new);
    let requests = env.requests_to("/run_sse");
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {new}").as_str())
    );
}

#[test]
fn a_rejected_given_token_stops_with_exit_3_after_one_send() {
    let env = Env::fast();
    let token = "nmv_usr_given_token";
    env.emu.with_state(|s| {
        s.add_registered_user(token, 500);
    });
    env.nemo()
        .env("NEMO_TOKEN", token)
        .args(["session", "new"])
        .assert()
        .success();
    env.emu
        .with_state(|s| s.faults.chat.chat_token_expired_next = 1);
    let out = env
        .nemo()
        .env("NEMO_TOKEN", token)
        .args(["chat", "hello"])
        .assert()
        .code(3);
    assert!(stderr(&out).contains("NEMO_TOKEN was rejected"));
    assert_eq!(runs(&env).len(), 1);
    assert!(!stderr(&out).contains(token));
}

#[test]
fn a_lost_session_at_run_sse_gets_a_new_session_and_one_more_send() {
    let env = Env::fast();
    let old = env.session();
    env.emu
        .with_state(|s| s.faults.chat.chat_session_lost_next = 1);
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    assert_eq!(stdout(&out), GREETING);
    let bodies = runs(&env);
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["session_id"], old.as_str());
    let new = bodies[1]["session_id"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "warning: session {old} was not found on the server; started a new session {new}"
        )),
        "{err}"
    );
    assert_eq!(env.config()["current_session"], new.as_str());
}

#[test]
fn a_session_lost_twice_stops_with_exit_10() {
    let env = Env::fast();
    env.session();
    env.emu.with_state(|s| {
        s.faults.chat.chat_session_lost_next = 2;
        s.faults.session_not_found_as_404 = true;
    });
    let out = env
        .nemo()
        .args(["--json", "chat", "hello"])
        .assert()
        .code(10);
    assert_eq!(runs(&env).len(), 2);
    assert_eq!(json(&out)["error"]["kind"], "session");
}

#[test]
fn a_session_lost_before_sending_is_replaced_without_a_failed_send() {
    let env = Env::fast();
    let old = env.session();
    env.emu.with_state(|s| s.lose_all_sessions());
    let out = env.nemo().args(["chat", "hello"]).assert().success();
    assert!(stderr(&out).contains(&format!("session {old} was not found")));
    let bodies = runs(&env);
    assert_eq!(bodies.len(), 1);
    assert_ne!(bodies[0]["session_id"], old.as_str());
}

#[test]
fn no_credits_exits_4_without_a_reply() {
    let env = Env::fast();
    env.session();
    let user = env.config()["token"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The free 100 credits pay for one generation; the next one is refused.
    env.nemo()
        .args(["chat", "generate a video of a bird"])
        .assert()
        .success();
    let out = env
        .nemo()
        .args(["chat", "generate a video of a fish"])
        .assert()
        .code(4);
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.contains("error: no credits left"), "{err}");
    assert!(err.contains(&format!("{WEB_URL}/?bind={user}")), "{err}");
    let out = env
        .nemo()
        .args(["--json", "chat", "generate a video of a fish"])
        .assert()
        .code(4);
    let doc = json(&out);
    assert_eq!(doc["error"]["api_code"], 2001);
    assert_eq!(doc["error"]["exit_code"], 4);
    assert_eq!(runs(&env).len(), 3, "never retried");
}

#[test]
fn the_message_can_come_from_stdin() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "-"])
        .write_stdin("add a title \"From Stdin\"\n")
        .assert()
        .success();
    assert_eq!(stdout(&out), "+ Title: \"From Stdin\" (0-3s)\n");
    assert_eq!(
        runs(&env)[0]["new_message"]["parts"][0]["text"],
        "add a title \"From Stdin\""
    );
    let out = env
        .nemo()
        .args(["chat", "-"])
        .write_stdin("  \n")
        .assert()
        .code(2);
    assert_eq!(
        stderr(&out),
        "error: the message is empty\nhint: pipe one in: `echo \"hello\" | nemo chat -`\n"
    );
    // Piped in without `-`: the same, not "stdin is not a terminal".
    let out = env.nemo().arg("chat").write_stdin("\n").assert().code(2);
    assert!(
        stderr(&out).starts_with("error: the message is empty\n"),
        "{}",
        stderr(&out)
    );
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn a_message_on_stdin_over_64_mib_is_refused_before_anything_is_sent() {
    let env = Env::fast();
    let out = env
        .nemo()
        .args(["chat", "-"])
        .write_stdin(vec![b'a'; 64 * 1024 * 1024 + 1])
        .assert()
        .code(7);
    assert_eq!(
        stderr(&out),
        "error: the message on stdin is over 64 MiB, the most nemo sends\n\
         hint: send a shorter message; media goes through `nemo upload`\n"
    );
    assert!(runs(&env).is_empty());
}

#[test]
fn no_message_and_no_terminal_exits_2_with_a_hint() {
    let env = Env::fast();
    let out = env.nemo().arg("chat").write_stdin("").assert().code(2);
    let err = stderr(&out);
    assert!(
        err.contains("error: no message, and stdin is not a terminal"),
        "{err}"
    );
    assert!(err.contains("hint: pass the message"), "{err}");
    assert_eq!(
        err,
        "error: no message, and stdin is not a terminal for an interactive chat\n\
         hint: pass the message: `nemo chat \"…\"`, or pipe it in: `echo \"…\" | nemo chat -`\n"
    );
    assert_eq!(stdout(&out), "");
    assert!(env.requests().is_empty());
}

#[test]
fn still_working_lines_when_stderr_is_not_a_terminal() {
    let env = Env::fast();
    env.emu.with_state(|s| s.faults.chat.chat_tool_ms = 2500);
    let out = env
        .nemo()
        // Two minutes scaled to 0.6 s.
        .env("NEMO_CHAT_TIME_SCALE", "0.005")
        .args(["chat", "generate a video of a cow"])
        .assert()
        .success();
    let err = stderr(&out);
    assert!(err.contains("⏳ Still working… (2m)\n"), "{err}");
    assert!(err.contains("⏳ Still working… (4m)\n"), "{err}");
    // -q hides them.
    env.emu.with_state(|s| s.faults.chat.chat_generate_cost = 0);
    let out = env
        .nemo()
        .env("NEMO_CHAT_TIME_SCALE", "0.005")
        .args(["-q", "chat", "generate a video of a goat"])
        .assert()
        .success();
    assert_eq!(stderr(&out), "");
    assert!(stdout(&out).contains("Your video is ready"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_in_one_shot_exits_130() {
    let env = Env::fast();
    env.session();
    env.emu
        .with_state(|s| s.faults.chat.chat_heartbeats_only = true);
    let child = env
        .nemo_process()
        .args(["chat", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.requests_to("/run_sse").is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Give the client a moment to start reading the stream.
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: interrupted"), "{err}");
    assert!(err.contains("`nemo state`"), "{err}");
    assert_eq!(runs(&env).len(), 1);
}

#[test]
fn the_sandbox_keeps_the_agent_s_edits_across_processes() {
    let env = Env::new();
    let out = env
        .nemo()
        .args(["--sandbox", "chat", "add a title 'One'"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "+ Title: \"One\" (0-3s)\n");
    let out = env
        .nemo()
        .args(["--sandbox", "chat", "add a title 'Two'"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "~ Title: \"One\" (0-3s) → \"Two\" (0-3s)\n");
    // Nothing went to the test's own emulator.
    assert!(env.requests().is_empty());
}
