//! `nemo mcp` driven by a real MCP client (rmcp's, over the child's
//! stdin/stdout) against the emulator: the handshake (initialize and
//! server/discover), the tool list and schemas, every tool's document
//! against its command's `--json`, progress, cancellation then
//! `export_resume`, failures that leave the server serving; and once with
//! raw pipes, that stdout holds only JSON-RPC and stdin's end is exit 0.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientRequest,
    ProgressNotificationParam, ProtocolVersion,
};
use rmcp::service::{
    ClientLifecycleMode, ClientServiceExt, NotificationContext, PeerRequestOptions, RoleClient,
    RunningService,
};
use rmcp::transport::TokioChildProcess;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::common::{Env, clip_draft, json as json_of};
use crate::generate::set_credits;

/// The client: passes each progress notification on to the test.
struct Client {
    progress: mpsc::UnboundedSender<ProgressNotificationParam>,
}

impl ClientHandler for Client {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.progress.send(params);
    }
}

type Connection = RunningService<RoleClient, Client>;

/// How long a test waits for any one answer or note.
const WAIT: Duration = Duration::from_secs(60);

/// `nemo [global…] mcp` for this test's emulator, connected through `lifecycle`.
async fn connect_with(
    env: &Env,
    global: &[&str],
    lifecycle: ClientLifecycleMode,
) -> (
    Connection,
    mpsc::UnboundedReceiver<ProgressNotificationParam>,
) {
    let mut command = env.nemo_process();
    command.args(global).arg("mcp").current_dir(env.tmp.path());
    let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(command))
        .stderr(Stdio::null())
        .spawn()
        .expect("start nemo mcp");
    let (progress, notes) = mpsc::unbounded_channel();
    let client = tokio::time::timeout(
        WAIT,
        Client { progress }.serve_with_lifecycle(transport, lifecycle),
    )
    .await
    .expect("the handshake in time")
    .expect("the handshake");
    (client, notes)
}

async fn connect(
    env: &Env,
) -> (
    Connection,
    mpsc::UnboundedReceiver<ProgressNotificationParam>,
) {
    connect_with(env, &[], ClientLifecycleMode::Initialize).await
}

fn arguments(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("arguments are an object"),
    }
}

/// Calls `tool`; its result, in time.
async fn call(client: &Connection, tool: &'static str, args: Value) -> CallToolResult {
    let params = CallToolRequestParams::new(tool).with_arguments(arguments(args));
    tokio::time::timeout(WAIT, client.call_tool(params))
        .await
        .expect("the tool answers in time")
        .expect("a tool result, not a protocol error")
}

/// The structured content of a successful call.
async fn document(client: &Connection, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_ne!(result.is_error, Some(true), "{tool} failed: {result:?}");
    let document = result
        .structured_content
        .clone()
        .expect("structured content");
    // The same JSON as text, for hosts that show only text.
    let text = result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), document);
    document
}

/// The error document of a failed call, checked for its shape.
async fn failure(client: &Connection, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args).await;
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} should fail: {result:?}"
    );
    let document = result
        .structured_content
        .clone()
        .expect("structured content");
    let text = result.content[0]
        .as_text()
        .expect("a text block")
        .text
        .clone();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), document);
    for field in ["kind", "message", "exit_code"] {
        assert!(document["error"].get(field).is_some(), "{document}");
    }
    document
}

