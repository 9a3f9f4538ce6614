//! The server's words are data (issue 19): against a raw-socket server
//! that sends legal but hostile or unusual answers, what nemo prints holds
//! no terminal control or bidi character, ids that break the id rule are
//! refused (exit 9) and never stored or sent, numeric ids keep their
//! digits, numbers written as floats are read, 1010/1011 are
//! authentication failures, and the agent's stream is read in every form
//! ADK and NemoVideo's gateways write it.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Env, stderr, stdout};
use crate::raw_server::{RawServer, json_answer, sse_head};

/// Every kind of thing that must not reach a terminal: 7- and 8-bit CSI,
/// OSC 52 (a clipboard write) and DCS with their payloads, C0 controls,
/// DEL and the bidi controls of CVE-2021-42574.
const NASTY: &str = "A\u{1b}[2J\u{1b}]52;c;ZXZpbA==\u{7}B\u{9b}31m\u{9d}52;c;cGF5bG9hZA==\u{9c}C\u{90}q\u{9c}\u{8}\r\u{7f}D\u{202e}E\u{2066}F\u{2069}";

/// Whether `text` holds a character that may not reach a terminal.
fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

fn assert_clean(out: &assert_cmd::assert::Assert, what: &str) {
    for (stream, text) in [("stdout", stdout(out)), ("stderr", stderr(out))] {
        let bad = unsafe_chars(&text);
        assert!(bad.is_empty(), "{what}: {stream} holds {bad:?}: {text:?}");
        // No payload of a removed sequence either — but JSON keeps the
        // text as data, its ESC written as the six characters `\u001b`.
        if !text.contains("\\u001b") {
            assert!(!text.contains("ZXZpbA"), "{what}: {stream}: {text:?}");
            assert!(!text.contains("cGF5bG9hZA"), "{what}: {stream}: {text:?}");
        }
    }
}

type Route = Box<dyn Fn(&str, &mut TcpStream) -> bool + Send + Sync>;

/// A server answering each request with the first route that takes it
/// (404 otherwise).
fn server(routes: Vec<Route>) -> RawServer {
    RawServer::start(move |line, socket| {
        if !routes.iter().any(|route| route(line, socket)) {
            let _ = socket.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    })
}

/// A route answering requests whose line starts with `prefix` with `body`.
fn answer(prefix: &'static str, body: Value) -> Route {
    let body = body.to_string();
    Box::new(move |line, socket| {
        line.starts_with(prefix) && {
            json_answer(socket, &body);
            true
        }
    })
}

/// A route answering `/run_sse` with these raw SSE bytes.
fn sse(bytes: Vec<u8>) -> Route {
    Box::new(move |line, socket| {
        line.starts_with("POST /run_sse") && {
            let _ = sse_head(socket).and_then(|()| socket.write_all(&bytes));
            true
        }
    })
}

fn state_answer(draft: Value, task_name: &str) -> Route {
    answer(
        "GET /api/state/",
        json!({"code":0,"data":{"session_id":"s1","task_id":"t1","task_name":task_name,
            "state":{"draft":draft,"video_infos":[],"generated_media":[]}}}),
    )
}

fn credits_answer() -> Route {
    answer(
        "GET /api/credits/",
        json!({"code":0,"data":{"available":90,"frozen":0,"total":90}}),
    )
}

/// `nemo` against `server` with a given token and session.
fn nemo(env: &Env, server: &RawServer) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.env("NEMO_API_URL", &server.url)
        .env("NEMO_TOKEN", "nmt_test_token_for_the_raw_server")
        .env("NEMO_SESSION", "s1")
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .timeout(Duration::from_secs(30));
    cmd
}

/// `nemo` against `server` with nothing given: it logs in and makes a
/// session itself.
fn bare_nemo(env: &Env, server: &RawServer) -> assert_cmd::Command {
    let mut cmd = env.nemo();
    cmd.env("NEMO_API_URL", &server.url)
        .env("NEMO_CHAT_TIME_SCALE", "0.002")
        .timeout(Duration::from_secs(30));
    cmd
}

fn count(server: &RawServer, prefix: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.starts_with(prefix))
        .count()
}

fn token_answer(user_id: &str, expires_at: &str) -> Route {
    answer(
        "POST /api/auth/anonymous-token",
        json!({"code":0,"data":{"token":"nmv_usr_fresh","user_id":user_id,
            "expires_at":expires_at,"credits":100}}),
    )
}

