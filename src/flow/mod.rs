//! The workflow layer below the commands: the steps several commands share,
//! each returning values and never printing a command's result.
//!
//! - [`render`]: the render job — local checks, the submit written ahead and
//!   reconciled, the wait, the download and its record;
//! - [`download`]: the file policy of a download (`.part`, lock, rename);
//! - [`upload`]: checking and sending files and URLs to a session;
//! - [`claim`]: the project's browser link.
//!
//! A command is a leaf over this layer: it parses its arguments, calls a
//! flow and hands a `Report` to the printer. Nothing here imports a command
//! module.

pub(crate) mod claim;
pub(crate) mod download;
pub(crate) mod render;
pub(crate) mod upload;
