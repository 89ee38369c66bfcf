//! The fleet benchmark (docs/BENCHMARKS.md, `## fleet`): 500 accounts that each use one set
//! of 50 entries (params in names, descriptions, rules and tests), against the same 500
//! accounts written out in full. `validate` and `plan` (against the in-process emulator,
//! `--sandbox`, empty: 25,000 creates) of the fleet must be no slower than of the written-out
//! manifests: sets are expanded once per account, never re-parsed. Ignored in the normal
//! suite; run it with
//!
//! ```sh
//! cargo test --release --test suite fleets::bench -- --ignored --nocapture
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ACCOUNTS: usize = 500;
const ENTRIES: usize = 50;

/// Entry `i` of the set, as a template (`expand = None`) or written out for one account.
fn entry(s: &mut String, i: usize, values: Option<(&str, usize)>) {
    let (domain, value) = match values {
        Some((d, v)) => (d.to_string(), v.to_string()),
        None => ("${domain}".to_string(), "${purchase_value}".to_string()),
    };
    let quoted_value = match values {
        Some(_) => value.clone(),
        None => format!("\"{value}\""),
    };
    writeln!(s, "  - name: Conversion {i} ({domain})").unwrap();
    writeln!(s, "    description: Standard conversion {i} for {domain}").unwrap();
    match i % 4 {
        0 => {
            writeln!(
                s,
                "    custom_event_type: PURCHASE\n    default_conversion_value: {value}"
            )
            .unwrap();
            writeln!(s, "    rule:\n      and:\n        - event: {{eq: Purchase}}\n        - url: {{i_contains: \"{domain}/thank-you-{i}\"}}\n        - value: {{gt: {quoted_value}}}").unwrap();
            writeln!(s, "    tests:\n      match: [{{event: Purchase, url: \"https://{domain}/thank-you-{i}\", value: 100000}}]\n      no_match: [{{event: Purchase, url: \"https://{domain}/\", value: 100000}}]").unwrap();
        }
        1 => {
            writeln!(s, "    custom_event_type: LEAD").unwrap();
            writeln!(s, "    rule: {{or: [{{url: {{i_contains: \"{domain}/thanks-{i}\"}}}}, {{url: {{i_contains: \"{domain}/confirm-{i}\"}}}}]}}").unwrap();
            writeln!(s, "    tests:\n      match: [{{url: \"https://{domain}/Thanks-{i}\"}}]\n      no_match: [{{url: \"https://{domain}/\"}}]").unwrap();
        }
        2 => {
            writeln!(s, "    custom_event_type: CONTENT_VIEW").unwrap();
            writeln!(s, "    rule:\n      url: {{regex_match: '^https://(www\\.)?s\\.example/lp/(spring|summer){i}(/|\\?|$)'}}").unwrap();
        }
        _ => {
            writeln!(s, "    custom_event_type: COMPLETE_REGISTRATION").unwrap();
            writeln!(s, "    rule:\n      and:\n        - event: {{eq: CompleteRegistration}}\n        - url: {{i_contains: \"{domain}/welcome\"}}\n        - not: {{country: {{eq: XX}}}}").unwrap();
        }
    }
}

fn account_head(s: &mut String, a: usize) {
    writeln!(s, "version: 1\naccount: act_{}", 1_000_000_000 + a).unwrap();
    writeln!(
        s,
        "defaults:\n  event_source_id: \"{}\"\n  action_source_type: website",
        9_000_000_000u64 + a as u64
    )
    .unwrap();
}

fn values(a: usize) -> (String, usize) {
    (format!("shop-{a}.example"), 10 + a % 90)
}

