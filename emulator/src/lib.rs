//! An emulator of the NemoVideo agent API (`../shared/spec/api.md`), served
//! on loopback by `nemo sandbox`, by nemo's global `--sandbox`, and by the
//! tests in-process on port 0.
//!
//! It is an independent witness of the spec: it depends on nothing of the
//! client, and every protocol fact it enforces is written again from
//! `api.md` ([`spec`]). It answers with exactly the documented shapes and
//! codes (checked against the golden fixtures in `tests/fixtures/api/`).
//! Its whole state is one serde-serialisable [`EmuState`], including the
//! fault switches ([`Faults`]) tests turn on; it records every request it
//! gets so tests can assert on what the client sent. A second listener
//! stands in for the CDN that serves rendered files.
//!
//! | module | owns |
//! |---|---|
//! | [`model`] | the state as data, the clock |
//! | [`persist`] | the state in a file shared by processes, locked per request |
//! | [`server`] | listeners, routes, request recording, the running emulator |
//! | [`faults`] | fault switches, merging them, the counting 429/502 faults |
//! | [`scenario`] | faults files, scenario steps, the switches' help |
//! | [`control`] | the `/_sandbox/` control endpoints |
//! | [`spec`] | protocol facts from `api.md` |
//! | `answer` | envelopes, token and session checks shared by handlers |
//! | `accounts`, `state` | tokens, credits, sessions, claim links; the state endpoint |
//! | [`agent`] | `/run_sse`: the scripted agent |
//! | [`upload`] | the upload endpoint |
//! | [`render`], [`cdn`] | render jobs; serving the rendered file (Range) |
//! | [`media`] | the rendered file of each output format, its content type |
//! | [`pages`] | the web pages of the claim and registration links |

// Handlers return `Result<_, Response>` so an early answer is one `?`-like
// match away; the size of `Response` does not matter on these paths.
#![allow(clippy::result_large_err)]

mod accounts;
pub mod agent;
mod answer;
pub mod cdn;
pub mod control;
pub mod faults;
pub mod media;
pub mod model;
pub mod pages;
pub mod persist;
pub mod render;
pub mod scenario;
pub mod server;
pub mod spec;
mod state;
pub mod upload;

pub use faults::{Faults, Pace, merge_faults};
pub use media::{RENDERED_GIF, RENDERED_MOV, RENDERED_MP4, RENDERED_WEBM};
pub use model::{
    Claim, ClientRecord, EmuState, FREE_CREDITS, RecordedRequest, Session, TOKEN_LIFETIME_SECS,
    TokenRecord, User,
};
pub use persist::Persist;
pub use scenario::{fault_help, read_scenario};
pub use server::{App, BackgroundEmulator, Emulator, Handle, Options, Ports};
