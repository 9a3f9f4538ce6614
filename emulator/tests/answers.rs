//! The emulator's real answers, over HTTP on loopback, against the golden
//! answers of `tests/fixtures/api/` (copied from `api.md`'s examples): the
//! same keys, recursively, with values of the same JSON type (the rules are
//! in `tests/fixtures/api/README.md`). The client's readers are checked
//! against the same files, so the two cannot agree on a wrong shape by
//! accident.

mod common;

use std::time::Duration;

use common::exchange;
use nemo_emulator::{BackgroundEmulator, EmuState};
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:literal) => {
        serde_json::from_str::<Value>(include_str!(concat!("../../tests/fixtures/api/", $name)))
            .expect(concat!($name, " is JSON"))
    };
}

/// Where `answer` differs in shape from `fixture`, as `path: reason` lines.
fn shape_diff(fixture: &Value, answer: &Value, extra_ok: bool, path: &str, out: &mut Vec<String>) {
    match (fixture, answer) {
        (Value::Object(want), Value::Object(got)) => {
            if want.is_empty() {
                return;
            }
            for (key, value) in want {
                match got.get(key).filter(|v| !v.is_null()) {
                    Some(found) => {
                        shape_diff(value, found, extra_ok, &format!("{path}.{key}"), out)
                    }
                    None if value.is_null() => {}
                    None => out.push(format!("{path}.{key}: missing")),
                }
            }
            if !extra_ok {
                for (key, value) in got {
                    if !want.contains_key(key) && !value.is_null() {
                        out.push(format!("{path}.{key}: not in the fixture"));
                    }
                }
            }
        }
        (Value::Array(want), Value::Array(got)) => {
            if let Some(first) = want.first() {
                for (i, item) in got.iter().enumerate() {
                    shape_diff(first, item, extra_ok, &format!("{path}[{i}]"), out);
                }
            }
        }
        (Value::Number(_), Value::Number(_))
        | (Value::String(_), Value::String(_))
        | (Value::Bool(_), Value::Bool(_))
        | (Value::Null, Value::Null) => {}
        (want, got) => out.push(format!("{path}: {got} where the fixture has {want}")),
    }
}

#[track_caller]
fn assert_shape(fixture: &Value, answer: &Value, extra_ok: bool) {
    let mut diffs = Vec::new();
    shape_diff(fixture, answer, extra_ok, "$", &mut diffs);
    assert!(diffs.is_empty(), "{}\nanswer: {answer}", diffs.join("\n"));
}

#[test]
fn the_shape_check_can_fail() {
    let fixture = json!({"a": 1, "b": {"c": "x"}, "l": [{"n": 1}], "open": {}});
    let mut diffs = Vec::new();
    let answer = json!({"a": "1", "b": {"c": "x", "d": 2}, "l": [{"n": 1}, {}], "open": {"z": 1}, "e": null});
    shape_diff(&fixture, &answer, false, "$", &mut diffs);
    assert_eq!(
        diffs,
        [
            "$.a: \"1\" where the fixture has 1",
            "$.b.d: not in the fixture",
            "$.l[1].n: missing"
        ]
    );
}

/// One exchange: the status and the body (de-chunked).
fn http(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let answer = exchange(base, method, path, headers, body);
    (answer.status, answer.text())
}

fn json_of(answer: (u16, String)) -> Value {
    serde_json::from_str(&answer.1).unwrap_or_else(|e| panic!("{e}: {}", answer.1))
}

const ATTRIBUTION: [(&str, &str); 3] = [
    ("X-Skill-Source", "nemo-tests"),
    ("X-Skill-Version", "0.1.0"),
    ("X-Skill-Platform", "unknown"),
];

struct Api {
    emu: BackgroundEmulator,
    bearer: String,
}

