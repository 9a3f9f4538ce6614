//! `nemo state`: the timeline summary, `--json`, `--draft`, empty drafts,
//! lost sessions.

use serde_json::{Value, json};

use crate::common::{Env, city_draft, json, stderr, stdout};

/// Puts `draft` and some media into the session's state on the server.
fn seed(env: &Env, session: &str, draft: Value) -> Value {
    env.emu.with_state(|s| {
        let state = &mut s.sessions.get_mut(session).unwrap().state;
        state["draft"] = draft;
        state["video_infos"] = json!([
            {"filename": "a.mp4", "file_type": "video", "duration": 10.0},
            {"filename": "b.png", "file_type": "image"}
        ]);
        state["generated_media"] = json!([{"id": "gen_1", "type": "video", "prompt": "city"}]);
        state["future_field"] = json!({"kept": [1, 2.5, "x"]});
        state.clone()
    })
}

#[test]
fn the_seed_timeline_a_track_a_line_then_media_counts() {
    let env = Env::new();
    let session = env.session();
    seed(&env, &session, city_draft());
    let out = env.nemo().arg("state").assert().success();
    assert_eq!(
        stdout(&out),
        "Timeline (3 tracks):\n\
         1. Video: city timelapse (0-10s)\n\
         2. BGM: Lo-fi (0-10s, 35%)\n\
         3. Title: \"Urban Dreams\" (0-3s)\n\
         Media: 2 uploaded, 1 generated\n"
    );
    assert_eq!(stderr(&out), "");
    let sent = env.requests_to("/api/state/");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].path,
        format!("/api/state/nemo_agent/me/{session}/latest")
    );
}

#[test]
fn json_and_draft_are_what_the_server_holds() {
    let env = Env::new();
    let session = env.session();
    let held = seed(&env, &session, city_draft());
    let doc = json(&env.nemo().args(["state", "--json"]).assert().success());
    assert_eq!(doc, held);
    assert_eq!(doc["future_field"], json!({"kept": [1, 2.5, "x"]}));
    let out = env.nemo().args(["state", "--draft"]).assert().success();
    assert_eq!(json(&out), held["draft"]);
    assert_eq!(stderr(&out), "");
    // --draft wins over --json: still only the draft.
    let doc = json(
        &env.nemo()
            .args(["state", "--draft", "--json"])
            .assert()
            .success(),
    );
    assert_eq!(doc, city_draft());
}

#[test]
fn an_empty_draft_says_so_and_suggests_chat() {
    let env = Env::new();
    env.session();
    let out = env.nemo().arg("state").assert().success();
    assert_eq!(
        stdout(&out),
        "Timeline (0 tracks): the draft is empty\nMedia: 0 uploaded, 0 generated\n"
    );
    let err = stderr(&out);
    assert!(err.starts_with("hint: nothing to export yet"), "{err}");
    assert!(err.contains("nemo chat"), "{err}");
    assert_eq!(
        err,
        "hint: nothing to export yet; ask the agent for a video: \
         nemo chat \"generate a 10-second video of …\"\n"
    );
    // -q keeps the result and drops the hint.
    let out = env.nemo().args(["state", "-q"]).assert().success();
    assert_eq!(stderr(&out), "");
    assert!(stdout(&out).starts_with("Timeline (0 tracks)"));
}

#[test]
fn tracks_without_segments_and_unknown_types() {
    let env = Env::new();
    let session = env.session();
    seed(
        &env,
        &session,
        json!({"t": [
            {"tt": 0, "sg": []},
            {"tt": 42, "sg": [{"d": "2500", "st": 500, "m": {"name": "\u{1b}[31mred\u{1b}[0m"}}]},
            "not a track"
        ]}),
    );
    let out = env.nemo().arg("state").assert().success();
    assert_eq!(
        stdout(&out),
        "Timeline (2 tracks):\n\
         1. Video: (empty)\n\
         2. Track type 42: red (0.5-3s)\n\
         Media: 2 uploaded, 1 generated\n"
    );
    // Segments exist, so there is something to export: no hint.
    assert_eq!(stderr(&out), "");

    seed(&env, &session, json!({"t": [{"tt": 1, "sg": []}]}));
    let out = env.nemo().arg("state").assert().success();
    assert_eq!(
        stdout(&out),
        "Timeline (1 track):\n1. Audio: (empty)\nMedia: 2 uploaded, 1 generated\n"
    );
    assert!(stderr(&out).contains("nemo chat"));
}

#[test]
fn without_a_session_one_is_made_and_announced() {
    let env = Env::new();
    let out = env.nemo().arg("state").assert().success();
    let id = env.config()["current_session"]
        .as_str()
        .unwrap()
        .to_string();
    let err = stderr(&out);
    assert!(err.contains(&format!("Created session {id}")), "{err}");
    assert!(stdout(&out).starts_with("Timeline (0 tracks)"));
    assert_eq!(
        err,
        format!(
            "Connecting…\nCreated session {id}\n\
             hint: nothing to export yet; ask the agent for a video: \
             nemo chat \"generate a 10-second video of …\"\n"
        )
    );
    assert_eq!(
        stdout(&out),
        "Timeline (0 tracks): the draft is empty\nMedia: 0 uploaded, 0 generated\n"
    );
}

