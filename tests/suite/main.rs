//! convctl's integration tests: one test binary, one module per thing convctl does, one
//! support tree (`support/`). Most tests drive the real binary (`support::Convctl`) against
//! the emulator, in this process (`support::Harness`, `support::emulator`) or as a child
//! (`support::child::ChildEmulator`); the client tests use the library's `GraphClient`
//! against the emulator or a stub (`support::stub`).
//!
//! Run one concept with `cargo test --test suite plan::` (or `safety::`, `client::stub::`, ...).

mod support;

mod apply;
mod ci_templates;
mod cli;
mod client;
mod converge;
mod crash;
mod docs;
mod drift;
mod emulator;
mod events;
mod faults;
mod fleets;
mod import;
mod manifest;
mod pacing;
mod plan;
mod reliability;
mod report;
mod rule_tests;
mod safety;
mod sandbox;
mod secrets;
mod versions;
