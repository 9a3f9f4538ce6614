//! Snapshots of `nemo doctor`: a fresh setup, a logged-in one, and an API
//! that does not answer.

use super::{Shot, snap};
use crate::common::Env;

/// The parts that differ by machine: nemo's version and platform, and the
/// way file modes read (Unix octal, elsewhere writable or not).
fn doctor(env: &Env, args: &[&str]) -> Shot {
    let version = format!(
        "{} ({} {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    Shot::of(env, env.nemo().args(args))
        .name(&version, "[VERSION]")
        .name("folder 0700, nemo-cli.json 0600", "[MODES]")
        .name("folder writable, nemo-cli.json writable", "[MODES]")
}

#[test]
fn doctor_fresh_logged_in_and_unreachable() {
    let env = Env::new();
    snap!("doctor_fresh", doctor(&env, &["doctor"]));
    env.login();
    env.session();
    snap!("doctor_logged_in", doctor(&env, &["doctor"]));
    snap!(
        "doctor_unreachable",
        doctor(&env, &["--api-url", "http://127.0.0.1:9", "doctor"])
    );
}
