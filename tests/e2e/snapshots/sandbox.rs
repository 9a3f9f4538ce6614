//! Snapshots of commands run with the global `--sandbox` (the in-process
//! emulator whose state lives in `<config-dir>/sandbox/`): the path that
//! builds without the emulator must keep showing exactly this.

use super::{Shot, nemo_in_tmp, snap};
use crate::common::Env;

#[test]
fn sandbox_flag_runs_commands_offline() {
    let env = Env::new();
    let sandbox = |args: &[&str]| {
        let mut cmd = nemo_in_tmp(&env);
        cmd.env("NEMO_API_URL", "http://127.0.0.1:9")
            .arg("--sandbox")
            .args(args);
        Shot::of(&env, &mut cmd)
    };
    snap!("sandbox_credits", sandbox(&["credits"]));
    snap!("sandbox_state_empty", sandbox(&["state"]));
    snap!(
        "sandbox_chat_silent_edit",
        sandbox(&["chat", "add a title 'One'"])
    );
    snap!("sandbox_state", sandbox(&["state"]));
    snap!(
        "sandbox_export_no_wait",
        sandbox(&["export", "--no-wait", "-o", "sb.mp4"])
    );
    snap!("sandbox_export_list", sandbox(&["export", "list"]));
    assert!(env.requests().is_empty(), "the test's emulator saw nothing");
}
