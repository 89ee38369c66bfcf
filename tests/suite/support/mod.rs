//! The one support tree of the integration suite:
//! - [`binary`]: the `convctl` command builder every test runs the real binary with;
//! - [`emulator`]: the emulator in this process; [`child`]: `convctl emulator` as a child;
//!   [`profile`]: the emulator profile of a run, and which tests start an emulator;
//! - [`harness`]: an in-process emulator, a working directory and convctl pointed at both;
//! - [`stub`]: a Graph API stand-in answering what a test says; [`client`]: the library client;
//! - [`generate`] and [`scenario`]: generated manifests, seeds and the reliability scenario;
//! - [`ci`]: the CI templates and a runner for their scripts; [`json`]: JSON walking;
//! - [`snapshot`]: whole-output assertions of a run (`assert_run!`);
//! - [`tools`]: the outside programs some tests drive (Chromium among them), required in CI; [`language_server`]:
//!   an LSP client, to see manifests as an editor does; [`markdown`]: GitHub-flavoured
//!   markdown rendered as GitHub does.

pub mod binary;
pub mod child;
pub mod ci;
pub mod client;
pub mod emulator;
pub mod generate;
pub mod harness;
pub mod json;
pub mod language_server;
pub mod markdown;
pub mod profile;
pub mod scenario;
pub mod snapshot;
pub mod stub;
pub mod tools;

pub use binary::{APP_SECRET, Convctl, Run, TOKEN};
pub use harness::{Harness, copy_examples};

use std::time::Duration;

/// Runs blocking work (a convctl run, a CI script) off the async test's runtime threads, so the
/// in-process emulator keeps serving meanwhile; bounded in time. The work is done on behalf of
/// the calling test (an emulator it starts is that test's, see [`profile`]).
pub async fn in_background<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let test = profile::current_test();
    let work = move || profile::for_test(test, work);
    tokio::time::timeout(Duration::from_secs(120), tokio::task::spawn_blocking(work))
        .await
        .expect("in time")
        .unwrap()
}

/// The Unix time now, in seconds (event times).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
