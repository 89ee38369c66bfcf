//! The `validate` benchmark (docs/BENCHMARKS.md, `## validate`): 500 manifests of 100
//! conversions each, with realistic rules (URL, value, custom-parameter and regex conditions)
//! and rule tests, validated by the release binary. Ignored in the normal suite; run it with
//!
//! ```sh
//! cargo test --release --test suite manifest::bench -- --ignored --nocapture
//! ```
//!
//! Set `CONVCTL_BENCH_KEEP=DIR` to also write the generated manifests to DIR (for timing the
//! binary by hand).

use crate::support::Convctl;
use std::fmt::Write as _;
use std::time::Duration;

const FILES: usize = 500;
const CONVERSIONS: usize = 100;

fn manifest(account: usize) -> String {
    let mut s = String::with_capacity(40_000);
    writeln!(s, "# yaml-language-server: $schema=../../schema.json").unwrap();
    writeln!(s, "version: 1\naccount: act_{}", 1_000_000_000 + account).unwrap();
    writeln!(
        s,
        "defaults:\n  event_source_id: \"{}\"\n  action_source_type: website",
        9_000_000_000u64 + account as u64
    )
    .unwrap();
    writeln!(s, "prune: false\nconversions:").unwrap();
    for i in 0..CONVERSIONS {
        writeln!(s, "  - name: Conversion {i} of account {account}").unwrap();
        writeln!(
            s,
            "    description: Generated for the validate benchmark ({i})"
        )
        .unwrap();
        match i % 4 {
            0 => {
                writeln!(
                    s,
                    "    custom_event_type: PURCHASE\n    default_conversion_value: {}",
                    i * 3
                )
                .unwrap();
                writeln!(s, "    rule:\n      and:\n        - event: {{eq: Purchase}}\n        - value: {{gt: {i}}}\n        - currency: {{eq: EUR}}").unwrap();
                writeln!(s, "    tests:\n      match: [{{event: Purchase, value: {}, currency: EUR}}]\n      no_match: [{{event: Purchase, value: 0, currency: EUR}}]", i + 1).unwrap();
            }
            1 => {
                writeln!(s, "    custom_event_type: LEAD").unwrap();
                writeln!(s, "    rule: '{{\"or\":[{{\"url\":{{\"i_contains\":\"thankyou-{i}.html\"}}}},{{\"url\":{{\"i_contains\":\"confirm-{i}\"}}}}]}}'").unwrap();
                writeln!(s, "    tests:\n      match: [{{url: \"https://s.example/ThankYou-{i}.html\"}}]\n      no_match: [{{url: \"https://s.example/\"}}]").unwrap();
            }
            2 => {
                writeln!(s, "    custom_event_type: CONTENT_VIEW").unwrap();
                writeln!(s, "    rule:\n      url: {{regex_match: '^https://(www\\.)?s\\.example/lp/(spring|summer){i}(/|\\?|$)'}}").unwrap();
                writeln!(s, "    tests:\n      match: [{{url: \"https://s.example/lp/spring{i}\"}}]\n      no_match: [{{url: \"https://s.example/lp/winter{i}\"}}]").unwrap();
            }
            _ => {
                writeln!(
                    s,
                    "    id: \"{}\"\n    custom_event_type: COMPLETE_REGISTRATION",
                    23_850_000_000_000_000u64 + (account * CONVERSIONS + i) as u64
                )
                .unwrap();
                writeln!(s, "    rule:\n      and:\n        - event: {{eq: CompleteRegistration}}\n        - plan: {{i_not_contains: trial}}\n        - not: {{country: {{eq: XX}}}}").unwrap();
            }
        }
    }
    s
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn validate_500_manifests_of_100_conversions() {
    let dir = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("CONVCTL_BENCH_KEEP") {
        Some(keep) => std::path::PathBuf::from(keep),
        None => dir.path().to_path_buf(),
    };
    let conversions = root.join("conversions");
    std::fs::create_dir_all(&conversions).unwrap();
    let mut bytes = 0;
    for a in 0..FILES {
        let text = manifest(a);
        bytes += text.len();
        std::fs::write(conversions.join(format!("account-{a:03}.yaml")), text).unwrap();
    }
    let run = || {
        let out = Convctl::new()
            .args(&["validate", "--quiet"])
            .arg(&conversions)
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        (out.wall, out.cpu, out.stdout.trim().to_string())
    };
    let _warm = run();
    let runs: Vec<(Duration, Duration)> = (0..5).map(|_| run()).map(|(w, c, _)| (w, c)).collect();
    let (_, _, summary) = run();
    assert!(
        summary.contains(&format!("{} conversions", FILES * CONVERSIONS)),
        "{summary}"
    );
    let mut wall: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    let mut cpu: Vec<Duration> = runs.iter().map(|r| r.1).collect();
    wall.sort();
    cpu.sort();
    println!(
        "validate: {FILES} files x {CONVERSIONS} conversions ({:.1} MB): wall best {:?}, median {:?}, worst {:?}; \
         CPU (user+sys, all threads) best {:?}, median {:?} -- {summary}",
        bytes as f64 / 1e6,
        wall[0],
        wall[2],
        wall[4],
        cpu[0],
        cpu[2]
    );
    // The target is judged on CPU time: the wall time on an idle machine is at most the CPU time
    // (loading runs on all cores), while the wall time on a machine shared with other jobs says
    // more about the neighbours than about convctl.
    assert!(
        cpu[2] < Duration::from_secs(2),
        "median CPU time {:?} is over the 2 s target",
        cpu[2]
    );
}
