//! `convctl show PLAN...`: saved plans (the shards of a CI matrix) as one document, offline:
//! no token, no API (the API base points at a closed port).

use crate::assert_run;
use crate::support::generate::{manifest_document, seed_account};
use crate::support::{Convctl, Harness};
use serde_json::Value;

/// Four accounts planned as two shards, saved as plan-1.json and plan-2.json.
fn two_shards() -> Harness {
    let env = Harness::new();
    let mut seeds = Vec::new();
    for (a, account) in ["act_11", "act_22", "act_33", "act_44"].iter().enumerate() {
        // Two live, three declared: one create per account.
        seeds.extend(seed_account(account, 2, 0));
        env.write(
            &format!("conversions/{account}.yaml"),
            &manifest_document(account, 3 + a % 2, 0),
        );
    }
    env.seed(Value::Array(seeds));
    for k in 1..=2 {
        let shard = format!("{k}/2");
        let out = format!("plan-{k}.json");
        let run = env.run(&["--shard", &shard, "--quiet", "plan", "--out", &out]);
        assert_eq!(run.code, 0, "{run}");
    }
    env
}

/// Offline: no token, and an API base nobody listens on.
fn show(env: &Harness, args: &[&str]) -> crate::support::Run {
    Convctl::new()
        .args(&["--api-base", "http://127.0.0.1:9", "show"])
        .args(args)
        .current_dir(env.path(""))
        .run()
}

#[test]
fn shards_are_shown_as_one_document_offline() {
    let env = two_shards();
    let text = show(&env, &["plan-1.json", "plan-2.json"]);
    assert_eq!(text.code, 0, "{text}");
    assert_eq!(text.stderr, "");
    assert_eq!(text.stdout.matches("Plan: ").count(), 1, "{}", text.stdout);
    assert!(
        text.stdout
            .ends_with("Plan: 6 to create, 0 to update, 0 to replace, 0 to delete.\n"),
        "{}",
        text.stdout
    );
    let md = show(
        &env,
        &["plan-1.json", "plan-2.json", "--format", "markdown"],
    );
    assert_eq!(md.code, 0, "{md}");
    assert_run!("show_two_shards_markdown", md);
    let json = show(&env, &["plan-2.json", "plan-1.json", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["summary"]["create"], 6);
    assert_eq!(doc["accounts"].as_array().unwrap().len(), 4);
    // The one document is a plan apply can read.
    std::fs::write(env.path("whole.json"), &json.stdout).unwrap();
    let again = show(&env, &["whole.json"]);
    assert_eq!(
        again.stdout,
        show(&env, &["plan-2.json", "plan-1.json"]).stdout
    );
}

#[test]
fn an_account_in_two_plans_and_a_missing_file_are_errors() {
    let env = two_shards();
    assert_run!(show(&env, &["plan-1.json", "plan-1.json"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: act_11 is in two plans (plan-1.json and plan-1.json): each account belongs to one shard; make the plans again with one `--shard K/N` each
    ");
    // Nothing shown of a partial set.
    assert_run!(show(&env, &["plan-1.json", "nope.json"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: cannot access plan file nope.json: No such file or directory (os error 2)
    ");
    assert_run!(show(&env, &["plan-1.json", "--max-chars", "5000"]), @"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    error: --max-chars bounds markdown; add --format markdown
    ");
}