impl Api {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let mut headers = vec![("Authorization", self.bearer.as_str())];
        headers.extend(ATTRIBUTION);
        json_of(http(&self.emu.api_url, method, path, &headers, body))
    }

    fn wait_for(&self, id: &str, status: &str) -> Value {
        for _ in 0..200 {
            let answer = self.call("GET", &format!("/api/render/proxy/lambda/{id}"), None);
            let data = answer.get("data").unwrap_or(&answer);
            if data["status"] == status {
                return answer;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("render {id} never became {status}");
    }
}

/// A token (checked against its fixture) and a session.
fn start() -> (Api, String) {
    let emu = BackgroundEmulator::start(EmuState::default()).expect("start the emulator");
    let token = json_of(http(
        &emu.api_url,
        "POST",
        "/api/auth/anonymous-token",
        &[("X-Client-Id", "6f1c2d4e-0000-4000-8000-000000000001")],
        None,
    ));
    assert_shape(&fixture!("anonymous_token.json"), &token, false);
    let bearer = format!(
        "Bearer {}",
        token["data"]["token"].as_str().unwrap_or_default()
    );
    let api = Api { emu, bearer };
    let session = api.call(
        "POST",
        "/api/tasks/me/with-session/nemo_agent",
        Some(&json!({"task_name": "project", "language": "en"})),
    );
    assert_shape(&fixture!("session_create.json"), &session, false);
    let sid = session["data"]["session_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (api, sid)
}

#[test]
fn account_and_session_answers() {
    let (api, sid) = start();
    let task = api.call(
        "GET",
        &format!("/api/state/nemo_agent/me/{sid}/latest"),
        None,
    );
    assert_shape(&fixture!("state.json"), &task, false);
    let task_id = task["data"]["task_id"].clone();
    let claim = api.call(
        "POST",
        "/api/auth/claim-token",
        Some(&json!({"task_id": task_id, "session_id": sid})),
    );
    assert_shape(&fixture!("claim_token.json"), &claim, false);
    let credits = api.call("GET", "/api/credits/balance/simple", None);
    assert_shape(&fixture!("credits.json"), &credits, false);
    let upload = api.call(
        "POST",
        &format!("/api/upload-video/nemo_agent/me/{sid}"),
        Some(&json!({"urls": ["https://media.example/video.mp4"], "source_type": "url"})),
    );
    assert_shape(&fixture!("upload.json"), &upload, false);
}

#[test]
fn render_answers_in_both_shapes() {
    let (api, sid) = start();
    api.emu.with_state(|s| s.faults.render.render_ms = 50);
    let draft = json!({"t": [{"tt": 0, "sg": [{"d": 1000, "m": {"name": "x"}}]}], "d": 1000});
    let submit = |id: &str| {
        api.call(
            "POST",
            "/api/render/proxy/lambda",
            Some(&json!({"id": id, "sessionId": sid, "draft": draft,
                "output": {"format": "mp4", "quality": "high"}})),
        )
    };
    assert_shape(&fixture!("render_submit.json"), &submit("render_1"), false);
    let done = api.wait_for("render_1", "completed");
    assert_shape(&fixture!("render_status_data.json"), &done, false);
    api.emu
        .with_state(|s| s.faults.render.render_status_flat = true);
    let flat = api.wait_for("render_1", "completed");
    assert_shape(&fixture!("render_status_flat.json"), &flat, false);
    api.emu.with_state(|s| {
        s.faults.render.render_status_flat = false;
        s.faults.render.render_fail = true;
    });
    submit("render_2");
    let failed = api.wait_for("render_2", "failed");
    assert_shape(&fixture!("render_failed.json"), &failed, false);
}

#[test]
fn error_answers() {
    let (api, _sid) = start();
    let lost = api.call("GET", "/api/state/nemo_agent/me/1/latest", None);
    assert_shape(&fixture!("error_code.json"), &lost, false);
    assert_eq!(lost["code"], 1002);
    let render = api.call("GET", "/api/render/proxy/lambda/render_9", None);
    assert_shape(&fixture!("error_render.json"), &render, false);
    assert_eq!(render["success"], false);
    api.emu
        .with_state(|s| s.faults.session_not_found_as_404 = true);
    let mut headers = vec![("Authorization", api.bearer.as_str())];
    headers.extend(ATTRIBUTION);
    let (status, body) = http(
        &api.emu.api_url,
        "GET",
        "/api/state/nemo_agent/me/1/latest",
        &headers,
        None,
    );
    assert_eq!(status, 404);
    assert_shape(
        &fixture!("error_detail.json"),
        &json_of((status, body)),
        false,
    );
}

#[test]
fn every_sse_event_has_the_adk_shape() {
    let (api, sid) = start();
    api.emu.with_state(|s| s.faults.chat.chat_pace_ms = 1);
    let mut headers = vec![
        ("Authorization", api.bearer.as_str()),
        ("Accept", "text/event-stream"),
    ];
    headers.extend(ATTRIBUTION);
    let body = json!({"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
        "new_message": {"role": "user", "parts": [{"text": "hello"}]}});
    let (status, stream) = http(&api.emu.api_url, "POST", "/run_sse", &headers, Some(&body));
    assert_eq!(status, 200);
    let events: Vec<Value> = stream
        .split("\n\n")
        .filter(|block| !block.is_empty())
        .map(|block| {
            let data = block
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data line: {block:?}"));
            serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"))
        })
        .collect();
    assert!(events.len() >= 2, "{stream}");
    for event in &events {
        assert_shape(&fixture!("sse_event.json"), event, true);
    }
}
