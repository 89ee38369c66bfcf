//! Operations: what `plan`, `apply`, `drift`, `import` and `test --live` do, as library
//! functions returning values. Each reaches live state only through [`LiveApi`], so every
//! decision is tested against in-memory fakes as well as the emulator.
//!
//! - [`compare`]: list the selected accounts and diff each (shared by plan, apply and drift);
//! - [`apply`]: execute a plan in phases and report exactly what was done;
//! - [`import`]: live accounts → manifests with ids pinned ([`import_set`]: as uses of a set);
//! - [`report`]: the health report: one survey, each account judged, daily counts on request;
//! - [`test_events`]: rule-test examples → Conversions API server events;
//! - [`shard`]: `--shard K/N`, a stable share of the accounts;
//! - [`staleness`]: is a saved or approved plan still true of live state?
//! - [`verify`]: after an apply, re-read what was written and report what the API stored
//!   differently from what was sent.
//!
//! It never parses the command line and never prints: commands in `cli` do both.

pub mod apply;
pub(crate) mod import;
pub(crate) mod import_set;
mod live_api;
pub mod report;
pub mod shard;
pub(crate) mod staleness;
pub mod survey;
pub(crate) mod test_events;
pub(crate) mod verify;

pub(crate) use live_api::{LiveApi, PauseSource, Progress};
