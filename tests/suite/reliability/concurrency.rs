//! Two applies that meet: a manual run beside the pipeline, or a rerun while
//! the first is still going. Two `convctl apply` runs are started together on the same
//! manifests (5 accounts needing creates, updates, replacements and deletes), then one more
//! apply: live state must end exactly as declared — no duplicate, no lost conversion, nothing
//! unmanaged touched — in every trial of a seeded series; and the same when one of the two is
//! killed with SIGKILL part way. Deletes that find the conversion gone (the other run deleted it)
//! are "already gone", never failures; duplicates the two runs made are repaired by the next.

use crate::support::child::ChildEmulator;
use crate::support::scenario::Scenario;
use crate::support::{self, Convctl, Run as Measured, TOKEN};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::path::Path;
use std::time::Duration;

const SEED: u64 = 0xc0_ffee;
/// Trials with both runs finishing, then trials where one is killed.
const TRIALS: usize = 4;
const KILL_TRIALS: usize = 4;
const ARGS: &[&str] = &[
    "--parallelism",
    "4",
    "--batch-size",
    "5",
    "--timeout",
    "60s",
    "apply",
    "--auto-approve",
];

fn convctl(emulator: &ChildEmulator, dir: &Path, args: &[&str]) -> Measured {
    Convctl::new()
        .against(&emulator.base)
        .current_dir(dir)
        .args(args)
        .run()
}

fn no_leak(run: &Measured) {
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "token leaked"
    );
    assert!(!run.stderr.contains("panicked"), "{run}");
}

/// Two applies in the same directory, the second started `stagger` after the first; with
/// `kill: (who, k)`, run `who` gets SIGKILL once the emulator has committed `k` writes since
/// the race began (its answer possibly still on the way).
fn race(
    emulator: &ChildEmulator,
    dir: &Path,
    stagger: Duration,
    kill: Option<(usize, u64)>,
) -> [Measured; 2] {
    let writes = || emulator.stats()["writes"].as_u64().unwrap();
    let start = writes();
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|i| {
                s.spawn(move || {
                    if i == 1 {
                        std::thread::sleep(stagger);
                    }
                    let at = kill.filter(|(who, _)| *who == i).map(|(_, k)| k);
                    let by_progress = move |_: Duration| at.is_some_and(|k| writes() - start >= k);
                    let run = Convctl::new()
                        .against(&emulator.base)
                        .current_dir(dir)
                        .args(ARGS);
                    match at {
                        Some(_) => run.kill_when(&by_progress).run(),
                        None => run.run(),
                    }
                })
            })
            .collect();
        let mut done = runs.into_iter().map(|h| h.join().expect("runner thread"));
        [done.next().unwrap(), done.next().unwrap()]
    })
}

fn trial(
    emulator: &ChildEmulator,
    trial: usize,
    stagger: Duration,
    kill: Option<(usize, u64)>,
) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let accounts = (0..5)
        .map(|k| format!("act_{}", 7_500_000 + trial * 10 + k))
        .collect();
    let scenario = Scenario::seed(emulator, accounts, 10);
    scenario.write_manifests(dir.path());
    let [a, b] = race(emulator, dir.path(), stagger, kill);
    for (i, run) in [&a, &b].into_iter().enumerate() {
        no_leak(run);
        let killed = run.signal == Some(libc::SIGKILL);
        if kill.is_some_and(|(who, _)| who == i) && killed {
            continue;
        }
        // Meeting another apply is not a failure: its deletes are "already gone". Where rules
        // are unique (the strict profile, as Meta answers), the other apply's creates hold the
        // rules, so this one's creates are refused (subcode 1760002) and it exits 1 saying so:
        // that and nothing else.
        let refused_as_duplicates = support::profile::strict()
            && run.code == 1
            && run
                .stdout
                .lines()
                .filter(|l| l.contains(": FAILED "))
                .all(|l| l.contains("subcode 1760002"));
        assert!(
            run.code == 0 || refused_as_duplicates,
            "trial {trial}: run {i} (stagger {stagger:?}, kill {kill:?}) failed:\n{run}"
        );
    }
    let met = [&a, &b].iter().any(|r| r.stdout.contains("already gone"));
    // One more apply repairs what the two made twice.
    let third = convctl(emulator, dir.path(), ARGS);
    no_leak(&third);
    assert_eq!(third.code, 0, "trial {trial}: the third apply:\n{third}");
    let repaired = third.stdout.matches("duplicate): deleted").count();
    if let Err(problems) = scenario.check(&emulator.state()) {
        panic!(
            "trial {trial} (stagger {stagger:?}, kill {kill:?}): live state is wrong after the third apply:\n  {}\nthird:\n{third}",
            problems.join("\n  ")
        );
    }
    let plan = convctl(emulator, dir.path(), &["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(plan.stdout.trim_end().ends_with("No changes."), "{plan}");
    eprintln!(
        "trial {trial}: stagger {} ms, kill {kill:?}: runs exit {:?}/{:?} (signal {:?}/{:?}), already gone seen: {met}, duplicates repaired: {repaired}",
        stagger.as_millis(),
        a.code,
        b.code,
        a.signal,
        b.signal,
    );
    [&a, &b].iter().any(|r| r.signal == Some(libc::SIGKILL))
}

#[test]
fn two_applies_that_meet_end_exact_after_one_more() {
    let emulator = ChildEmulator::start(&["--token", TOKEN, "--latency-ms", "5"]);
    let mut rng = StdRng::seed_from_u64(SEED);

    // How long one uninterrupted apply of a scenario takes here (to place the kills).
    let dir = tempfile::tempdir().unwrap();
    let accounts = (0..5).map(|k| format!("act_{}", 7_599_900 + k)).collect();
    let scenario = Scenario::seed(&emulator, accounts, 10);
    scenario.write_manifests(dir.path());
    let alone = convctl(&emulator, dir.path(), ARGS);
    assert_eq!(alone.code, 0, "{alone}");
    scenario.check(&emulator.state()).unwrap();

    let mut duplicates_made = 0;
    let mut killed = 0;
    for t in 0..TRIALS + KILL_TRIALS {
        let stagger = Duration::from_millis(rng.random_range(0..20));
        // Killed after 1 to 60 of the (65 to 130) writes the two make.
        let kill =
            (t >= TRIALS).then(|| (rng.random_range(0..2usize), rng.random_range(1..=60u64)));
        let before = emulator.stats()["writes"].as_u64().unwrap();
        killed += usize::from(trial(&emulator, t, stagger, kill));
        let writes = emulator.stats()["writes"].as_u64().unwrap() - before;
        // One apply of a scenario writes 65 times; two that met wrote more (both created).
        if writes > 65 {
            duplicates_made += 1;
        }
    }
    assert_eq!(
        killed, KILL_TRIALS,
        "every kill trial cut a run while it wrote"
    );
    assert!(
        duplicates_made >= 2,
        "the runs hardly overlapped ({duplicates_made} trials wrote more than one apply's worth): the test would prove little"
    );
}
