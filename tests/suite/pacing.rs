//! Meta's development access tier as a user meets it (`convctl emulator --tier development`):
//! an account's score allows about 20 writes per window, so an apply of more spreads its
//! writes, tells each wait, and is never refused; `plan` and `apply` say beforehand how long
//! the writes take, and `apply` refuses before any write when that outlasts `--timeout`.
//!
//! The score window is shortened (`--score-window`): the same model in a second or a minute
//! instead of Meta's 5 minutes, so no test waits long.

use crate::assert_run;
use crate::support::generate::manifest_document;
use crate::support::{Harness, Run};
use convctl::emulator::EmulatorConfig;
use convctl::model::access_tier::AccessTier;
use std::time::Duration;

fn development(window: Duration) -> Harness {
    Harness::with(EmulatorConfig {
        tier: AccessTier::Development,
        score_window: window,
        ..EmulatorConfig::default()
    })
}

/// Durations in convctl's notes vary from run to run (and by profile: the strict one costs a
/// read more): `waiting 950ms for`, `take about 2s at` and `need about 2s at` become
/// `waiting [time] for`, `take about [time] at` and `need about [time] at` in its snapshot.
fn without_times(run: &mut Run) {
    run.filters.push((
        r"waiting [0-9][0-9a-z .]* for Meta's".to_string(),
        "waiting [time] for Meta's".to_string(),
    ));
    run.filters.push((
        r"(take|need) about [0-9][0-9a-z .]* at Meta's".to_string(),
        "${1} about [time] at Meta's".to_string(),
    ));
}

/// The conversions the emulator holds (its state: not a call against the score).
fn conversions(env: &Harness) -> usize {
    env.emulator().state()["conversions"]
        .as_array()
        .map_or(0, Vec::len)
}

/// 46 creates at the development tier (the score's room: 19 writes at a time): the plan says
/// how long they take; the apply sends them in batches of at most 19 as the score decays,
/// tells each wait, gets no throttling answer, and a second apply has nothing to do.
#[test]
fn an_apply_beyond_the_budget_spreads_its_writes_and_is_never_refused() {
    let env = development(Duration::from_secs(1));
    env.write("conversions/a.yaml", &manifest_document("act_1", 46, 0));
    let mut plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    without_times(&mut plan);
    assert_run!("development_plan", plan);
    let mut applied = env.run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    without_times(&mut applied);
    assert_run!("development_apply", applied);
    let stats = env.emulator().stats();
    assert_eq!(stats["throttled"], 0, "{stats}");
    assert_eq!(stats["writes"], 46, "{stats}");
    // Counted in the emulator's state: a listing of the test's own would count against the
    // account's score too, as another tool's calls do on Meta, and could leave no room for
    // the next command's first call (which cannot know the score before its answer).
    assert_eq!(conversions(&env), 46);
    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("No changes."), "{again}");
    assert_eq!(env.emulator().stats()["throttled"], 0);
}

/// With a minute's window (1 point a second), 46 creates need about 81 s (138 points and the
/// read after them, less the 59 that fit at once): `apply --timeout 30s` says so before any
/// write, with the ways out; the markdown plan notes the time.
#[test]
fn apply_refuses_before_any_write_when_the_writes_outlast_the_timeout() {
    let env = development(Duration::from_secs(60));
    env.write("conversions/a.yaml", &manifest_document("act_1", 46, 0));
    let mut applied = env.run(&["--timeout", "30s", "apply", "--auto-approve"]);
    assert_eq!(applied.code, 1, "{applied}");
    without_times(&mut applied);
    assert_run!("development_timeout", applied);
    assert!(
        applied.stderr.contains("46 writes need about 1m 2"),
        "{applied}"
    );
    let stats = env.emulator().stats();
    assert_eq!(
        (stats["writes"].as_u64(), stats["throttled"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(conversions(&env), 0);
    let md = env.run(&["plan", "--format", "markdown"]);
    assert_eq!(md.code, 0, "{md}");
    assert!(
        md.stdout
            .contains("> **Note:** act&#95;1&#58; 46 writes take about 1m 2"),
        "{md}"
    );
}

/// At the standard tier (the emulator's default) the same apply waits for nothing.
#[test]
fn the_standard_tier_does_not_pace_an_apply() {
    let env = Harness::new();
    env.write("conversions/a.yaml", &manifest_document("act_1", 46, 0));
    let applied = env.run(&["-v", "apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(!applied.stderr.contains("waiting"), "{applied}");
    assert!(!applied.stderr.contains("waited "), "{applied}");
    assert_eq!(env.emulator().stats()["throttled"], 0);
}
