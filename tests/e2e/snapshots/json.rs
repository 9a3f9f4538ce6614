//! JSON snapshots of a few `--json` documents: stdout is parsed as one JSON
//! document (so a stray line fails), pretty-printed, and compared through
//! the same filters as the human output, with the exit code and stderr.

use assert_cmd::Command;
use serde_json::Value;

use super::{Shot, nemo_in_tmp, snap};
use crate::common::{Env, clip_draft};

/// Runs `cmd`, parses its stdout as exactly one JSON document.
fn json_shot(env: &Env, cmd: &mut Command) -> Shot {
    let output = cmd.output().expect("run nemo");
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {:?}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    let pretty = serde_json::to_string_pretty(&doc).expect("print JSON");
    let code = output
        .status
        .code()
        .map_or_else(|| format!("{:?}", output.status), |c| c.to_string());
    Shot::from_parts(
        env,
        &code,
        &format!("{pretty}\n"),
        &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
fn json_documents() {
    let env = Env::new();
    snap!(
        "json_auth_login",
        json_shot(&env, env.nemo().args(["auth", "login", "--json"]))
    );
    snap!(
        "json_auth_status",
        json_shot(&env, env.nemo().args(["auth", "status", "--json"]))
    );
    snap!(
        "json_credits",
        json_shot(&env, env.nemo().args(["credits", "--json"]))
    );
    snap!(
        "json_credits_min_failed",
        json_shot(&env, env.nemo().args(["credits", "--min", "500", "--json"]))
    );
    snap!(
        "json_session_new",
        json_shot(&env, env.nemo().args(["session", "new", "--json"]))
    );
    snap!(
        "json_session_list",
        json_shot(&env, env.nemo().args(["session", "list", "--json"]))
    );
    std::fs::write(env.tmp.path().join("logo.png"), vec![2u8; 20_000]).unwrap();
    snap!(
        "json_upload",
        json_shot(
            &env,
            nemo_in_tmp(&env).args(["upload", "logo.png", "--json"])
        )
    );
    let sid = env.config()["current_session"]
        .as_str()
        .expect("a current session")
        .to_string();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session").state["draft"] = clip_draft();
        s.faults.render.render_ms = 0;
    });
    snap!(
        "json_export",
        json_shot(
            &env,
            nemo_in_tmp(&env).args(["export", "-o", "a.mp4", "--poll-interval", "0.05", "--json"])
        )
    );
    snap!(
        "json_export_existing_file",
        json_shot(
            &env,
            nemo_in_tmp(&env).args(["export", "-o", "a.mp4", "--json"])
        )
    );
    snap!(
        "json_export_no_wait",
        json_shot(
            &env,
            nemo_in_tmp(&env).args(["export", "--no-wait", "-o", "b.mp4", "--json"])
        )
    );
    snap!(
        "json_export_list",
        json_shot(&env, env.nemo().args(["export", "list", "--json"]))
    );
    snap!(
        "json_session_show",
        json_shot(&env, env.nemo().args(["session", "show", "--json"]))
    );
    snap!(
        "json_upload_rejected",
        json_shot(
            &env,
            nemo_in_tmp(&env).args(["upload", "notes.txt", "--json"])
        )
    );
    env.emu.with_state(|s| s.lose_all_sessions());
    snap!(
        "json_state_session_lost",
        json_shot(&env, env.nemo().args(["state", "--json"]))
    );
}