fn session_answer(session_id: Value) -> Route {
    answer(
        "POST /api/tasks/",
        json!({"code":0,"data":{"task_id":"task_1","session_id":session_id,"user_id":"anon_1"}}),
    )
}

/// Issue 19 #1: OSC 52, CSI 2J and an 8-bit CSI in `user_id` and
/// `expires_at` reached the terminal through `auth login` and `auth status`.
#[test]
fn server_ids_and_dates_reach_the_terminal_sanitised() {
    let env = Env::new();
    let server = server(vec![
        token_answer(
            &format!("anon_{NASTY}"),
            &format!("2030-01-01T00:00:00Z{NASTY}"),
        ),
        credits_answer(),
    ]);
    let login = bare_nemo(&env, &server)
        .args(["auth", "login"])
        .assert()
        .success();
    assert_clean(&login, "auth login");
    assert!(
        stderr(&login).contains("Logged in as anon_ABCDEF"),
        "{}",
        stderr(&login)
    );
    for args in [&["auth", "status"][..], &["auth", "status", "--json"]] {
        let out = bare_nemo(&env, &server).args(args).assert().success();
        assert_clean(&out, &args.join(" "));
    }
    let doc: Value = serde_json::from_str(&stdout(
        &bare_nemo(&env, &server)
            .args(["auth", "status", "--json"])
            .assert()
            .success(),
    ))
    .unwrap();
    assert_eq!(doc["user_id"], "anon_ABCDEF");
}

/// Issue 19 #3: a session id `../../x y;z`, one of 70 characters, or one
/// holding a terminal sequence was stored as current and sent in the next
/// `/run_sse`. Now: exit 9, nothing stored, nothing sent.
#[test]
fn a_session_id_that_breaks_the_id_rule_is_refused_and_never_stored() {
    for bad in [
        json!("../../x y;z"),
        json!("a".repeat(70)),
        json!(format!("55{NASTY}")),
        json!(1.5),
    ] {
        let env = Env::new();
        let server = server(vec![
            token_answer("anon_1", "2030-01-01T00:00:00Z"),
            session_answer(bad.clone()),
            state_answer(json!({}), "t"),
            sse(b"data: {\"content\":{\"parts\":[{\"text\":\"hi\"}]}}\n\n".to_vec()),
        ]);
        let out = bare_nemo(&env, &server)
            .args(["session", "new"])
            .assert()
            .code(9);
        assert_eq!(stdout(&out), "", "{bad}");
        assert_clean(&out, "session new");
        assert!(
            stderr(&out).contains("error: the new session's answer is not in the documented form"),
            "{}",
            stderr(&out)
        );
        assert!(
            env.config()["current_session"].is_null(),
            "{bad}: {}",
            env.config()
        );
        assert_eq!(
            env.config()["sessions"].as_array().map_or(0, Vec::len),
            0,
            "{bad}"
        );
        // A chat that needs a session does not send the message with it.
        let out = bare_nemo(&env, &server)
            .args(["chat", "hi"])
            .assert()
            .code(9);
        assert_clean(&out, "chat");
        assert_eq!(count(&server, "POST /run_sse"), 0, "{bad}");
        assert!(env.config()["current_session"].is_null());
    }
}

/// Issue 19 #4: a session id sent as a JSON number became
/// `1.2345678901234568e+26`, a different session.
#[test]
fn a_numeric_session_id_keeps_its_exact_digits() {
    let env = Env::new();
    let digits = "123456789012345678901234567";
    let server = server(vec![
        token_answer("anon_1", "2030-01-01T00:00:00Z"),
        Box::new(move |line, socket| {
            line.starts_with("POST /api/tasks/")
                && {
                    let body = format!(
                        r#"{{"code":0,"data":{{"task_id":98765432109876543210,"session_id":{digits},"user_id":"anon_1"}}}}"#
                    );
                    json_answer(socket, &body);
                    true
                }
        }),
    ]);
    let out = bare_nemo(&env, &server)
        .args(["session", "new"])
        .assert()
        .success();
    assert_eq!(stdout(&out), format!("{digits}\n"));
    assert_eq!(env.config()["current_session"], digits);
    assert_eq!(
        env.config()["sessions"][0]["task_id"],
        "98765432109876543210"
    );
    let out = bare_nemo(&env, &server)
        .args(["session", "new", "--json"])
        .assert()
        .success();
    let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["session_id"], digits);
}

