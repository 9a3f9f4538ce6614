//! Snapshots of `nemo auth`: login, status (token masked), token, logout.

use super::{Shot, snap};
use crate::common::Env;

#[test]
fn auth_login_status_token_logout() {
    let env = Env::new();
    let logged_out = Shot::of(&env, env.nemo().args(["auth", "status"]));
    snap!("auth_status_logged_out", logged_out);

    snap!(
        "auth_login",
        Shot::of(&env, env.nemo().args(["auth", "login"]))
    );
    snap!(
        "auth_login_again",
        Shot::of(&env, env.nemo().args(["auth", "login"]))
    );

    let token = env.stored_token().expect("a stored token");
    // The status shows the token masked, never whole: the filter for
    // tokens must not be what hides it.
    let status = Shot::of(&env, env.nemo().args(["auth", "status"]));
    assert!(!status.text().contains(&token), "{}", status.text());
    snap!(
        "auth_status",
        status.name(&env.config_dir().display().to_string(), "[CONFIG]")
    );
    let printed = Shot::of(&env, env.nemo().args(["auth", "token"]));
    assert!(printed.text().contains(&format!("\n{token}\n")));
    snap!("auth_token", printed.name(&token, "[THE TOKEN]"));

    snap!(
        "auth_logout",
        Shot::of(&env, env.nemo().args(["auth", "logout"]))
    );
    snap!(
        "auth_token_logged_out",
        Shot::of(&env, env.nemo().args(["auth", "token"]))
    );
}

#[test]
fn auth_with_token_registered_and_rejected() {
    let env = Env::new();
    let token = "nmv_usr_registered_0123456789";
    env.emu.with_state(|s| s.add_registered_user(token, 25_000));
    let shot = Shot::of(
        &env,
        env.nemo()
            .args(["auth", "login", "--with-token"])
            .write_stdin(format!("{token}\n")),
    );
    snap!("auth_login_with_token", shot);
    let status = Shot::of(&env, env.nemo().args(["auth", "status"]));
    assert!(!status.text().contains(token), "{}", status.text());
    snap!(
        "auth_status_registered",
        status.name(&env.config_dir().display().to_string(), "[CONFIG]")
    );
    snap!(
        "auth_status_env",
        Shot::of(
            &env,
            env.nemo().env("NEMO_TOKEN", token).args(["auth", "status"])
        )
        .name(&env.config_dir().display().to_string(), "[CONFIG]")
    );

    let other = Env::new();
    snap!(
        "auth_login_with_token_rejected",
        Shot::of(
            &other,
            other
                .nemo()
                .args(["auth", "login", "--with-token"])
                .write_stdin("nmv_usr_wrong\n"),
        )
    );
}
