//! Snapshots of `nemo generate`: a saved file, the dry-run plan, too few
//! credits, and an agent that makes no video.

use super::{Shot, instant_env, nemo_in_tmp, snap};
use crate::common::Env;

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
    let env = instant_env();
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