/// Waits for a progress note whose message contains `part`; the notes seen.
async fn note_containing(
    notes: &mut mpsc::UnboundedReceiver<ProgressNotificationParam>,
    part: &str,
) -> Vec<ProgressNotificationParam> {
    let mut seen = Vec::new();
    loop {
        let note = tokio::time::timeout(WAIT, notes.recv())
            .await
            .unwrap_or_else(|_| panic!("no progress note with {part:?}; seen {seen:?}"))
            .expect("the client is there");
        let found = note.message.as_deref().is_some_and(|m| m.contains(part));
        seen.push(note);
        if found {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_names_nemo_and_lists_every_tool_with_its_schema() {
    let env = Env::new();
    let (client, _) = connect(&env).await;
    let info = client.peer_info().expect("the server's info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    let server = info.server_info.clone().expect("server info");
    assert_eq!(server.name, "nemo");
    assert_eq!(server.version, env!("CARGO_PKG_VERSION"));
    assert!(info.capabilities.tools.is_some());

    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(
        names,
        [
            "credits",
            "session_new",
            "chat",
            "upload",
            "state",
            "export",
            "export_resume",
            "generate"
        ]
    );
    let required = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        assert_eq!(tool.input_schema["type"], "object", "{name}");
        assert!(
            tool.description.as_ref().is_some_and(|d| d.len() > 80),
            "{name}"
        );
        tool.input_schema
            .get("required")
            .cloned()
            .unwrap_or(json!([]))
    };
    assert_eq!(required("credits"), json!([]));
    assert_eq!(required("chat"), json!(["message"]));
    assert_eq!(required("upload"), json!(["paths_or_urls"]));
    assert_eq!(required("export"), json!(["output"]));
    assert_eq!(required("generate"), json!(["prompt", "output"]));
    assert_eq!(required("export_resume"), json!([]));
    // Reading tools say so, for hosts that run those without asking.
    let read_only = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        tool.annotations.as_ref().and_then(|a| a.read_only_hint)
    };
    assert_eq!(read_only("credits"), Some(true));
    assert_eq!(read_only("state"), Some(true));
    assert_eq!(read_only("chat"), Some(false));
    // What to call next is in the descriptions.
    let described = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .description
            .clone()
            .unwrap()
    };
    assert!(described("export").contains("export_resume"));
    assert!(described("export").contains("project_url"));
    assert!(described("chat").contains("NEVER send the message again"));
    assert!(described("generate").contains("100 credits"));
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_discover_is_answered_and_its_session_serves_tools() {
    let env = Env::new();
    let lifecycle = ClientLifecycleMode::Discover {
        preferred_versions: vec![ProtocolVersion::LATEST],
    };
    let (client, _) = connect_with(&env, &[], lifecycle).await;
    let info = client.peer_info().expect("the discovery result");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("nemo")
    );
    assert_eq!(client.list_all_tools().await.expect("tools/list").len(), 8);
    let credits = document(&client, "credits", json!({})).await;
    assert_eq!(credits["available"], 100);
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_answers_with_its_commands_json_document() {
    let env = Env::fast();
    env.emu.with_state(|s| s.faults.render.render_ms = 100);
    let (client, mut notes) = connect(&env).await;

    // credits: the document `nemo credits --json` prints.
    let credits = document(&client, "credits", json!({})).await;
    assert_eq!(
        credits,
        json_of(&env.nemo().args(["credits", "--json"]).assert().success())
    );

    // session_new: {"session_id","task_id"}, and it is the current session.
    let session = document(&client, "session_new", json!({"name": "mcp"})).await;
    let sid = session["session_id"]
        .as_str()
        .expect("a session id")
        .to_string();
    assert!(session["task_id"].is_string(), "{session}");
    assert_eq!(env.config()["current_session"], sid.as_str());

    // chat: one object, with the reply streamed as progress notes.
    let chat = document(
        &client,
        "chat",
        json!({"message": "generate a 5-second video of waves on a beach"}),
    )
    .await;
    assert_eq!(chat["session_id"], sid.as_str());
    assert_eq!(chat["dropped"], false);
    assert_eq!(chat["silent"], false);
    let reply = chat["reply"].as_str().expect("reply text");
    assert!(!reply.is_empty());
    assert!(
        !chat["changes"].as_array().expect("changes").is_empty(),
        "{chat}"
    );
    // The client may hand notifications over in another order than they
    // came: their progress numbers give the order.
    let mut seen = Vec::new();
    while let Ok(note) = notes.try_recv() {
        seen.push((note.progress, note.message.unwrap_or_default()));
    }
    seen.sort_by(|a, b| a.0.total_cmp(&b.0));
    let streamed: String = seen.into_iter().map(|(_, message)| message).collect();
    assert!(streamed.contains(reply.trim()), "{streamed:?} vs {reply:?}");

    // state: the document `nemo state --json` prints.
    let state = document(&client, "state", json!({"session_id": sid})).await;
    assert_eq!(
        state,
        json_of(&env.nemo().args(["state", "--json"]).assert().success())
    );

    // upload: {"files":[…]}.
    let clip = env.tmp.path().join("intro.mp4");
    std::fs::write(&clip, b"\0\0\0\x18ftypmp42").unwrap();
    let uploaded = document(
        &client,
        "upload",
        json!({"paths_or_urls": [clip.to_str().unwrap()], "session_id": sid}),
    )
    .await;
    assert_eq!(
        uploaded["files"].as_array().map(Vec::len),
        Some(1),
        "{uploaded}"
    );

    // export: the file, and the claim link.
    let out = env.tmp.path().join("waves.mp4");
    let export = document(&client, "export", json!({"output": out, "session_id": sid})).await;
    assert_eq!(export["status"], "completed");
    assert_eq!(export["path"], out.to_str().unwrap());
    assert_eq!(
        std::fs::metadata(&out).unwrap().len(),
        export["bytes"].as_u64().unwrap()
    );
    assert!(
        export["project_url"]
            .as_str()
            .is_some_and(|u| u.contains("claim")),
        "{export}"
    );

    // export_resume: the latest render again, to another file.
    let again = env.tmp.path().join("again.mp4");
    let resumed = document(&client, "export_resume", json!({"output": again})).await;
    assert_eq!(resumed["render_id"], export["render_id"]);
    assert!(again.exists());

    // generate: the plan, then the job, in a session of its own.
    set_credits(&env, 1000);
    let target = env.tmp.path().join("panda.mp4");
    let plan = document(
        &client,
        "generate",
        json!({"prompt": "a panda in a bamboo forest", "output": target, "dry_run": true}),
    )
    .await;
    assert_eq!(plan["dry_run"], true);
    assert!(!target.exists());
    let generated = document(
        &client,
        "generate",
        json!({"prompt": "a 5-second video of a panda in a bamboo forest", "output": target}),
    )
    .await;
    assert_ne!(generated["session_id"], sid.as_str(), "{generated}");
    assert_eq!(
        std::fs::metadata(&target).unwrap().len(),
        generated["bytes"].as_u64().unwrap()
    );
    // The current session is the one session_new made.
    assert_eq!(env.config()["current_session"], sid.as_str());
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_tool_is_an_error_result_and_the_server_keeps_serving() {
    let env = Env::new();
    let (client, _) = connect(&env).await;

    // Arguments that break the schema: exit code 2's document.
    let bad = failure(&client, "chat", json!({"msg": "hello"})).await;
    assert_eq!(bad["error"]["kind"], "usage");
    assert_eq!(bad["error"]["exit_code"], 2);
    let bad = failure(&client, "export", json!({})).await;
    assert_eq!(bad["error"]["exit_code"], 2);
    let bad = failure(&client, "state", json!({"session_id": "no such id!"})).await;
    assert_eq!(bad["error"]["exit_code"], 2);

    // A command's own failure: nothing to upload (exit 7), no render (exit 7).
    let missing = env.tmp.path().join("missing.mp4");
    let refused = failure(&client, "upload", json!({"paths_or_urls": [missing]})).await;
    assert_eq!(refused["error"]["exit_code"], 7, "{refused}");
    let none = failure(&client, "export_resume", json!({})).await;
    assert_eq!(none["error"]["exit_code"], 7, "{none}");

    // Too few credits for a generation: exit 4, nothing sent.
    env.emu.with_state(|s| s.faults.no_credits = true);
    let poor = failure(
        &client,
        "generate",
        json!({"prompt": "a panda", "output": env.tmp.path().join("p.mp4")}),
    )
    .await;
    assert_eq!(poor["error"]["exit_code"], 4, "{poor}");
    assert!(
        env.requests_to("/run_sse").is_empty(),
        "the prompt was not sent"
    );
    env.emu.with_state(|s| s.faults.no_credits = false);

    // An unknown tool is protocol misuse: a JSON-RPC error.
    let params = CallToolRequestParams::new("no_such_tool").with_arguments(Map::new());
    let err = client
        .call_tool(params)
        .await
        .expect_err("a protocol error");
    assert!(err.to_string().contains("no_such_tool"), "{err}");

    // Still serving.
    let credits = document(&client, "credits", json!({})).await;
    assert!(credits["available"].is_number());
    client.cancel().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_export_stops_and_export_resume_finishes_its_render() {
    let env = Env::new();
    let sid = env.session();
    env.set_draft(&sid, clip_draft());
    env.emu.with_state(|s| s.faults.render.render_ms = 4_000);
    let (client, mut notes) = connect(&env).await;
    let out = env.tmp.path().join("late.mp4");

    let params =
        CallToolRequestParams::new("export").with_arguments(arguments(json!({"output": out})));
    let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
    let handle = client
        .send_cancellable_request(request, PeerRequestOptions::no_options())
        .await
        .expect("sent");
    let seen = note_containing(&mut notes, "Submitted render").await;
    assert!(
        seen.windows(2).all(|w| w[0].progress < w[1].progress),
        "{seen:?}"
    );
    handle
        .cancel(Some("the user stopped it".into()))
        .await
        .expect("cancelled");

    // The render was recorded before it was submitted, and no file was made.
    let recorded = env.config()["renders"][0].clone();
    assert!(recorded["render_id"].is_string(), "{recorded}");
    assert!(!out.exists());

    // The server still serves, and export_resume finishes that render.
    let resumed = document(&client, "export_resume", json!({})).await;
    assert_eq!(resumed["render_id"], recorded["render_id"]);
    assert_eq!(resumed["status"], "completed");
    assert!(out.exists(), "the recorded output path is used");
    assert_eq!(
        env.config()["renders"].as_array().map(Vec::len),
        Some(1),
        "no second render"
    );
    client.cancel().await.expect("close");
}

/// A line of the server's stdout, parsed; panics on anything but JSON-RPC.
fn rpc(line: &str) -> Value {
    let message: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout holds a line that is not JSON ({e}): {line:?}"));
    assert_eq!(message["jsonrpc"], "2.0", "{line}");
    message
}

#[test]
fn stdout_holds_only_json_rpc_and_the_end_of_stdin_is_exit_0() {
    let env = Env::new();
    // The offline emulator, its agent at test pace.
    let faults = env.tmp.path().join("faults.json");
    std::fs::write(
        &faults,
        r#"{"chat_pace_ms":2,"chat_tool_ms":60,"chat_keepalive_ms":20,"chat_late_ms":100}"#,
    )
    .unwrap();
    let mut child = env
        .nemo_process()
        .env("NEMO_SANDBOX_FAULTS", &faults)
        .args(["--sandbox", "mcp"])
        .current_dir(env.tmp.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nemo --sandbox mcp");
    let watchdog = Watchdog::new(child.id());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut send = move |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    let mut answer = |id: u64| -> (Value, Vec<Value>) {
        let mut others = Vec::new();
        loop {
            let line = lines.next().expect("a line before the answer").unwrap();
            let message = rpc(&line);
            if message["id"] == id {
                return (message, others);
            }
            others.push(message);
        }
    };
    send(
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}),
    );
    let (init, _) = answer(1);
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(init["result"]["serverInfo"]["name"], "nemo");
    send(json!({"jsonrpc":"2.0","method":"notifications/initialized"}));

    // A chat with a progress token: notes, then the result.
    send(
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat",
        "arguments":{"message":"generate a 5-second video of waves on a beach"},
        "_meta":{"progressToken":"chat-1"}}}),
    );
    let (chat, notes) = answer(2);
    assert_eq!(chat["result"]["isError"], false, "{chat}");
    assert!(!notes.is_empty());
    assert!(notes.iter().all(
        |n| n["method"] == "notifications/progress" && n["params"]["progressToken"] == "chat-1"
    ));
    // Without a token, no notes.
    send(
        json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"state","arguments":{}}}),
    );
    let (state, notes) = answer(3);
    assert!(state["result"]["structuredContent"].is_object(), "{state}");
    assert!(notes.is_empty(), "{notes:?}");
    // An unknown method is a JSON-RPC error, and serving goes on.
    send(json!({"jsonrpc":"2.0","id":4,"method":"no/such/method"}));
    let (unknown, _) = answer(4);
    assert!(unknown["error"]["code"].is_i64(), "{unknown}");

    // stdin's end: exit 0, and nothing more on stdout but JSON-RPC.
    drop(send);
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    rest.iter().for_each(|l| {
        rpc(l);
    });
    let status = child.wait().unwrap();
    watchdog.disarm();
    assert_eq!(
        status.code(),
        Some(0),
        "killed by the watchdog: the server did not end"
    );
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Kills a process that is still there after [`WAIT`], so that every read
/// of its pipes and the wait for its exit end in time.
struct Watchdog {
    disarm: std::sync::mpsc::Sender<()>,
}

