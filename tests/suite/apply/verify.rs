//! Issue 12, item 4: after an apply, the accounts written are read again and anything the API
//! stored differently from what was sent is reported per conversion and field (sent, stored),
//! with exit 1 and a hint: never a silent loop where every apply replaces the same conversion.
//! The emulator's `--rewrite-rules` (lower-cases `eq` strings of created rules) plays the API
//! that rewrites a rule in a way convctl does not know is equivalent.

use crate::support::child::ChildEmulator;
use crate::support::{Harness, TOKEN};
use convctl::emulator::EmulatorConfig;

const MANIFEST: &str = r#"
account: act_1
defaults:
  event_source_id: "555"
conversions:
  - name: Big purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
  - name: Thank you
    custom_event_type: PURCHASE
    rule: {url: {i_contains: thankyou}}
"#;

fn rewriting() -> Harness {
    Harness::with(EmulatorConfig {
        rewrite_rules: true,
        ..EmulatorConfig::default()
    })
}

#[test]
fn a_rule_the_api_rewrites_is_reported_per_conversion_and_field() {
    let env = rewriting();
    env.write("conversions/acme.yaml", MANIFEST);
    let run = env.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{run}");
    // The writes themselves were done and said so.
    assert!(
        run.stdout.contains("Apply complete: 2 of 2 actions done."),
        "{run}"
    );
    let id = env.id_of("act_1", "Big purchase");
    let line = format!(
        "error: inconsistent result after apply: act_1: \"Big purchase\" (id {id}): rule: sent {{\"and\":[{{\"event\":{{\"eq\":\"Purchase\"}}}},{{\"value\":{{\"gt\":100}}}}]}}, stored {{\"and\":[{{\"event\":{{\"eq\":\"purchase\"}}}},{{\"value\":{{\"gt\":100}}}}]}}"
    );
    assert!(run.stderr.contains(&line), "{line}\n{run}");
    assert!(
        run.stderr.contains("write it in the manifest as stored")
            && run.stderr.contains("report it"),
        "the hint: {run}"
    );
    // Only the rewritten conversion is reported: the other one was stored as sent.
    assert_eq!(
        run.stderr
            .matches("inconsistent result after apply: act_1:")
            .count(),
        1,
        "{run}"
    );
    assert!(!run.stderr.contains("Thank you"), "{run}");

    // The next apply would replace it again: it says so again, and fails again, instead of
    // looping silently.
    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 1, "{again}");
    assert!(
        again.stderr.contains("inconsistent result after apply"),
        "{again}"
    );
}

#[test]
fn a_saved_plan_is_checked_the_same_way() {
    let env = rewriting();
    env.write("conversions/acme.yaml", MANIFEST);
    let plan = env.run(&["plan", "--out", "p.json"]);
    assert_eq!(plan.code, 0, "{plan}");
    let run = env.run(&["apply", "--plan", "p.json", "--auto-approve"]);
    assert_eq!(run.code, 1, "{run}");
    assert!(
        run.stderr.contains("\"Big purchase\"") && run.stderr.contains("rule: sent"),
        "{run}"
    );
}

#[test]
fn what_the_api_stores_as_sent_passes_the_check() {
    let env = Harness::new();
    env.write("conversions/acme.yaml", MANIFEST);
    let run = env.run(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(!run.stderr.contains("inconsistent"), "{run}");
    // The check re-read the account once, in one listing round trip after the writes.
    let stats = env.stats();
    assert!(stats["http_requests"].as_u64().unwrap() <= 4, "{stats}");
}

/// The same end to end through `convctl emulator --rewrite-rules` as its own process.
#[test]
fn the_emulator_option_rewrites_through_the_binary() {
    let emulator = ChildEmulator::start(&["--rewrite-rules"]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acme.yaml"), MANIFEST).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args([
            "--api-base",
            &emulator.base,
            "apply",
            "--auto-approve",
            "acme.yaml",
        ])
        .current_dir(dir.path())
        .env("META_ACCESS_TOKEN", TOKEN)
        .env_remove("CONVCTL_API_BASE")
        .env_remove("META_APP_SECRET")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("inconsistent result after apply: act_1: \"Big purchase\""),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
}
