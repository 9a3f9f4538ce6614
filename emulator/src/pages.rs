//! The web pages the links nemo prints lead to, so that under `--sandbox`
//! the web URL can be the emulator's own origin and no link leaves
//! loopback: the claim link (`/workspace/claim?ct=…`, naming the project)
//! and the registration link (`/?bind=<user_id>`, naming the user). Small
//! static HTML; nothing of the API.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

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
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} · NemoVideo sandbox</title></head>\n\
         <body><h1>{}</h1>\n{}\n<p><small>This page is served by nemo's built-in emulator (the sandbox); nothing here reaches nemovideo.com.</small></p></body></html>\n",
        escape(title),
        escape(title),
        body
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
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
    let st = app.lock();
    match st.users.get(user_id) {
        Some(user) => page(
            StatusCode::OK,
            "Register to keep your work",
            &format!(
                "<p>Sandbox user <code>{}</code> has {} credits left.</p>\n\
                 <p>On the real site this page registers the account and binds its projects. \
                 In the sandbox, set the balance with <code>nemo sandbox credits N</code>.</p>",
                escape(&user.user_id),
                user.available
            ),
        ),
        None => page(
            StatusCode::NOT_FOUND,
            "Unknown user",
            &format!(
                "<p>The sandbox knows no user <code>{}</code>.</p>",
                escape(user_id)
            ),
        ),
    }
}

/// `GET /workspace/claim?ct=<claim_token>`: the project a claim link opens.
async fn claim(State(app): State<App>, Query(query): Query<HashMap<String, String>>) -> Response {
    let st = app.lock();
    let claim = query.get("ct").and_then(|ct| st.claims.get(ct));
    let Some(claim) = claim else {
        return page(
            StatusCode::NOT_FOUND,
            "Link not found",
            "<p>This claim link is unknown to the sandbox (or it was reset).</p>",
        );
    };
    let project = st
        .sessions
        .get(&claim.session_id)
        .map_or("(a deleted session)", |s| s.task_name.as_str());
    page(
        StatusCode::OK,
        &format!("Project: {project}"),
        &format!(
            "<p>Project <strong>{}</strong>, session <code>{}</code>, of user <code>{}</code>.</p>\n\
             <p>On the real site this link opens the project in the editor.</p>",
            escape(project),
            escape(&claim.session_id),
            escape(&claim.user_id)
        ),
    )
}
