//! Snapshots of `nemo export`: success, an existing file, nothing to export,
//! `--no-wait`, `list`, `cancel`, `resume`, a failed render.

use super::{Shot, nemo_in_tmp, snap};
use crate::common::{Env, clip_draft};

/// A current session with one 10 s clip on its draft; renders finish at
/// once, so the first poll sees the end (no timing in the output).
fn ready() -> Env {
    let env = Env::new();
    let sid = env.session();
    env.emu.with_state(|s| {
        s.sessions.get_mut(&sid).expect("the session").state["draft"] = clip_draft();
        s.faults.render.render_ms = 0;
    });
    env
}

fn export(env: &Env, args: &[&str]) -> Shot {
    Shot::of(
        env,
        nemo_in_tmp(env)
            .args(["export", "--poll-interval", "0.05"])
            .args(args),
    )
}

#[test]
fn export_success_and_existing_file() {
    let env = ready();
    snap!("export_success", export(&env, &["-o", "panda.mp4"]));
    snap!("export_existing_file", export(&env, &["-o", "panda.mp4"]));
    snap!(
        "export_force",
        export(&env, &["-o", "panda.mp4", "--force"])
    );
    snap!(
        "export_missing_folder",
        export(&env, &["-o", "nowhere/x.mp4"])
    );
}

#[test]
fn export_nothing_to_export() {
    let env = Env::new();
    env.session();
    snap!("export_nothing", export(&env, &["-o", "x.mp4"]));
}

#[test]
fn export_no_wait_list_resume_cancel() {
    let env = ready();
    snap!(
        "export_list_empty",
        Shot::of(&env, env.nemo().args(["export", "list"]))
    );
    snap!(
        "export_no_wait",
        export(&env, &["--no-wait", "-o", "later.mp4"])
    );
    let first = env.config()["renders"][0]["render_id"]
        .as_str()
        .expect("a recorded render")
        .to_string();
    snap!(
        "export_resume",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["export", "resume", &first, "--poll-interval", "0.05"])
        )
    );
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    export(&env, &["--no-wait", "-o", "slow.mp4"]);
    snap!(
        "export_list",
        Shot::of(&env, env.nemo().args(["export", "list"]))
    );
    let latest = env.config()["renders"][1]["render_id"]
        .as_str()
        .expect("a second render")
        .to_string();
    snap!(
        "export_cancel",
        Shot::of(&env, env.nemo().args(["export", "cancel", &latest]))
    );
    snap!(
        "export_resume_cancelled",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["export", "resume", &latest, "--poll-interval", "0.05"])
        )
    );
    snap!(
        "export_resume_unknown",
        Shot::of(
            &env,
            nemo_in_tmp(&env).args(["export", "resume", "render_123", "--poll-interval", "0.05"])
        )
    );
}

#[test]
fn export_timeout_leaves_the_render_running() {
    let env = ready();
    env.emu.with_state(|s| s.faults.render.render_ms = 600_000);
    snap!(
        "export_timeout",
        export(&env, &["-o", "slow.mp4", "--timeout", "2"])
    );
}

#[test]
fn export_failed_render_and_plan() {
    let env = ready();
    env.emu.with_state(|s| {
        s.faults.render.render_fail = true;
        s.faults.render.render_fail_error = "Lambda ran out of memory".into();
    });
    snap!("export_render_failed", export(&env, &["-o", "f.mp4"]));
    env.emu.with_state(|s| {
        s.faults.render.render_fail = false;
        s.faults.render.render_plan_required = true;
    });
    snap!("export_plan_402", export(&env, &["-o", "p.mp4"]));
}
