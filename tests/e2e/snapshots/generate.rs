//! Snapshots of `nemo generate`: a saved file, the dry-run plan, too few
//! credits, and an agent that makes no video.

use super::{Shot, nemo_in_tmp, snap};
use crate::common::Env;

/// A logged-in env whose agent answers at once and whose renders finish
/// at once (no timing in the output), with credits for a few generations.
fn ready() -> Env {
    let env = Env::new();
    env.login();
    env.emu.with_state(|s| {
        s.faults.chat.chat_pace_ms = 0;
        s.faults.chat.chat_tool_ms = 0;
        s.faults.render.render_ms = 0;
        for user in s.users.values_mut() {
            user.available = 1000;
        }
    });
    env
}

fn generate(env: &Env, args: &[&str]) -> Shot {
    Shot::of(
        env,
        nemo_in_tmp(env)
            .args(["generate", "--poll-interval", "0.05"])
            .args(args),
    )
}

#[test]
fn generate_outputs() {
    let env = ready();
    snap!(
        "generate_success",
        generate(&env, &["generate a panda", "-o", "panda.mp4"])
    );
    snap!(
        "generate_dry_run",
        generate(&env, &["generate a panda", "-o", "panda2.mp4", "--dry-run"])
    );
    snap!(
        "generate_no_video",
        generate(&env, &["hello", "-o", "hello.mp4"])
    );
    env.emu.with_state(|s| {
        for user in s.users.values_mut() {
            user.available = 10;
        }
    });
    snap!(
        "generate_credits_short",
        generate(&env, &["generate a panda", "-o", "short.mp4"])
    );
}