impl Watchdog {
    fn new(pid: u32) -> Watchdog {
        let (disarm, disarmed) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = disarmed.recv_timeout(WAIT) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
        });
        Watchdog { disarm }
    }

    fn disarm(self) {
        let _ = self.disarm.send(());
    }
}

#[test]
fn sigterm_ends_the_server_with_exit_143_and_keeps_the_sandboxs_state() {
    let env = Env::new();
    let mut child = env
        .nemo_process()
        .args(["--sandbox", "mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nemo --sandbox mcp");
    let watchdog = Watchdog::new(child.id());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut exchange = |message: Value| -> Value {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        match message.get("id") {
            Some(id) => loop {
                let reply = rpc(&lines.next().expect("an answer").unwrap());
                if reply["id"] == *id {
                    return reply;
                }
            },
            None => Value::Null,
        }
    };
    exchange(
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"host","version":"1"}}}),
    );
    exchange(json!({"jsonrpc":"2.0","method":"notifications/initialized"}));
    let made = exchange(
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
        "name":"session_new","arguments":{}}}),
    );
    let sid = made["result"]["structuredContent"]["session_id"]
        .as_str()
        .expect("a session")
        .to_string();

    // A host stopping its server: SIGTERM, with stdin still open.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    watchdog.disarm();
    // Handled as Ctrl-C, as for every command: exit 143, not killed.
    assert_eq!(status.code(), Some(143), "{status:?}");
    // The sandbox saved its state: the session made through MCP is known.
    let state = env
        .nemo()
        .args(["--sandbox", "--session", &sid, "state", "--json"])
        .assert()
        .success();
    assert!(json_of(&state).is_object());
}

