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

/// The default Graph API version as a literal, for `concat!` (`convctl --version`); read
/// [`DEFAULT_API_VERSION`] everywhere else.
macro_rules! default_api_version {
    () => {
        "v27.0"
    };
}

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

/// The Graph API version convctl targets by default: v27.0, the newest in the version
/// calendar (`model::api_versions`), released 2026-11-04.
///
/// Why not v26.0, which the official SDKs of the time send (facebook-business 26.0.x, the
/// Node SDK): Meta has published no expiry for v26.0, and the least it promises is 90 days
/// after its successor, 2027-02-02; a default that may expire within two months would warn on
/// every command from the day it ships. The custom conversion endpoints have not changed in
/// any version (v6 to v26: the SDKs' generated code and history), so the newest version asks
/// nothing new of convctl, and it stays longest (no successor yet). Anyone who prefers what
/// the SDKs send passes `--api-version v26.0` until it nears its expiry.
pub const DEFAULT_API_VERSION: &str = default_api_version!();
/// The real Graph API's address.
pub const DEFAULT_API_BASE: &str = "https://graph.facebook.com";
/// The at-most number of custom conversions per ad account (reference: Custom conversions).
pub const ACCOUNT_CAP: usize = 100;
