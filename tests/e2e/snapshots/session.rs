//! Snapshots of `nemo session`: new, show, list, use, open.

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn session_new_show_list_use_open() {
    let env = Env::new();
    snap!(
        "session_show_none",
        Shot::of(&env, env.nemo().args(["session", "show"]))
    );
    let first = Shot::of(&env, env.nemo().args(["session", "new"]));
    snap!("session_new_first", first);
    let second = Shot::of(
        &env,
        env.nemo().args([
            "session",
            "new",
            "--name",
            "panda promo",
            "--language",
            "ja",
        ]),
    );
    snap!("session_new_named", second);

    let ids: Vec<String> = env.emu.snapshot().sessions.keys().cloned().collect();
    assert_eq!(ids.len(), 2);
    let (one, two) = (&ids[0], &ids[1]);
    let named = |shot: Shot| shot.name(one, "[SESSION 1]").name(two, "[SESSION 2]");

    snap!(
        "session_show",
        named(Shot::of(&env, env.nemo().args(["session", "show"])))
    );
    snap!(
        "session_list",
        named(Shot::of(&env, env.nemo().args(["session", "list"])))
    );
    snap!(
        "session_use",
        named(Shot::of(&env, env.nemo().args(["session", "use", one])))
    );
    snap!(
        "session_list_after_use",
        named(Shot::of(&env, env.nemo().args(["session", "list"])))
    );
    snap!(
        "session_open",
        named(Shot::of(&env, env.nemo().args(["session", "open"])))
    );
}

#[test]
fn session_list_empty() {
    let env = Env::new();
    snap!(
        "session_list_empty",
        Shot::of(&env, env.nemo().args(["session", "list"]))
    );
}
