//! Snapshots of `nemo credits`: the balance and the `--min` gate.

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn credits_balance_and_min_gate() {
    let env = Env::new();
    snap!(
        "credits_first_use",
        Shot::of(&env, env.nemo().arg("credits"))
    );
    snap!("credits", Shot::of(&env, env.nemo().arg("credits")));
    snap!(
        "credits_min_met",
        Shot::of(&env, env.nemo().args(["credits", "--min", "100"]))
    );
    snap!(
        "credits_min_failed",
        Shot::of(&env, env.nemo().args(["credits", "--min", "101"]))
    );
    snap!(
        "credits_quiet",
        Shot::of(&env, env.nemo().args(["-q", "credits"]))
    );
}
