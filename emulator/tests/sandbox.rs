//! The scripted agent, the faults scenarios and the link pages over HTTP
//! on loopback: what a message does to credits and to the
//! session's draft, in English and Chinese; scenario steps; the pages the
//! claim and registration links lead to.

mod common;

use common::as_client;
use nemo_emulator::{BackgroundEmulator, EmuState};
use serde_json::{Value, json};

/// One exchange as a client with an id and the attribution headers:
/// status, head and the raw body (a dropped stream ends early; what
/// arrived is returned).
fn http(
    base: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> (u16, String, String) {
    let answer = as_client(
        base,
        method,
        path,
        "6f1c2d4e-0000-4000-8000-00000000000a",
        bearer,
        body,
    );
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    (answer.status, answer.head, body)
}

struct Sandbox {
    emu: BackgroundEmulator,
    token: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let emu = BackgroundEmulator::start(EmuState::default()).expect("start the emulator");
        emu.with_state(|s| {
            s.faults.chat.chat_pace_ms = 1;
            s.faults.chat.chat_tool_ms = 20;
            s.faults.chat.chat_keepalive_ms = 10;
            s.faults.render.render_ms = 0;
        });
        let (_, _, body) = http(
            &emu.api_url,
            "POST",
            "/api/auth/anonymous-token",
            None,
            None,
        );
        let answer: Value = serde_json::from_str(&body).expect("JSON");
        let token = answer["data"]["token"]
            .as_str()
            .expect("a token")
            .to_string();
        Sandbox { emu, token }
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (_, _, text) = http(&self.emu.api_url, method, path, Some(&self.token), body);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    fn session(&self, language: &str) -> String {
        let answer = self.call(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            Some(&json!({"task_name": "beach", "language": language})),
        );
        answer["data"]["session_id"]
            .as_str()
            .expect("a session")
            .to_string()
    }

    /// Sends a message; the SSE body (or the JSON error answer).
    fn chat(&self, sid: &str, message: &str) -> String {
        let body = json!({"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
            "new_message": {"role": "user", "parts": [{"text": message}]}});
        http(
            &self.emu.api_url,
            "POST",
            "/run_sse",
            Some(&self.token),
            Some(&body),
        )
        .2
    }

    fn credits(&self) -> i64 {
        self.call("GET", "/api/credits/balance/simple", None)["data"]["available"]
            .as_i64()
            .expect("credits")
    }

    fn draft(&self, sid: &str) -> Value {
        let answer = self.call(
            "GET",
            &format!("/api/state/nemo_agent/me/{sid}/latest"),
            None,
        );
        answer["data"]["state"]["draft"].clone()
    }

    fn track(&self, sid: &str, tt: i64) -> Option<Value> {
        let draft = self.draft(sid);
        draft["t"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["tt"] == tt).cloned())
    }

    fn set_credits(&self, n: i64) {
        self.emu.with_state(|s| {
            for user in s.users.values_mut() {
                user.available = n;
            }
        });
    }
}

