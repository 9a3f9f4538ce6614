//! End-to-end tests: the real `nemo` binary against the built-in emulator
//! over real HTTP on 127.0.0.1. One test binary, one module per command.

mod common;
mod raw_server;

mod auth;
mod chat;
mod chat_stream;
mod complete;
mod config;
mod cookbook;
mod credits;
mod doctor;
mod examples;
mod export;
mod faults;
mod help;
mod jq;
mod network;
mod output;
mod sandbox_truth;
mod session;
mod shell;
mod snapshots;
mod state;
mod upload;
