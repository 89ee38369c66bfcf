//! convctl: Meta custom conversions as code.
//!
//! The library mirrors the data flow of the product:
//! `manifest` (YAML files → desired model, with source locations) → `rule` (parse, canonicalise,
//! validate, evaluate) → `graph` (the Graph API client: live model) → `diff` (desired × live →
//! plan) → `plan` (the document, saved and loaded) → `render` (text, json, markdown) → `apply`
//! (executes a plan). `emulator` is a local Graph API that shares `rule` with everything else.
//! `cli` parses the command line and `commands` are thin shells over the operations.

pub mod apply;
pub mod capi;
pub mod cli;
pub mod commands;
pub mod diff;
pub mod drift;
pub mod emulator;
pub mod enums;
pub mod exit;
pub mod graph;
pub mod ids;
pub mod import;
pub mod live_test;
pub mod manifest;
pub mod plan;
pub mod render;
pub mod report;
pub mod rule;
pub mod schema;
pub mod secret;
pub mod session;
pub mod shard;

/// The Graph API version convctl targets by default.
pub const DEFAULT_API_VERSION: &str = "v26.0";
/// The real Graph API's address.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
/// The at-most number of custom conversions per ad account (reference: Custom conversions).
pub const ACCOUNT_CAP: usize = 100;
