//! One module per subcommand, each owning its `Args` and `run`.

pub mod auth;
pub mod completions;
pub mod credits;
pub mod sandbox;
pub mod session;