/// `fleet/`: the set and 500 accounts using it; `written/`: the same accounts in full.
fn generate(root: &Path) -> (u64, u64) {
    let fleet = root.join("fleet");
    let written = root.join("written");
    std::fs::create_dir_all(fleet.join("sets")).unwrap();
    std::fs::create_dir_all(&written).unwrap();
    let mut set =
        String::from("version: 1\nset: standard\nparams: [domain, purchase_value]\nconversions:\n");
    for i in 0..ENTRIES {
        entry(&mut set, i, None);
    }
    std::fs::write(fleet.join("sets/standard.yaml"), &set).unwrap();
    let (mut fleet_bytes, mut written_bytes) = (set.len() as u64, 0);
    for a in 0..ACCOUNTS {
        let (domain, value) = values(a);
        let mut uses = String::new();
        account_head(&mut uses, a);
        writeln!(
            uses,
            "use:\n  - set: standard\n    params: {{domain: {domain}, purchase_value: {value}}}"
        )
        .unwrap();
        fleet_bytes += uses.len() as u64;
        std::fs::write(fleet.join(format!("account-{a:03}.yaml")), uses).unwrap();
        let mut full = String::new();
        account_head(&mut full, a);
        full.push_str("conversions:\n");
        for i in 0..ENTRIES {
            entry(&mut full, i, Some((&domain, value)));
        }
        written_bytes += full.len() as u64;
        std::fs::write(written.join(format!("account-{a:03}.yaml")), full).unwrap();
    }
    (fleet_bytes, written_bytes)
}

fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// One run of the binary: wall and CPU time, stdout.
fn run(dir: &Path, args: &[&str]) -> (Duration, Duration, String) {
    let cpu_before = children_cpu();
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("META_ACCESS_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = start.elapsed();
    let cpu = children_cpu() - cpu_before;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, cpu, String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Median wall and CPU of `n` runs (after one to warm the page cache), and the last stdout.
fn measure(
    dir: &Path,
    n: usize,
    args: impl Fn(usize) -> Vec<String>,
) -> (Duration, Duration, String) {
    let call = |k: usize| {
        let a = args(k);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run(dir, &a)
    };
    let _ = call(0);
    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut last = String::new();
    for k in 1..=n {
        let (w, c, out) = call(k);
        wall.push(w);
        cpu.push(c);
        last = out;
    }
    wall.sort();
    cpu.sort();
    (wall[n / 2], cpu[n / 2], last)
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn fleet_of_500_accounts_is_no_slower_than_written_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = match std::env::var_os("CONVCTL_BENCH_KEEP") {
        Some(keep) => std::path::PathBuf::from(keep),
        None => dir.path().to_path_buf(),
    };
    let (fleet_bytes, written_bytes) = generate(&root);
    let mut report = String::new();
    let mut results = Vec::new();
    for layout in ["written", "fleet"] {
        let (vw, vc, summary) = measure(&root, 5, |_| {
            vec!["validate".into(), "--quiet".into(), layout.into()]
        });
        assert!(
            summary.contains(&format!("{} conversions", ACCOUNTS * ENTRIES)),
            "{summary}"
        );
        let (pw, pc, plan) = measure(&root, 3, |k| {
            vec![
                format!("--sandbox=state-{layout}-{k}.json"),
                "--quiet".into(),
                "plan".into(),
                layout.into(),
            ]
        });
        assert!(
            plan.ends_with(&format!(
                "Plan: {} to create, 0 to update, 0 to replace, 0 to delete.\n",
                ACCOUNTS * ENTRIES
            )),
            "{}",
            &plan[plan.len().saturating_sub(200)..]
        );
        writeln!(
            report,
            "| {layout} | {:.1} MB | {:.2} s | {:.2} s | {:.2} s | {:.2} s | {} KB |",
            if layout == "fleet" {
                fleet_bytes
            } else {
                written_bytes
            } as f64
                / 1e6,
            vw.as_secs_f64(),
            vc.as_secs_f64(),
            pw.as_secs_f64(),
            pc.as_secs_f64(),
            plan.len() / 1000
        )
        .unwrap();
        results.push((vw, vc, pw, pc));
    }
    println!(
        "| layout | YAML | validate wall | validate CPU | plan wall | plan CPU | plan text |\n| --- | --- | --- | --- | --- | --- | --- |\n{report}"
    );
    let (written, fleet) = (results[0], results[1]);
    // "No slower": judged on CPU time (wall time on 2 shared cores measures the neighbours),
    // with 10% for noise.
    assert!(
        fleet.1.as_secs_f64() <= written.1.as_secs_f64() * 1.10,
        "validate: fleet CPU {:?} vs written out {:?}",
        fleet.1,
        written.1
    );
    assert!(
        fleet.3.as_secs_f64() <= written.3.as_secs_f64() * 1.10,
        "plan: fleet CPU {:?} vs written out {:?}",
        fleet.3,
        written.3
    );
}
