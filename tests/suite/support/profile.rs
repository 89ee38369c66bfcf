//! Which emulator profile a test run uses, and which tests talk to an emulator at all.
//!
//! `scripts/test` runs the suite once with `CONVCTL_TEST_EMULATOR_LOG=FILE`: every emulator a
//! test starts, in this process or as a child, appends that test's name to FILE. It then runs
//! exactly those tests again with `CONVCTL_TEST_STRICT=1`, which starts each of their
//! emulators with the strict profile; they must pass under both. There is no list to keep: a
//! new test that starts an emulator is in the strict run by construction. A test that sets
//! the profile itself (to compare the two) starts its emulator with the profile it names and
//! is not recorded.
//!
//! `CONVCTL_TEST_REFUSE_DELETES=1` starts every emulator refusing deletes instead; scripts/test
//! runs the convergence tests so (see [`refuse_deletes`]).
//!
//! Shared by `benches/scale.rs` (by path): std only.

use std::io::Write;

/// Whether this run asks for the strict profile (`CONVCTL_TEST_STRICT=1`).
pub fn strict() -> bool {
    std::env::var("CONVCTL_TEST_STRICT").is_ok_and(|v| v == "1")
}

/// Whether this run asks for an emulator that refuses every delete, as the real API answers
/// most apps (`CONVCTL_TEST_REFUSE_DELETES=1`). scripts/test runs the convergence tests
/// (`converge::`) so: their results legitimately differ (retired instead of deleted), and
/// they must converge all the same.
pub fn refuse_deletes() -> bool {
    std::env::var("CONVCTL_TEST_REFUSE_DELETES").is_ok_and(|v| v == "1")
}

/// Records that the running test starts an emulator, when `CONVCTL_TEST_EMULATOR_LOG` names a
/// file. libtest runs each test on a thread named after it; work handed to another thread
/// says for which test with [`for_test`]. An emulator started where no test is known cannot
/// be attributed, so that fails the recording run rather than leave the test out of the
/// strict one.
pub fn record_emulator_start() {
    let Some(log) = std::env::var_os("CONVCTL_TEST_EMULATOR_LOG") else {
        return;
    };
    // libtest runs every test on a thread of its own, never on `main`: a start there is the
    // benchmark's (it shares this file), which scripts/test runs strict as a whole.
    if std::thread::current().name() == Some("main") {
        return;
    }
    let test = current_test().unwrap_or_default();
    assert!(
        test.contains("::"),
        "an emulator started on thread {:?}, which runs no test: start it on the test's \
         thread, or hand the work over with `in_background` (it says for which test), so \
         that scripts/test can run this test again under the strict profile",
        std::thread::current().name()
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .unwrap_or_else(|e| panic!("{}: {e}", std::path::Path::new(&log).display()));
    // One write of one short line: appends from parallel tests do not interleave.
    file.write_all(format!("{test}\n").as_bytes()).unwrap();
}

std::thread_local! {
    /// The test this thread works for, when it is not the test's own thread.
    static WORKING_FOR: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The test this thread runs or works for: the one [`for_test`] names, else the thread's
/// name (libtest's, for a test's own thread).
pub fn current_test() -> Option<String> {
    WORKING_FOR
        .with(|t| t.borrow().clone())
        .or_else(|| std::thread::current().name().map(str::to_string))
}

/// Runs `work` on this thread on behalf of `test` (from [`current_test`] on the test's own
/// thread), so that an emulator it starts is recorded for that test.
pub fn for_test<T>(test: Option<String>, work: impl FnOnce() -> T) -> T {
    let before = WORKING_FOR.with(|t| t.replace(test));
    let out = work();
    WORKING_FOR.with(|t| *t.borrow_mut() = before);
    out
}
