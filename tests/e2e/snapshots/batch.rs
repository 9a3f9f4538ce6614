//! Snapshots of `nemo batch` (one job at a time, so the lines come in one
//! order): a run, a re-run that skips everything, a bad line, the dry run.

use super::{Shot, instant_env, nemo_in_tmp, snap};
use crate::common::Env;

/// [`instant_env`] with a jobs file of two jobs.
fn ready() -> Env {
    let env = instant_env();
    std::fs::write(
        env.tmp.path().join("jobs.txt"),
        "# two jobs\ngenerate a panda\n{\"prompt\":\"make a cat\",\"output\":\"cat.mp4\"}\n",
    )
    .unwrap();
    env
}

fn batch(env: &Env, args: &[&str]) -> Shot {
    Shot::of(
        env,
        nemo_in_tmp(env)
            .args([
                "batch",
                "--poll-interval",
                "0.05",
                "-j",
                "1",
                "jobs.txt",
                "-o",
                "out",
            ])
            .args(args),
    )
}

#[test]
fn batch_outputs() {
    let env = ready();
    snap!("batch_dry_run", batch(&env, &["--dry-run"]));
    snap!("batch_run", batch(&env, &[]));
    snap!("batch_rerun", batch(&env, &[]));
    std::fs::write(
        env.tmp.path().join("jobs.txt"),
        "a panda\n\n{\"prompt\":3}\n",
    )
    .unwrap();
    snap!("batch_bad_line", batch(&env, &[]));
}
