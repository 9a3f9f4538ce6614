//! End-to-end tests: the real `nemo` binary against the built-in emulator
//! over real HTTP on 127.0.0.1. One test binary, one module per command.

mod common;
mod raw_server;

mod auth;
mod chat;
mod chat_stream;
mod config;
mod credits;
mod examples;
mod export;
mod help;
mod output;
mod sandbox_truth;
mod session;
mod snapshots;
mod state;
mod upload;
