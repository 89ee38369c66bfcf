//! Crash safety: the `apply` process is killed with SIGKILL at seeded random moments — before,
//! during and after its writes — in 20 trials. After each kill, running `apply` again (a bounded
//! number of times) must converge to exactly the declared state: no duplicate (a create committed
//! just before the kill is recognised), nothing lost (a replacement cut off between its create and
//! its delete is finished), nothing unmanaged touched. The emulator is a separate process and
//! survives every kill.

use crate::support::child::ChildEmulator;
use crate::support::scenario::Scenario;
use crate::support::{Convctl, TOKEN};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::time::Duration;

const TRIALS: usize = 20;
const SEED: u64 = 0x5ca1e;
/// Writes one uninterrupted apply of a scenario makes (2 accounts × (4 updates, 4 × 2 for
/// replacements, 4 deletes, 10 creates)).
const WRITES: u64 = 52;

fn apply_args(trial: usize) -> Vec<&'static str> {
    // Plain requests in half the trials (many small writes to be cut between), batches of 10
    // in the other half (a kill may land while a batch is half committed).
    let batch = if trial.is_multiple_of(2) { "1" } else { "10" };
    vec![
        "--parallelism",
        "2",
        "--batch-size",
        batch,
        "apply",
        "--auto-approve",
        "--allow-mass-delete",
    ]
}

#[test]
fn apply_killed_at_random_points_converges_on_rerun() {
    let emulator = ChildEmulator::start(&["--token", TOKEN, "--latency-ms", "4"]);
    let mut rng = StdRng::seed_from_u64(SEED);

    // Calibrate: how long an uninterrupted apply of one scenario takes here, in each mode.
    let calibration: Vec<Duration> = (0..2)
        .map(|mode| {
            let dir = tempfile::tempdir().unwrap();
            let accounts = (0..2)
                .map(|k| format!("act_{}", 7_299_900 + mode * 10 + k))
                .collect();
            let scenario = Scenario::seed(&emulator, accounts, 20);
            scenario.write_manifests(dir.path());
            let args = apply_args(mode);
            let before = emulator.stats()["writes"].as_u64().unwrap();
            let run = Convctl::new()
                .against(&emulator.base)
                .current_dir(dir.path())
                .args(&args)
                .run();
            assert_eq!(run.code, 0, "{run}");
            let written = emulator.stats()["writes"].as_u64().unwrap() - before;
            assert_eq!(
                written, WRITES,
                "one apply of a scenario writes {WRITES} times"
            );
            scenario.check(&emulator.state()).unwrap();
            run.wall
        })
        .collect();

    let mut cut_mid_way = 0;
    for trial in 0..TRIALS {
        let dir = tempfile::tempdir().unwrap();
        let accounts = (0..2)
            .map(|k| format!("act_{}", 7_200_000 + trial * 10 + k))
            .collect();
        let scenario = Scenario::seed(&emulator, accounts, 20);
        scenario.write_manifests(dir.path());
        let args = apply_args(trial);
        let writes_before = emulator.stats()["writes"].as_u64().unwrap();
        // Half the trials die right after the emulator committed their k-th write (its answer
        // possibly still on the way); the other half at a random moment, which may fall
        // before the first write (start-up, listing) or after the last.
        let kill_at_write = trial % 4 < 2;
        let k = rng.random_range(0..=WRITES);
        let kill_after = calibration[trial % 2].mul_f64(rng.random_range(0.05..1.0));
        let by_progress =
            |_: Duration| emulator.stats()["writes"].as_u64().unwrap() - writes_before >= k;
        let by_time = |elapsed: Duration| elapsed >= kill_after;
        let kill_when: &(dyn Fn(Duration) -> bool + Sync) = if kill_at_write {
            &by_progress
        } else {
            &by_time
        };
        let first = Convctl::new()
            .against(&emulator.base)
            .current_dir(dir.path())
            .args(&args)
            .kill_when(kill_when)
            .run();
        assert!(!first.stderr.contains("panicked"), "{first}");
        let killed = first.signal == Some(libc::SIGKILL);
        let written = emulator.stats()["writes"].as_u64().unwrap() - writes_before;

        let mut reruns = 0;
        loop {
            reruns += 1;
            let run = Convctl::new()
                .against(&emulator.base)
                .current_dir(dir.path())
                .args(&args)
                .run();
            assert!(
                !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
                "token leaked"
            );
            if run.code == 0 {
                break;
            }
            assert!(
                reruns < 3,
                "trial {trial} (killed with {written} writes done): rerun {reruns} failed:\n{run}"
            );
        }
        if let Err(problems) = scenario.check(&emulator.state()) {
            panic!(
                "trial {trial}: killed ({written} writes committed), {reruns} rerun(s), live state is wrong:\n  {}",
                problems.join("\n  ")
            );
        }
        if killed && written > 0 {
            cut_mid_way += 1;
        }
        eprintln!(
            "trial {trial}: kill {}: {} with {written} writes committed; converged in {reruns} rerun(s)",
            if kill_at_write {
                format!("after write {k}")
            } else {
                format!("after {} ms", kill_after.as_millis())
            },
            if killed { "killed" } else { "finished first" },
        );
    }
    assert!(
        cut_mid_way >= TRIALS / 4,
        "only {cut_mid_way} of {TRIALS} trials were cut while writing (calibration {calibration:?}): the test would prove little"
    );
}
