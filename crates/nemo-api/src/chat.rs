//! `POST /run_sse`: send one message to the agent and get its reply as a
//! typed event stream ([`stream::AgentStream`]).
//!
//! The request is sent once and never again (`Retry::Once`): a generation
//! may already be running and would be charged twice. It has no total
//! timeout of its own; the caller enforces `--timeout`/`--idle-timeout`.
//! Errors found before the run starts (1001, 1002, 2001) come as ordinary
//! JSON, so the `Content-Type` is checked before the body is read as SSE.

pub mod stream;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::Method;
use reqwest::header::{self, HeaderValue};
use serde::Serialize;

use super::{ApiClient, Retry, check_envelope, describe, read_json};
use crate::error::{Error, Kind, Result};
pub use stream::{AgentEvent, AgentStream, agent_events};

/// The agent every request names.
pub const APP_NAME: &str = "nemo_agent";

/// The `/run_sse` body, all snake_case (`api.md`). It borrows the message:
/// a message of hundreds of MB is held once by the caller and once as the
/// serialised body, never copied in between.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunRequest<'a> {
    pub app_name: &'a str,
    pub user_id: &'a str,
    pub session_id: &'a str,
    pub new_message: NewMessage<'a>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewMessage<'a> {
    pub role: &'a str,
    pub parts: [TextPart<'a>; 1],
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TextPart<'a> {
    pub text: &'a str,
}

impl<'a> RunRequest<'a> {
    pub fn new(session_id: &'a str, message: &'a str) -> Self {
        RunRequest {
            app_name: APP_NAME,
            // `me` is resolved from the token, as in every other path.
            user_id: "me",
            session_id,
            new_message: NewMessage {
                role: "user",
                parts: [TextPart { text: message }],
            },
        }
    }

    /// The JSON body, serialised once into a buffer sized for it (JSON
    /// escapes may grow it once more), not a `Vec` grown by doubling.
    pub fn body(&self) -> Result<Bytes> {
        let text = self.new_message.parts[0].text;
        let mut body = Vec::with_capacity(text.len() + self.session_id.len() + 256);
        serde_json::to_writer(&mut body, self)
            .map_err(|e| Error::new(Kind::Io, format!("cannot write the request: {e}")))?;
        Ok(Bytes::from(body))
    }
}

impl ApiClient {
    /// Sends `message` to the agent in `session_id` and returns its reply as
    /// events. Fails before any event with the typed error of a JSON answer
    /// (1001 → `TokenRejected`, 1002/404 → `SessionNotFound`, 2001 →
    /// `NoCredits`, …).
    ///
    /// A rejected free token is renewed and the message sent once more:
    /// the rejection came before any work started.
    pub async fn run_sse(&self, session_id: &str, message: &str) -> Result<AgentStream> {
        self.signed_in(|| self.run_sse_once(session_id, message))
            .await
    }

    async fn run_sse_once(&self, session_id: &str, message: &str) -> Result<AgentStream> {
        let body = RunRequest::new(session_id, message).body()?;
        let response = self
            .send(Retry::Once, None, || {
                Ok(self
                    .request(Method::POST, "/run_sse", true)?
                    .header(header::ACCEPT, "text/event-stream")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone()))
            })
            .await?;
        let status = response.status();
        if status.is_redirection() {
            // The server's answer, not a dropped stream: nothing to watch
            // the state for, and the message is not sent again.
            return Err(Error::bad_answer(format!(
                "the agent's endpoint answered a redirect (HTTP {}) instead of a reply; the message was not sent again",
                status.as_u16()
            ))
            .with_status(status.as_u16())
            .with_hint(
                "check the API URL (--api-url, NEMO_API_URL): it should be the API's own address",
            ));
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if response.status().is_success() && content_type.starts_with("text/event-stream") {
            let bytes = response.bytes_stream().map(|chunk| {
                chunk.map_err(|e| {
                    Error::new(
                        Kind::Network,
                        format!(
                            "the connection to the agent dropped mid-reply ({})",
                            describe(&e)
                        ),
                    )
                })
            });
            return Ok(Box::pin(agent_events(bytes)));
        }
        let value = read_json(response).await?;
        check_envelope(&value)?;
        Err(Error::bad_answer(
            "the agent answered with JSON instead of an event stream",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_exactly_as_documented() {
        let body =
            serde_json::to_string(&RunRequest::new("5529798706024415232", "hi \"you\"")).unwrap();
        assert_eq!(
            body,
            r#"{"app_name":"nemo_agent","user_id":"me","session_id":"5529798706024415232","new_message":{"role":"user","parts":[{"text":"hi \"you\""}]}}"#
        );
    }
}
