//! One module per subcommand, each owning its `Args` and `run`.

pub mod auth;
pub mod batch;
pub mod chat;
pub mod completions;
pub mod credits;
pub mod doctor;
pub mod export;
pub mod generate;
pub mod help;
pub mod man;
pub mod mcp;
pub mod sandbox;
pub mod session;
pub mod state;
pub mod upload;
