//! Snapshots of the main error paths every command shares: not logged in,
//! no credits, 429, 5xx, session not found, unreachable API, usage errors.

use super::{Shot, snap};
use crate::common::{Env, WEB_URL};

#[test]
fn error_not_logged_in() {
    let env = Env::new();
    snap!(
        "error_not_logged_in",
        Shot::of(&env, env.nemo().args(["auth", "token"]))
    );
}

#[test]
fn error_rejected_env_token() {
    let env = Env::new();
    snap!(
        "error_rejected_env_token",
        Shot::of(
            &env,
            env.nemo()
                .env("NEMO_TOKEN", "nmv_usr_not_valid_anymore")
                .arg("credits")
        )
    );
}

#[test]
fn error_no_credits() {
    let env = Env::new();
    env.login();
    env.emu.with_state(|s| s.faults.no_credits = true);
    let shot = Shot::of(&env, env.nemo().args(["session", "new"]));
    assert!(shot.text().contains(&format!("{WEB_URL}/?bind=anon_")));
    snap!("error_no_credits_anonymous", shot);

    let registered = Env::new();
    let token = "nmv_usr_registered_broke";
    registered.emu.with_state(|s| {
        s.add_registered_user(token, 0);
        s.faults.no_credits = true;
    });
    snap!(
        "error_no_credits_registered",
        Shot::of(
            &registered,
            registered
                .nemo()
                .env("NEMO_TOKEN", token)
                .args(["session", "new"])
        )
    );
}

#[test]
fn error_rate_limited() {
    // The one free token a client id gets a week, asked for again.
    let env = Env::new();
    env.login();
    env.nemo().args(["auth", "logout"]).assert().success();
    snap!(
        "error_429_second_free_token",
        Shot::of(
            &env,
            env.nemo()
                .env("NEMO_RATE_LIMIT_WAIT", "0")
                .args(["auth", "login"])
        )
    );
}

#[test]
fn error_server_5xx() {
    let env = Env::new();
    env.login();
    env.emu.with_state(|s| s.faults.server_error_next = 3);
    let shot = Shot::of(&env, env.nemo().arg("credits"));
    assert_eq!(shot.code(), "9");
    snap!("error_5xx", shot);
}

#[test]
fn error_unreachable() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    snap!(
        "error_unreachable",
        Shot::of(
            &env,
            env.nemo()
                .env("NEMO_API_URL", format!("http://127.0.0.1:{port}"))
                .env("NEMO_TOKEN", "nmv_usr_x")
                .arg("credits")
        )
    );
}

#[test]
fn error_session_not_found() {
    let env = Env::new();
    env.session();
    snap!(
        "error_session_use_unknown",
        Shot::of(&env, env.nemo().args(["session", "use", "999"]))
    );
    env.emu.with_state(|s| s.lose_all_sessions());
    snap!(
        "error_session_lost",
        Shot::of(&env, env.nemo().arg("state"))
    );
    env.emu
        .with_state(|s| s.faults.session_not_found_as_404 = true);
    snap!(
        "error_session_lost_404",
        Shot::of(&env, env.nemo().arg("state"))
    );
}

#[test]
fn error_usage() {
    let env = Env::new();
    snap!(
        "error_unknown_command",
        Shot::of(&env, env.nemo().arg("frobnicate"))
    );
    snap!(
        "error_bad_number",
        Shot::of(&env, env.nemo().args(["credits", "--min", "lots"]))
    );
    snap!(
        "error_bad_api_url",
        Shot::of(&env, env.nemo().args(["--api-url", "not a url", "credits"]))
    );
    snap!("error_damaged_config", {
        std::fs::create_dir_all(env.config_dir()).unwrap();
        std::fs::write(env.config_path(), "{\"token\": oops").unwrap();
        Shot::of(&env, env.nemo().args(["session", "new"]))
    });
}