#[test]
fn uploads_show_in_the_counts() {
    let env = Env::new();
    env.session();
    let file = env.tmp.path().join("a.mp3");
    std::fs::write(&file, vec![7u8; 4000]).unwrap();
    env.nemo()
        .args(["upload", &file.to_string_lossy()])
        .assert()
        .success();
    let out = env.nemo().arg("state").assert().success();
    assert!(
        stdout(&out).ends_with("Media: 1 uploaded, 0 generated\n"),
        "{}",
        stdout(&out)
    );
    let doc = json(&env.nemo().args(["state", "--json"]).assert().success());
    assert_eq!(doc["video_infos"][0]["filename"], "a.mp3");
}

#[test]
fn a_lost_session_exits_10_without_making_a_new_one() {
    for as_404 in [false, true] {
        let env = Env::new();
        let session = env.session();
        env.emu.with_state(|s| {
            s.lose_all_sessions();
            s.faults.session_not_found_as_404 = as_404;
        });
        let before = env.requests_to("/api/tasks/").len();
        let out = env.nemo().args(["state", "--json"]).assert().code(10);
        let doc = json(&out);
        assert_eq!(doc["error"]["kind"], "session");
        assert_eq!(doc["error"]["exit_code"], 10);
        assert_eq!(doc["error"]["api_code"], 1002);
        let err = stderr(&out);
        // Issue 20 #23: the error names the session.
        assert!(
            err.contains(&format!(
                "error: session {session} was not found on the server"
            )),
            "{err}"
        );
        assert!(err.contains("hint: start a new one with `nemo session new`"));
        assert_eq!(env.requests_to("/api/tasks/").len(), before);
        assert_eq!(env.config()["current_session"], session.as_str());
    }
}

/// Some backends keep the draft as a JSON string: `state` reads inside it
/// (it showed an empty timeline) and `--draft` prints the JSON it holds.
/// (Chat's change report reads drafts through the same `Timeline`, whose
/// unit tests cover the string form.)
#[test]
fn a_draft_kept_as_a_json_string_is_read_everywhere() {
    let env = Env::new();
    let session = env.session();
    seed(&env, &session, Value::String(city_draft().to_string()));
    let out = env.nemo().arg("state").assert().success();
    assert!(
        stdout(&out).starts_with("Timeline (3 tracks):\n1. Video: city timelapse (0-10s)\n"),
        "{}",
        stdout(&out)
    );
    let out = env.nemo().args(["state", "--draft"]).assert().success();
    assert_eq!(json(&out), city_draft());
    // --json stays what the server holds: the string.
    let out = env.nemo().args(["state", "--json"]).assert().success();
    assert!(json(&out)["draft"].is_string());
}

/// Issue 20 #23: `--session 999 state` said "not found" without the id.
#[test]
fn a_session_named_by_the_caller_that_is_not_found_is_named() {
    let env = Env::new();
    env.session();
    let out = env
        .nemo()
        .args(["--session", "999", "state"])
        .assert()
        .code(10);
    assert!(
        stderr(&out).contains("error: session 999 was not found on the server"),
        "{}",
        stderr(&out)
    );
}

/// Issue 20 #23: the drawing was 40 wide at `COLUMNS=10` or `30`.
#[test]
fn the_drawing_fits_columns() {
    let env = Env::new();
    let session = env.session();
    seed(&env, &session, city_draft());
    for columns in [10usize, 30, 61] {
        let out = env
            .nemo()
            .arg("state")
            .env("NEMO_PRETEND_TTY", "stdout")
            .env("COLUMNS", columns.to_string())
            .assert()
            .success();
        let text = stdout(&out);
        // The picture: the lines above the blank line before the summary.
        let picture = text.split_once("\n\n").map_or("", |(p, _)| p);
        for line in picture.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line) <= columns,
                "COLUMNS={columns}: {line:?} in\n{text}"
            );
        }
        // Wide enough, there is a picture above the summary.
        let drawn = !text.starts_with("Timeline (3 tracks):");
        assert_eq!(drawn, columns >= 20, "COLUMNS={columns}:\n{text}");
    }
}

/// Issue 19 #20: a draft in Draft Protocol V3 markup was "the draft is
/// empty"; an unknown JSON shape too. Each is said to be in another form,
/// with its size and how to print it, and `--draft` prints it as it came.
#[test]
fn a_draft_in_another_form_is_said_to_be_so_never_empty() {
    let markup = r#"<draft fps="30" width="1920" height="1080" duration="10000"><track type="video"><clip src="https://cdn.example/a.mp4" start="0" duration="10000"/></track></draft>"#;
    let env = Env::new();
    let session = env.session();
    seed(&env, &session, Value::String(markup.into()));
    let out = env.nemo().arg("state").assert().success();
    let text = stdout(&out);
    assert!(!text.contains("empty"), "{text}");
    assert!(
        text.starts_with(&format!(
            "Timeline: the draft is in a form nemo does not draw (markup, not the JSON nemo reads; {} bytes)\n",
            markup.len()
        )),
        "{text}"
    );
    assert!(
        stderr(&out).contains("nemo state --draft"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("nothing to export"),
        "{}",
        stderr(&out)
    );
    let out = env.nemo().args(["state", "--draft"]).assert().success();
    assert_eq!(stdout(&out), format!("{markup}\n"));
    let out = env
        .nemo()
        .args(["state", "--draft", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out), Value::String(markup.into()));

    let other = json!({"tracks": [{"clips": [{"src": "a.mp4", "len": 10}]}]});
    seed(&env, &session, other.clone());
    let out = env.nemo().arg("state").assert().success();
    assert!(
        stdout(&out).contains("JSON of a shape nemo does not read"),
        "{}",
        stdout(&out)
    );
    let out = env.nemo().args(["state", "--draft"]).assert().success();
    assert_eq!(json(&out), other);
}
