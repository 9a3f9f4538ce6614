//! Reading a JSON answer's body with bounds: at most [`MAX_ANSWER`] bytes
//! (a 200 MB answer is refused after 16 MiB, in flat memory) and no more
//! than a stall timeout between two pieces (a server that stops mid-body
//! is given up on, not waited for until the call's total timeout). Says
//! which failures a read may try again (a cut or stalled body) and which it
//! may not (an answer over the cap). Streaming bodies (the agent's SSE,
//! downloads) are read elsewhere.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Response;

use super::http::{describe, host_of};
use crate::error::{Error, Kind};

/// The largest JSON answer nemo reads (16 MiB; a session's state is far
/// smaller).
pub const MAX_ANSWER: usize = 16 << 20;

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The connection broke or stalled mid-body: worth another try for a
    /// read.
    Cut(Error),
    /// Over [`MAX_ANSWER`]: the same again next time.
    TooLarge(Error),
}

impl BodyError {
    pub fn into_error(self) -> Error {
        match self {
            BodyError::Cut(e) | BodyError::TooLarge(e) => e,
        }
    }
}

/// Reads the whole body of `response`, at most `cap` bytes, giving up when
/// no byte arrives for `stall`.
pub async fn read_capped(
    mut response: Response,
    cap: usize,
    stall: Duration,
) -> Result<Bytes, BodyError> {
    let host = host_of(response.url());
    let too_large = || {
        BodyError::TooLarge(Error::new(
            Kind::TooLarge,
            format!(
                "the answer from {host} is over {} MiB; nemo stopped reading it",
                cap >> 20
            ),
        ))
    };
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Err(too_large());
    }
    let mut body = BytesMut::new();
    loop {
        match tokio::time::timeout(stall, response.chunk()).await {
            Err(_) => {
                return Err(BodyError::Cut(Error::new(
                    Kind::Network,
                    format!(
                        "{host} stopped sending its answer midway (nothing for {} s)",
                        stall.as_secs_f64().ceil()
                    ),
                )));
            }
            Ok(Err(err)) => {
                let message = if err.is_timeout() {
                    format!("{host} did not finish its answer in time")
                } else {
                    format!(
                        "the connection to {host} broke midway through its answer: {}",
                        describe(&err)
                    )
                };
                return Err(BodyError::Cut(
                    Error::new(Kind::Network, message).with_source(err),
                ));
            }
            Ok(Ok(None)) => return Ok(body.freeze()),
            Ok(Ok(Some(piece))) => {
                if body.len() + piece.len() > cap {
                    return Err(too_large());
                }
                body.extend_from_slice(&piece);
            }
        }
    }
}