#[test]
fn with_almost_no_environment_the_server_uses_the_stored_token() {
    let env = Env::new();
    // A login stored where nemo keeps it by default: under HOME.
    let nemo = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nemo"));
        command
            .env_clear()
            .env("HOME", env.home())
            .args(["--api-url", &env.emu.api_url])
            .args(args);
        command
    };
    let login = nemo(&["auth", "login"]).output().unwrap();
    assert!(login.status.success(), "{login:?}");
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 1);

    // The host passes HOME and nothing else.
    let mut child = nemo(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nemo mcp");
    let watchdog = Watchdog::new(child.id());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for message in [
        json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
            "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"host","version":"1"}}}),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
        json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"credits","arguments":{}}}),
    ] {
        writeln!(stdin, "{message}").unwrap();
    }
    drop(stdin);
    let answers: Vec<Value> = lines.by_ref().map(|l| rpc(&l.unwrap())).collect();
    let status = child.wait().unwrap();
    watchdog.disarm();
    assert_eq!(status.code(), Some(0));
    let credits = answers
        .iter()
        .find(|a| a["id"] == 2)
        .expect("the credits answer");
    assert_eq!(credits["result"]["isError"], false, "{credits}");
    assert_eq!(credits["result"]["structuredContent"]["available"], 100);
    // No second token was asked for: the stored one was used.
    assert_eq!(env.requests_to("/api/auth/anonymous-token").len(), 1);
}
