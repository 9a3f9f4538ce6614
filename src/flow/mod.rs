//! The workflow layer below the commands: the chat turn, the job engine of
//! `generate` and `batch` and its journal. Commands parse their arguments,
//! call a flow and hand its result to the printer; a flow never imports a
//! command's module for what it owns, and never parses a command line.

pub(crate) mod job;
pub(crate) mod journal;
pub(crate) mod turn;