/// Issue 19 #5: a render id echoed as a JSON number was "not accepted",
/// and a second render was submitted.
#[test]
fn a_render_id_echoed_as_a_number_keeps_the_id_nemo_sent() {
    let env = Env::new();
    let server = server(vec![
        state_answer(json!({"t":[{"tt":0,"sg":[{"d":10000}]}]}), "t"),
        answer(
            "POST /api/render/proxy/lambda",
            json!({"success":true,"data":{"id":1712345678901_u64,"status":"pending","progress":0}}),
        ),
    ]);
    let work = env.tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = nemo(&env, &server)
        .current_dir(&work)
        .args(["export", "--no-wait"])
        .assert()
        .success();
    let id = stdout(&out).trim().to_string();
    assert!(id.starts_with("render_"), "{id}");
    assert!(!stderr(&out).contains("not accepted"), "{}", stderr(&out));
    assert_eq!(count(&server, "POST /api/render/proxy/lambda"), 1);
    let renders = env.config()["renders"].clone();
    assert_eq!(renders[0]["render_id"], id.as_str(), "{renders}");
}

/// Issue 19 #14: `870.0` (how Python writes a number) was exit 9, so a CI
/// gate with `--min` failed with 9; `870.5` is still unreadable.
#[test]
fn credits_written_as_floats_are_read() {
    let env = Env::new();
    let server = server(vec![answer(
        "GET /api/credits/",
        json!({"code":0,"data":{"available":870.0,"frozen":3.0,"total":873.0}}),
    )]);
    let out = nemo(&env, &server)
        .args(["credits", "--min", "800"])
        .assert()
        .success();
    assert_eq!(stdout(&out), "available 870\nfrozen 3\ntotal 873\n");
    let out = nemo(&env, &server)
        .args(["credits", "--json"])
        .assert()
        .success();
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&out)).unwrap(),
        json!({"available":870,"frozen":3,"total":873})
    );
    let fraction = server_with_credits(json!(870.5));
    nemo(&env, &fraction).args(["credits"]).assert().code(9);
}

fn server_with_credits(available: Value) -> RawServer {
    server(vec![answer(
        "GET /api/credits/",
        json!({"code":0,"data":{"available":available,"frozen":0,"total":available}}),
    )])
}

