//! When Meta refuses to delete (most apps may not delete custom conversions: code 200), convctl
//! retires instead: the conversion is renamed `[retired YYYY-MM-DD] Name` with a description
//! saying when and why, and left for a person to archive in Events Manager. A second apply then
//! has nothing to do.

use crate::support::{Harness, redact};
use convctl::emulator::EmulatorConfig;
use serde_json::json;

fn refusing() -> Harness {
    Harness::with(EmulatorConfig {
        refuse_deletes: true,
        ..EmulatorConfig::default()
    })
}

/// Today's date (UTC, as apply names retired conversions) and the run's volatile parts, for
/// snapshots.
fn redacted(text: &str, env: &Harness) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    redact(text, env.dir.path()).replace(&today, "[today]")
}

const CHECKOUT: &str = "account: act_1\nconversions:\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /pay}}\n";

#[test]
fn a_replacement_whose_delete_is_refused_retires_the_old_one_and_the_next_apply_does_nothing() {
    let env = refusing();
    let old = env.seed(
        json!([{"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT",
        "rule": {"url": {"i_contains": "/checkout"}}, "description": "Checkout page"}]),
    );
    env.write("conversions/a.yaml", CHECKOUT);

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    insta::assert_snapshot!("refused_delete_apply", redacted(&apply.stdout, &env));
    insta::assert_snapshot!("refused_delete_apply_stderr", redacted(&apply.stderr, &env));

    let live = env.live("act_1");
    let retired = live.iter().find(|c| c["id"] == json!(old[0])).unwrap();
    let name = retired["name"].as_str().unwrap();
    assert!(
        name.starts_with("[retired ") && name.ends_with("] Checkout"),
        "{name}"
    );
    let description = retired["description"].as_str().unwrap();
    assert!(
        description.contains("Archive it in Events Manager")
            && description.ends_with("Was: Checkout page"),
        "{description}"
    );
    assert_eq!(
        retired["rule"],
        json!(r#"{"url":{"i_contains":"/checkout"}}"#),
        "nothing else touched"
    );

    let again = env.run(&["apply", "--auto-approve"]);
    assert_eq!(again.code, 0, "{again}");
    insta::assert_snapshot!("refused_delete_second_apply", redacted(&again.stdout, &env));
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
}

const RETIRING: &str = "account: act_1\ndeletion: retire\nprune: true\nconversions:\n  - name: Checkout\n    custom_event_type: INITIATED_CHECKOUT\n    rule: {url: {i_contains: /pay}}\n  - name: Old\n    ensure: absent\n";

/// `deletion: retire`: the plan says what it renames and why, before any write; apply never
/// tries a delete; the next plan, and drift, list the retired ones and have nothing to do.
#[test]
fn deletion_retire_plans_retirements_and_never_tries_a_delete() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "rule": {"url": {"i_contains": "/checkout"}}},
        {"account": "act_1", "name": "Old", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/old"}}, "description": "Spring"},
        {"account": "act_1", "name": "Hand made", "custom_event_type": "LEAD", "rule": {"url": {"i_contains": "/hand"}}},
    ]));
    env.write("conversions/a.yaml", RETIRING);
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    insta::assert_snapshot!("deletion_retire_plan", redacted(&plan.stdout, &env));
    let json = env.run(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["summary"],
        json!({"create": 0, "update": 0, "replace": 1, "delete": 0, "retire": 2, "unmanaged": 0})
    );
    let retire = &doc["accounts"][0]["actions"][1];
    assert_eq!(retire["action"], "retire", "{retire}");
    assert_eq!(retire["retirement"]["because"], "setting", "{retire}");
    assert_eq!(
        doc["accounts"][0]["actions"][0]["retire_old"]["because"],
        "setting"
    );
    let md = env.run(&["plan", "--format", "markdown"]);
    insta::assert_snapshot!("deletion_retire_markdown", redacted(&md.stdout, &env));

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    insta::assert_snapshot!("deletion_retire_apply", redacted(&apply.stdout, &env));
    assert!(
        env.stats()["by_route"].get("DELETE /{id}").is_none(),
        "no delete tried"
    );
    let old = env
        .live("act_1")
        .into_iter()
        .find(|c| c["name"].as_str().unwrap().ends_with("] Old"))
        .unwrap();
    assert!(
        old["description"]
            .as_str()
            .unwrap()
            .contains("its manifest says deletion: retire")
            && old["description"]
                .as_str()
                .unwrap()
                .ends_with("Was: Spring"),
        "{old}"
    );

    let again = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("Retired (3)"), "{again}");
    let drift = env.run(&["drift"]);
    assert_eq!(drift.code, 0, "{drift}");
    insta::assert_snapshot!("deletion_retire_drift", redacted(&drift.stdout, &env));

    // Archived in Events Manager, as asked: no longer listed as retired.
    for c in env.live("act_1") {
        if c["name"].as_str().unwrap().starts_with("[retired ") {
            env.archive(c["id"].as_str().unwrap());
        }
    }
    let done = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(done.code, 0, "{done}");
    assert!(!done.stdout.contains("Retired ("), "{done}");
}

/// A refusal learnt from a conversion retired earlier: the next plan retires before trying,
/// and says how it knows.
#[test]
fn a_learnt_refusal_makes_the_next_plan_retire() {
    let env = refusing();
    env.seed(json!([
        {"account": "act_1", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "rule": {"url": {"i_contains": "/checkout"}}},
        {"account": "act_1", "name": "Spring", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/spring"}}},
    ]));
    env.write(
        "conversions/a.yaml",
        &format!("{CHECKOUT}  - name: Spring\n    custom_event_type: PURCHASE\n    rule: {{url: {{i_contains: /spring}}}}\n"),
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    env.write(
        "conversions/a.yaml",
        &format!("{CHECKOUT}  - name: Spring\n    ensure: absent\n"),
    );
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("# \"Spring\" (id [id]) will be retired (ensure: absent): renamed")
            || redacted(&plan.stdout, &env)
                .contains("# \"Spring\" (id [id]) will be retired (ensure: absent): renamed"),
        "{plan}"
    );
    assert!(
        plan.stdout
            .contains("Meta refused to delete one before: convctl retired"),
        "{plan}"
    );
    let deletes = env.stats()["by_route"]["DELETE /{id}"].clone();
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    assert_eq!(
        env.stats()["by_route"]["DELETE /{id}"],
        deletes,
        "not tried again"
    );
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}
