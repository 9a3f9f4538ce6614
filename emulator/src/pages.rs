//! The web pages the links nemo prints lead to, so that under `--sandbox`
//! the web URL can be the emulator's own origin and no link leaves
//! loopback: the claim link (`/workspace/claim?ct=…`, naming the project)
//! and the registration link (`/?bind=<user_id>`, naming the user). Small
//! static HTML; nothing of the API.
//!
//! An emulator that lives only as long as one command (nemo's `--sandbox`)
//! cannot serve them after it ends: given a pages folder, it writes each
//! page as a file there when it makes the link (`claim-<claim token>.html`,
//! `register-<user id>.html`, [`claim_file`], [`register_file`]), so that
//! the `file://` link nemo prints opens.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::model::{EmuState, write_atomically};
use crate::server::App;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/workspace/claim", get(claim))
}

/// Text made safe for HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html(title, body),
    )
        .into_response()
}

fn html(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · NemoVideo sandbox</title></head>\n\
         <body><h1>{}</h1>\n{}\n<p><small>This page is served by nemo's built-in emulator (the sandbox); nothing here reaches nemovideo.com.</small></p></body></html>\n",
        escape(title),
        escape(title),
        body
    )
}

/// A name made of what is safe in a file name on every system.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The file of the claim link's page in `dir`.
pub fn claim_file(dir: &Path, claim_token: &str) -> PathBuf {
    dir.join(format!("claim-{}.html", file_safe(claim_token)))
}

/// The file of the registration link's page in `dir`.
pub fn register_file(dir: &Path, user_id: &str) -> PathBuf {
    dir.join(format!("register-{}.html", file_safe(user_id)))
}

/// Writes the claim link's page, when pages are written as files. A page
/// that cannot be written costs only its link: the answer goes out anyway.
pub fn write_claim(app: &App, st: &EmuState, claim_token: &str) {
    if let Some(dir) = &app.pages_dir {
        let (_, title, body) = claim_page(st, Some(claim_token));
        let _ = write_atomically(
            &claim_file(dir, claim_token),
            html(&title, &body).as_bytes(),
        );
    }
}

/// Writes the registration link's page, when pages are written as files.
pub fn write_register(app: &App, st: &EmuState, user_id: &str) {
    if let Some(dir) = &app.pages_dir {
        let (_, title, body) = register_page(st, user_id);
        let _ = write_atomically(&register_file(dir, user_id), html(&title, &body).as_bytes());
    }
}

/// `GET /?bind=<user_id>`: where an anonymous user would register.
async fn home(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let Some(user_id) = query.get("bind") else {
        return page(
            StatusCode::OK,
            "NemoVideo sandbox",
            "<p>The emulator of the NemoVideo API is running.</p>",
        );
    };
    let (status, title, body) = register_page(&app.lock(), user_id);
    page(status, &title, &body)
}

/// The registration page of `user_id`: status, title, body.
fn register_page(st: &EmuState, user_id: &str) -> (StatusCode, String, String) {
    match st.users.get(user_id) {
        Some(user) => (
            StatusCode::OK,
            "Register to keep your work".into(),
            format!(
                "<p>Sandbox user <code>{}</code> had {} credits left when this page was made.</p>\n\
                 <p>On the real site this page registers the account and binds its projects. \
                 In the sandbox, set the balance with <code>nemo sandbox credits N</code>.</p>",
                escape(&user.user_id),
                user.available
            ),
        ),
        None => (
            StatusCode::NOT_FOUND,
            "Unknown user".into(),
            format!(
                "<p>The sandbox knows no user <code>{}</code>.</p>",
                escape(user_id)
            ),
        ),
    }
}

/// `GET /workspace/claim?ct=<claim_token>`: the project a claim link opens.
async fn claim(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let (status, title, body) = claim_page(&app.lock(), query.get("ct").map(String::as_str));
    page(status, &title, &body)
}

/// The page a claim link opens: status, title, body.
fn claim_page(st: &EmuState, claim_token: Option<&str>) -> (StatusCode, String, String) {
    let claim = claim_token.and_then(|ct| st.claims.get(ct));
    let Some(claim) = claim else {
        return (
            StatusCode::NOT_FOUND,
            "Link not found".into(),
            "<p>This claim link is unknown to the sandbox (or it was reset).</p>".into(),
        );
    };
    let project = st
        .sessions
        .get(&claim.session_id)
        .map_or("(a deleted session)", |s| s.task_name.as_str());
    (
        StatusCode::OK,
        format!("Project: {project}"),
        format!(
            "<p>Project <strong>{}</strong>, session <code>{}</code>, of user <code>{}</code>.</p>\n\
             <p>On the real site this link opens the project in the editor.</p>",
            escape(project),
            escape(&claim.session_id),
            escape(&claim.user_id)
        ),
    )
}
