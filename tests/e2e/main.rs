//! End-to-end tests: the real `nemo` binary against the built-in emulator
//! over real HTTP on 127.0.0.1. One test binary, one module per command.

mod common;
mod raw_server;

mod auth;
mod auth_status;
mod batch;
mod batch_rerun;
mod chat;
mod chat_reset;
mod chat_stream;
mod complete;
mod config;
mod cookbook;
mod crash;
mod credits;
mod doctor;
mod examples;
mod export;
mod export_ahead;
mod export_cmds;
mod export_files;
mod faults;
mod generate;
mod generate_checks;
mod generate_job;
mod generate_resume;
mod help;
mod jq;
mod mcp;
mod network;
mod output;
mod sandbox_agent;
mod sandbox_truth;
mod session;
mod session_new;
mod shell;
mod skill;
mod snapshots;
mod state;
mod trust;
mod upload;
