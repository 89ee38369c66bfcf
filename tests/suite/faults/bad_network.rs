//! A bad network day: with the emulator failing 20% of requests before
//! doing anything and losing the answer to 10% of committed writes, one `apply` of 20 accounts
//! × 50 conversions that needs every kind of change (updates, replacements, deletes by prune
//! and by tombstone, creates) must end with live state exactly as declared — no duplicate,
//! nothing extra deleted, the unmanaged conversions untouched — in one run, or after a reported
//! partial failure (exit 1) in a bounded number of further runs. The emulator is a separate
//! process; convctl is the real binary.

use crate::assert_run;
use crate::support::child::ChildEmulator;
use crate::support::scenario::Scenario;
use crate::support::{Convctl, TOKEN};
use serde_json::json;

/// Runs after the first one that may be needed to finish (each reports what it did).
const MAX_RUNS: usize = 4;

#[test]
fn apply_under_faults_converges_exactly() {
    let emulator = ChildEmulator::start(&[
        "--token",
        TOKEN,
        "--seed",
        "20261125",
        "--score-window",
        crate::support::emulator::FAULT_SCORE_WINDOW_ARG,
    ]);
    let accounts: Vec<String> = (0..20).map(|i| format!("act_{}", 7_100_000 + i)).collect();
    let scenario = Scenario::seed(&emulator, accounts, 50);
    let dir = tempfile::tempdir().unwrap();
    scenario.write_manifests(dir.path());
    emulator.set_faults(&json!({"fault_rate": 0.2, "drop_after_commit": 0.1}));

    let args = [
        "--parallelism",
        "8",
        "apply",
        "--auto-approve",
        "--allow-mass-delete",
    ];
    let mut runs = Vec::new();
    loop {
        let run = Convctl::new()
            .against(&emulator.base)
            .current_dir(dir.path())
            .args(&args)
            .run();
        assert!(
            !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
            "token leaked"
        );
        assert!(!run.stderr.contains("panicked"), "apply panicked:\n{run}");
        match run.code {
            0 => {
                assert!(
                    run.stdout.contains("Apply complete") || run.stdout.contains("No changes."),
                    "{run}"
                );
                runs.push(run);
                break;
            }
            1 => {
                // A partial failure must say so and how to finish; then we run again.
                let said =
                    run.stdout.contains("Apply failed part way") || run.stderr.contains("error:");
                assert!(said, "exit 1 without saying what failed:\n{run}");
                for line in run.stdout.lines().chain(run.stderr.lines()) {
                    if line.contains("FAILED") || line.contains("error") {
                        eprintln!("run {}: {line}", runs.len() + 1);
                    }
                }
                runs.push(run);
                assert!(
                    runs.len() < MAX_RUNS,
                    "still not converged after {MAX_RUNS} runs; last:\n{}",
                    runs.last().unwrap()
                );
            }
            other => panic!("unexpected exit {other:?}:\n{run}"),
        }
    }
    let stats = emulator.stats();
    assert!(
        stats["faults_injected"].as_u64().unwrap() > 0
            && stats["answers_dropped"].as_u64().unwrap() > 0,
        "the faults must actually have happened: {stats}"
    );
    emulator.set_faults(&json!({"fault_rate": 0.0, "drop_after_commit": 0.0}));
    if let Err(problems) = scenario.check(&emulator.state()) {
        panic!(
            "live state differs from the manifests after {} run(s):\n  {}\nlast run:\n{}",
            runs.len(),
            problems.join("\n  "),
            runs.last().unwrap()
        );
    }
    let plan = Convctl::new()
        .against(&emulator.base)
        .current_dir(dir.path())
        .args(&["plan"])
        .run();
    assert_run!(plan, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_7100000 (conversions/act_7100000.yaml): no changes.

    act_7100001 (conversions/act_7100001.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000101)

    act_7100002 (conversions/act_7100002.yaml): no changes.

    act_7100003 (conversions/act_7100003.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000202)

    act_7100004 (conversions/act_7100004.yaml): no changes.

    act_7100005 (conversions/act_7100005.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000303)

    act_7100006 (conversions/act_7100006.yaml): no changes.

    act_7100007 (conversions/act_7100007.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000404)

    act_7100008 (conversions/act_7100008.yaml): no changes.

    act_7100009 (conversions/act_7100009.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000505)

    act_7100010 (conversions/act_7100010.yaml): no changes.

    act_7100011 (conversions/act_7100011.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000606)

    act_7100012 (conversions/act_7100012.yaml): no changes.

    act_7100013 (conversions/act_7100013.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000707)

    act_7100014 (conversions/act_7100014.yaml): no changes.

    act_7100015 (conversions/act_7100015.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000808)

    act_7100016 (conversions/act_7100016.yaml): no changes.

    act_7100017 (conversions/act_7100017.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000000909)

    act_7100018 (conversions/act_7100018.yaml): no changes.

    act_7100019 (conversions/act_7100019.yaml): no changes.

      Unmanaged (1): live, declared nowhere; listed only (`prune: true` deletes them):
        ? "Made by hand" (id 23850000000001010)

    No changes.
    ----- stderr -----
    "#);

    eprintln!(
        "converged in {} run(s); emulator: {} faults injected, {} answers dropped; {stats}",
        runs.len(),
        stats["faults_injected"],
        stats["answers_dropped"]
    );
}
