//! convctl: Meta custom conversions as code.
//!
//! The modules mirror the data flow (see `docs/ARCHITECTURE.md`):
//! - `model`: the shared vocabulary (ids, secrets, event types, the live model);
//! - `manifest` (YAML files → desired model, with source locations) and `rule` (parse,
//!   canonicalise, validate, evaluate);
//! - `diff` (desired × live → plan, pure) and `plan` (the document, saved and loaded);
//! - `report` (the health report: drift, conversions that do not fire, the cap; pure) and
//!   `render` (text, JSON, markdown, HTML; findings of `validate`/`test`);
//! - `reconcile`: the operations (compare, apply, import, test --live) over the `LiveApi` seam;
//! - `graph` (the Graph API client) and `emulator` (a local Graph API), which never import
//!   each other; `events` (Conversions API event validation) is shared by both sides;
//! - `cli`: the command line, sessions, exit codes and one thin shell per command.

pub mod cli;
pub mod diff;
pub mod emulator;
pub mod events;
pub(crate) mod file_io;
pub mod graph;
pub mod manifest;
pub mod model;
pub mod plan;
pub mod reconcile;
pub mod render;
pub mod report;
pub mod rule;

#[cfg(test)]
mod layering;

/// The Graph API version convctl targets by default.
pub const DEFAULT_API_VERSION: &str = "v26.0";
/// The real Graph API's address.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
/// The at-most number of custom conversions per ad account (reference: Custom conversions).
pub const ACCOUNT_CAP: usize = 100;