/// The whole text of a reply: the final (non-partial) model text events.
fn reply_text(sse: &str) -> String {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|e| e["partial"] != true && e["content"]["role"] == "model")
        .flat_map(|e| {
            e["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str().map(str::to_string))
        .collect()
}

fn failed(sse: &str) -> bool {
    sse.contains("\"errorCode\"") || sse.contains("data: {\"error\"")
}

#[test]
fn make_the_music_quieter_never_generates_nor_spends_a_generation() {
    let sb = Sandbox::new();
    let sid = sb.session("en");
    // No video yet: nothing to edit, for free.
    let reply = sb.chat(&sid, "make the music quieter");
    assert!(reply_text(&reply).contains("nothing to edit"), "{reply}");
    assert_eq!(sb.credits(), 100);
    assert!(sb.track(&sid, 0).is_none());
    // A generation costs 100 and does not crash on "crashing".
    let reply = sb.chat(&sid, "generate a video of waves crashing on rocks");
    assert!(!failed(&reply), "{reply}");
    assert_eq!(sb.credits(), 0);
    let video = sb.track(&sid, 0).expect("a video track");
    assert_eq!(video["sg"][0]["m"]["name"], "waves crashing on rocks");
    // An edit costs 50: none left, 2001 before the run.
    let answer: Value =
        serde_json::from_str(&sb.chat(&sid, "make the music quieter")).expect("JSON");
    assert_eq!(answer["code"], 2001);
    sb.set_credits(80);
    let reply = sb.chat(&sid, "make the music quieter");
    assert_eq!(reply_text(&reply), "I turned the music down to 20%.");
    assert_eq!(sb.credits(), 30);
    let bgm = sb.track(&sid, 1).expect("a BGM track");
    assert_eq!(bgm["sg"][0]["m"]["volume"], 0.2);
    // Questions and plain answers are free.
    sb.chat(&sid, "what can you do?");
    sb.chat(&sid, "fix the typo in the title");
    assert_eq!(sb.credits(), 30);
}

#[test]
fn a_terror_movie_generates_and_the_title_can_be_removed() {
    let sb = Sandbox::new();
    sb.set_credits(1000);
    let sid = sb.session("en");
    let reply = sb.chat(
        &sid,
        "generate a 6-second terror movie about a haunted lighthouse",
    );
    assert!(!failed(&reply), "{reply}");
    assert!(
        reply_text(&reply).contains("a 6-second clip of a haunted lighthouse"),
        "{reply}"
    );
    assert_eq!(sb.draft(&sid)["d"], 6000);
    let title = sb.track(&sid, 7).expect("a title");
    assert_eq!(title["sg"][0]["m"]["text"], "Haunted Lighthouse");
    let reply = sb.chat(&sid, "fix the typo in the title");
    assert!(reply_text(&reply).starts_with("Which text"), "{reply}");
    assert!(sb.track(&sid, 7).is_some());
    let reply = sb.chat(&sid, "remove the title");
    assert_eq!(reply_text(&reply), "I removed the title.");
    assert!(sb.track(&sid, 7).is_none(), "{}", sb.draft(&sid));
    sb.chat(&sid, "trim the first 2 seconds");
    assert_eq!(sb.draft(&sid)["d"], 4000);
    sb.chat(&sid, "make it 8 seconds");
    assert_eq!(sb.draft(&sid)["d"], 8000);
    assert_eq!(sb.credits(), 1000 - 100 - 3 * 50);
}

#[test]
fn a_chinese_request_gets_a_chinese_reply_with_a_proper_subject() {
    let sb = Sandbox::new();
    sb.set_credits(1000);
    let sid = sb.session("en");
    let reply = sb.chat(&sid, "生成一个10秒的熊猫视频");
    assert_eq!(
        reply_text(&reply),
        "好的，我来生成一段10秒的视频：熊猫……视频做好了：一段10秒的视频（熊猫），配上了轻音乐和标题「熊猫」。"
    );
    assert_eq!(
        sb.track(&sid, 0).expect("video")["sg"][0]["m"]["name"],
        "熊猫"
    );
    // A zh-CN session answers in Chinese whatever the request's language.
    let zh = sb.session("zh-CN");
    let reply = sb.chat(&zh, "what can you do?");
    assert!(reply_text(&reply).starts_with("我可以"), "{reply}");
    sb.chat(&zh, "generate a video of a cat");
    let reply = sb.chat(&zh, "把音乐调小一点");
    assert_eq!(reply_text(&reply), "已把背景音乐调低到20%。");
}

#[test]
fn markers_switch_failures_and_scenarios_count_from_their_start() {
    let sb = Sandbox::new();
    sb.set_credits(1000);
    let sid = sb.session("en");
    assert!(failed(&sb.chat(&sid, "hello [[sandbox:crash]]")));
    assert!(failed(&sb.chat(&sid, "[[sandbox:quota]]")));
    assert_eq!(sb.credits(), 1000);
    // The second message since the scenario started drops its stream.
    sb.emu
        .with_state(|s| s.use_scenario(Some(&json!({"chat_drop_on": [2], "render_fail_on": [2]}))))
        .expect("a scenario");
    let whole = sb.chat(&sid, "hello");
    assert!(
        whole.contains("\r\n0\r\n\r\n"),
        "the stream ends properly: {whole}"
    );
    assert_eq!(
        reply_text(&whole),
        "Hi! I'm NemoVideo's agent. Tell me what video to make — for example \"a panda in a bamboo forest\"."
    );
    let dropped = sb.chat(&sid, "hello");
    assert!(
        !dropped.contains("\r\n0\r\n\r\n"),
        "the stream is cut: {dropped}"
    );
    assert_eq!(reply_text(&dropped), "");
    // Renders: the second one fails.
    sb.chat(&sid, "generate a video of a fox");
    let draft = sb.draft(&sid);
    let mut statuses = Vec::new();
    for n in 1..=3 {
        let id = format!("render_{n}");
        let body = json!({"id": id, "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "high"}});
        let submitted = sb.call("POST", "/api/render/proxy/lambda", Some(&body));
        assert_eq!(submitted["success"], true, "{submitted}");
        let status = sb.call("GET", &format!("/api/render/proxy/lambda/{id}"), None);
        statuses.push(status["data"]["status"].as_str().unwrap_or("").to_string());
    }
    assert_eq!(statuses, ["completed", "failed", "completed"]);
}

#[test]
fn the_link_pages_name_the_project_and_the_user() {
    let sb = Sandbox::new();
    let sid = sb.session("en");
    let user = sb
        .emu
        .with_state(|s| s.users.keys().next().cloned())
        .expect("a user");
    let task = sb.emu.with_state(|s| s.sessions[&sid].task_id.clone());
    let claim = sb.call(
        "POST",
        "/api/auth/claim-token",
        Some(&json!({"task_id": task, "session_id": sid})),
    );
    let ct = claim["data"]["claim_token"]
        .as_str()
        .expect("a claim token");
    let (status, head, body) = http(
        &sb.emu.api_url,
        "GET",
        &format!("/workspace/claim?ct={ct}"),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert!(
        head.to_lowercase().contains("content-type: text/html"),
        "{head}"
    );
    assert!(body.contains("<strong>beach</strong>"), "{body}");
    assert!(body.contains(&sid), "{body}");
    let (status, head, body) = http(
        &sb.emu.api_url,
        "GET",
        &format!("/?bind={user}"),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert!(
        head.to_lowercase().contains("content-type: text/html"),
        "{head}"
    );
    assert!(
        body.contains(&user) && body.contains("100 credits"),
        "{body}"
    );
    let (status, _, _) = http(
        &sb.emu.api_url,
        "GET",
        "/workspace/claim?ct=clm_nope",
        None,
        None,
    );
    assert_eq!(status, 404);
}
