//! The state kept in a file shared by emulators (nemo's `--sandbox`, one
//! emulator per process): each request reads the file afresh and writes it
//! back, so emulators on one file see each other's changes at once; `POST
//! /_sandbox/credits` sets the balance; pages of links are written as files.

mod common;

use std::sync::Arc;

use common::as_client;
use nemo_emulator::{BackgroundEmulator, EmuState, Options, Persist};
use serde_json::{Value, json};

const CLIENT: &str = "6f1c2d4e-0000-4000-8000-00000000000b";

fn on_file(dir: &std::path::Path) -> BackgroundEmulator {
    let persist = Persist::new(dir.join("state.json"), dir.join("state.lock"));
    BackgroundEmulator::start_with(
        EmuState::default(),
        Options {
            persist: Some(Arc::new(persist)),
            pages_dir: Some(dir.join("pages")),
            ..Options::default()
        },
    )
    .expect("start the emulator")
}

fn call(base: &str, method: &str, path: &str, bearer: Option<&str>, body: Option<&Value>) -> Value {
    let answer = as_client(base, method, path, CLIENT, bearer, body);
    assert!(answer.status < 300, "{path}: {}", answer.status);
    answer.json()
}

#[test]
fn emulators_on_one_state_file_share_it_request_by_request() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (on_file(dir.path()), on_file(dir.path()));
    let login = call(&a.api_url, "POST", "/api/auth/anonymous-token", None, None);
    let token = login["data"]["token"].as_str().unwrap().to_string();
    // B knows the token A issued, and the balance A gave it.
    let credits = call(
        &b.api_url,
        "GET",
        "/api/credits/balance/simple",
        Some(&token),
        None,
    );
    assert_eq!(credits["data"]["available"], 100);
    // Set through B with the token: that user; A sees it.
    let set = call(
        &b.api_url,
        "POST",
        "/_sandbox/credits",
        Some(&token),
        Some(&json!({"available": 250})),
    );
    assert_eq!(set["users"].as_array().unwrap().len(), 1);
    let credits = call(
        &a.api_url,
        "GET",
        "/api/credits/balance/simple",
        Some(&token),
        None,
    );
    assert_eq!(credits["data"]["available"], 250);
    // Without a token: every user, and the new ones start with it.
    call(
        &a.api_url,
        "POST",
        "/_sandbox/credits",
        None,
        Some(&json!({"available": 700})),
    );
    let credits = call(
        &b.api_url,
        "GET",
        "/api/credits/balance/simple",
        Some(&token),
        None,
    );
    assert_eq!(credits["data"]["available"], 700);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("state.json")).unwrap()).unwrap();
    assert_eq!(saved["new_user_credits"], 700);
    // The registration page of the user is a file.
    let user = login["data"]["user_id"].as_str().unwrap();
    let page = std::fs::read_to_string(dir.path().join(format!("pages/register-{user}.html")))
        .expect("the registration page");
    assert!(page.contains(user), "{page}");
}

#[test]
fn a_bad_credits_request_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let emu = on_file(dir.path());
    for body in [
        json!({"available": -1}),
        json!({"available": "lots"}),
        json!({}),
    ] {
        let answer = as_client(
            &emu.api_url,
            "POST",
            "/_sandbox/credits",
            CLIENT,
            None,
            Some(&body),
        );
        assert_eq!(answer.status, 400, "{body}");
    }
    let answer = as_client(
        &emu.api_url,
        "POST",
        "/_sandbox/credits",
        CLIENT,
        Some("nmv_usr_unknown"),
        Some(&json!({"available": 5})),
    );
    assert_eq!(answer.status, 401);
}
