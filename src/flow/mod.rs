//! The workflow layer below the commands: the steps several commands share,
//! each returning values and never printing a command's result.
//!
//! - [`render`]: the render job — local checks, the submit written ahead and
//!   reconciled, the wait, the download and its record;
//! - [`export`]: `nemo export`'s job in its order, from the checks to the
//!   saved file, as the command and the chat prompt both run it;
//! - [`download`]: the file policy of a download (`.part`, lock, rename);
//! - [`upload`]: checking and sending files and URLs to a session, and
//!   the lines that show them;
//! - [`credits`], [`state`]: the balance and a session's state, as the
//!   results `nemo credits` and `nemo state` (and the chat prompt) show;
//! - [`claim`]: the project's browser link;
//! - [`turn`]: one chat turn, returning what the reply said and changed;
//! - [`job`] and [`journal`]: the job engine of `generate` and `batch`,
//!   written ahead and reconciled with the server.
//!
//! A command is a leaf over this layer: it parses its arguments, calls a
//! flow and hands a `Report` to the printer. Nothing here imports a command
//! module.

pub(crate) mod claim;
pub(crate) mod credits;
pub(crate) mod download;
pub(crate) mod export;
pub(crate) mod job;
pub(crate) mod journal;
pub(crate) mod render;
pub(crate) mod state;
pub(crate) mod turn;
pub(crate) mod upload;