/// Issue 19 #21: 1010/1011 inside an HTTP 200 were exit 1. A given token
/// is exit 3; a stored anonymous one is renewed once.
#[test]
fn codes_1010_and_1011_are_authentication_failures() {
    for code in [1010, 1011] {
        let env = Env::new();
        let given = server(vec![answer(
            "GET /api/credits/",
            json!({"code":code,"message":"invalid api key"}),
        )]);
        let out = nemo(&env, &given).args(["credits"]).assert().code(3);
        assert!(stderr(&out).contains("rejected"), "{}", stderr(&out));

        // Anonymous: the first credits read is refused, the renewed token works.
        let env = Env::new();
        let reads = Arc::new(AtomicUsize::new(0));
        let seen = reads.clone();
        let renewing = server(vec![
            token_answer("anon_1", "2030-01-01T00:00:00Z"),
            Box::new(move |line, socket| {
                line.starts_with("GET /api/credits/") && {
                    let body = if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                        json!({"code":code,"message":"invalid api key"})
                    } else {
                        json!({"code":0,"data":{"available":90,"frozen":0,"total":90}})
                    };
                    json_answer(socket, &body.to_string());
                    true
                }
            }),
        ]);
        let out = bare_nemo(&env, &renewing)
            .args(["credits"])
            .assert()
            .success();
        assert_eq!(stdout(&out), "available 90\nfrozen 0\ntotal 90\n");
        assert_eq!(
            count(&renewing, "POST /api/auth/anonymous-token"),
            2,
            "{code}"
        );
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/adk/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Issue 19 #18: ADK 1.22's unescaped error line was skipped (exit 0), and
/// 1.23's `system` event beginning `Error:` was printed as the reply.
#[test]
fn adk_error_forms_of_every_version_are_exit_8() {
    for (name, said) in [
        ("adk-1.22.sse", r#"Tool "render_preview" failed"#),
        ("adk-1.23.sse", "The model is overloaded"),
        ("adk-1.39.sse", r#"Tool "export_video" failed"#),
        ("adk-2.13.sse", "malformed function call"),
    ] {
        let env = Env::new();
        let server = server(vec![state_answer(json!({}), "t"), sse(fixture(name))]);
        let out = nemo(&env, &server).args(["chat", "go"]).assert().code(8);
        assert!(stderr(&out).contains(said), "{name}: {}", stderr(&out));
        assert!(!stdout(&out).contains("Error:"), "{name}: {}", stdout(&out));
        assert_eq!(count(&server, "POST /run_sse"), 1);
    }
}

/// Issue 19 #19: a gateway's typed events showed no text and "No visible
/// change".
#[test]
fn a_typed_event_gateway_is_read() {
    let env = Env::new();
    let events = concat!(
        "data: {\"type\":\"text\",\"content\":\"Making your \"}\n\n",
        "data: {\"type\":\"heartbeat\"}\n\n",
        "data: {\"type\":\"tool_call\",\"name\":\"generate_video\",\"args\":{}}\n\n",
        "data: {\"type\":\"tool_result\",\"name\":\"generate_video\",\"result\":{\"ok\":true}}\n\n",
        "data: {\"type\":\"text\",\"content\":\"panda video.\"}\n\n",
    );
    let server = server(vec![
        state_answer(json!({}), "t"),
        sse(events.as_bytes().to_vec()),
    ]);
    let out = nemo(&env, &server).args(["chat", "go"]).assert().success();
    assert!(stdout(&out).contains("Making your"), "{}", stdout(&out));
    assert!(stdout(&out).contains("panda video."), "{}", stdout(&out));
    assert!(
        !stdout(&out).contains("No visible change"),
        "{}",
        stdout(&out)
    );
    let out = nemo(&env, &server)
        .args(["chat", "go", "--json"])
        .assert()
        .success();
    let types: Vec<String> = stdout(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(types.contains(&"tool_call".to_string()), "{types:?}");
    assert!(types.contains(&"tool_result".to_string()), "{types:?}");
}

/// Issue 19 #11: one byte that is not UTF-8 was fatal ("not valid UTF-8",
/// a state watch, exit 9); it is read as U+FFFD.
#[test]
fn invalid_utf8_in_the_stream_is_read_as_the_replacement_character() {
    let env = Env::new();
    let server = server(vec![
        state_answer(json!({}), "t"),
        sse(b"data: {\"content\":{\"parts\":[{\"text\":\"caf\xe9 ready\"}]}}\n\n".to_vec()),
    ]);
    let out = nemo(&env, &server).args(["chat", "go"]).assert().success();
    assert_eq!(stdout(&out), "caf\u{fffd} ready\n");
}

/// The printing paths — reply, state, session list and show, errors, and
/// their JSON forms — with server text full of control and bidi
/// characters: nothing of it reaches stdout or stderr raw.
#[test]
fn server_text_is_sanitised_on_every_printing_path() {
    let env = Env::new();
    let title = format!("T{NASTY}");
    let draft = json!({"t":[{"tt":7,"sg":[{"d":3000,"m":{"text":title}}]}]});
    let reply = json!({"content":{"parts":[{"text":format!("R{NASTY}")}]}});
    let server = server(vec![
        state_answer(draft, &format!("N{NASTY}")),
        sse(format!("data: {reply}\n\n").into_bytes()),
        answer(
            "GET /api/render/proxy/lambda/render_1",
            json!({"success":true,"data":{"id":"render_1","status":"failed","progress":40,
                "error":format!("E{NASTY}")}}),
        ),
        answer(
            "POST /api/render/proxy/lambda/render_1/cancel",
            json!({"success":false,"error":format!("C{NASTY}")}),
        ),
        Box::new(|line, socket| {
            line.starts_with("GET /api/credits/")
                && {
                    let body = json!({"code":7777,"message":format!("M{NASTY}")}).to_string();
                    let _ = write!(
                        socket,
                        "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    true
                }
        }),
    ]);
    for args in [
        &["chat", "go"][..],
        &["chat", "go", "--json"],
        &["state"],
        &["state", "--json"],
        &["state", "--draft"],
        &["session", "use", "s1"],
        &["session", "list"],
        &["session", "list", "--json"],
        &["session", "show"],
        &["credits"],
        &["credits", "--json"],
        &["state", "--jq", ".draft.t[0].sg[0].m.text"],
        &["export", "resume", "render_1"],
        &["export", "resume", "render_1", "--json"],
        &["export", "cancel", "render_1"],
        &["export", "list"],
        &["export", "list", "--json"],
    ] {
        let out = nemo(&env, &server).args(args).assert();
        assert_clean(&out, &args.join(" "));
    }
    // The text around the sequences is all there.
    let out = nemo(&env, &server).arg("state").assert().success();
    assert!(stdout(&out).contains("TABCDEF"), "{}", stdout(&out));
    let out = nemo(&env, &server).args(["chat", "go"]).assert().success();
    assert_eq!(stdout(&out), "RABCDEF\n");
    let out = nemo(&env, &server)
        .args(["export", "resume", "render_1"])
        .assert();
    assert!(stderr(&out).contains("EABCDEF"), "{}", stderr(&out));
}

/// Issue 19 #20: a draft in Draft Protocol V3 markup made `export` exit 7
/// ("the draft is empty") without submitting; it is submitted as it is.
#[test]
fn a_markup_draft_is_exported_as_it_is() {
    let env = Env::new();
    let markup = r#"<draft fps="30" width="1920" height="1080" duration="10000"><track type="video"><clip src="a.mp4" start="0" duration="10000"/></track></draft>"#;
    let markup_server = server(vec![
        state_answer(json!(markup), "t"),
        answer(
            "POST /api/render/proxy/lambda",
            json!({"success":true,"data":{"status":"pending","progress":0}}),
        ),
    ]);
    let work = env.tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let out = nemo(&env, &markup_server)
        .current_dir(&work)
        .args(["export", "--no-wait"])
        .assert()
        .success();
    assert!(stdout(&out).starts_with("render_"), "{}", stdout(&out));
    assert_eq!(count(&markup_server, "POST /api/render/proxy/lambda"), 1);
    // An empty draft nemo reads is still refused before anything is sent.
    let empty = server(vec![state_answer(json!({"t": []}), "t")]);
    nemo(&env, &empty)
        .current_dir(&work)
        .args(["export", "--no-wait"])
        .assert()
        .code(7);
    assert_eq!(count(&empty, "POST /api/render/"), 0);
}

/// The same over generated server text: a few dozen strings of escape
/// material, controls, bidi controls and any other characters, through
/// the reply, the state summary, the session list and an error.
#[test]
fn generated_server_text_never_reaches_the_terminal_raw() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use std::sync::Mutex;

    let text = Arc::new(Mutex::new(String::new()));
    let said = text.clone();
    let server = RawServer::start(move |line, socket| {
        let text = said.lock().expect("the text").clone();
        if line.starts_with("GET /api/state/") {
            let draft = json!({"t":[{"tt":0,"sg":[{"d":1000,"m":{"name":text}}]}]});
            let body = json!({"code":0,"data":{"session_id":"s1","task_id":"t1",
                "task_name":text,"state":{"draft":draft}}});
            json_answer(socket, &body.to_string());
        } else if line.starts_with("POST /run_sse") {
            let event = json!({"content":{"parts":[{"text":text}]}});
            let _ = sse_head(socket).and_then(|()| write!(socket, "data: {event}\n\n"));
        } else {
            let body = json!({"code":7777,"message":text}).to_string();
            let _ = write!(
                socket,
                "HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let env = Env::new();
    let piece = prop_oneof![
        Just("\u{1b}[".to_string()),
        Just("\u{1b}]".to_string()),
        Just("\u{1b}P".to_string()),
        Just("\u{1b}\\".to_string()),
        Just("\u{7}".to_string()),
        "[\u{80}-\u{9f}]",
        "[\u{202a}-\u{202e}\u{2066}-\u{2069}]",
        "[\\x00-\\x1f\\x7f]",
        "[a-z0-9;]{1,4}",
        any::<String>(),
    ];
    let strings = prop::collection::vec(piece, 1..8).prop_map(|v| v.concat());
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strings, |s| {
            *text.lock().expect("the text") = s;
            for args in [
                &["chat", "go"][..],
                &["state"],
                &["session", "use", "s1"],
                &["session", "list"],
                &["credits"],
            ] {
                let out = nemo(&env, &server).args(args).output().expect("nemo runs");
                for stream in [&out.stdout, &out.stderr] {
                    let printed = String::from_utf8_lossy(stream);
                    let bad = unsafe_chars(&printed);
                    prop_assert!(bad.is_empty(), "{args:?}: {bad:?} in {printed:?}");
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
}
