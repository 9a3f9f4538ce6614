//! Snapshots of help and completion texts: `nemo --help`,
//! `nemo sandbox --help`, `nemo completions`.

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn help_texts() {
    let env = Env::new();
    snap!("help_main", Shot::of(&env, env.nemo().arg("--help")));
    snap!(
        "help_sandbox",
        Shot::of(&env, env.nemo().args(["sandbox", "--help"]))
    );
    snap!(
        "help_export",
        Shot::of(&env, env.nemo().args(["export", "--help"]))
    );
    snap!(
        "version",
        Shot::of(&env, env.nemo().arg("--version")).name(env!("CARGO_PKG_VERSION"), "[VERSION]")
    );
}

#[test]
fn completions_texts() {
    let env = Env::new();
    snap!(
        "completions_fish",
        Shot::of(&env, env.nemo().args(["completions", "fish"]))
    );
    snap!(
        "completions_unknown_shell",
        Shot::of(&env, env.nemo().args(["completions", "tcsh"]))
    );
}
