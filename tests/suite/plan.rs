//! End to end, against the in-process emulator: every change kind (create, update, replace,
//! delete by tombstone, prune, unmanaged), the three plan formats (insta snapshots), and
//! convergence: after apply, plan says `No changes.` although the API re-serialises rules.
//! Also: errors that stop a plan (`errors`), the markdown plan's layout under hostile names
//! (`markdown`), and fields the API does not report (`unknown_fields`).

mod errors;
mod markdown;
mod show;
mod unknown_fields;

use crate::support::{Harness, redact};
use serde_json::{Value, json};

const MIXED: &str = r#"
account: act_100
defaults:
  event_source_id: "555"
conversions:
  - name: High value purchase
    custom_event_type: PURCHASE
    default_conversion_value: 100
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
  - name: Thank you
    description: Thank-you page views
    custom_event_type: PURCHASE
    rule: '{"url": {"i_contains": "thank\/you"}}'
  - name: Checkout
    custom_event_type: INITIATED_CHECKOUT
    rule: {or: [{url: {i_contains: /checkout}}, {url: {i_contains: /pay}}]}
  - name: Old spring
    ensure: absent
"#;

fn seed_mixed(env: &Harness) -> Vec<String> {
    env.seed(json!([
        {"account": "act_100", "name": "Thank you", "custom_event_type": "PURCHASE", "event_source_id": "555",
         "rule": {"url": {"i_contains": "thank/you"}}},
        {"account": "act_100", "name": "Checkout", "custom_event_type": "INITIATED_CHECKOUT", "event_source_id": "555",
         "rule": {"or": [{"url": {"i_contains": "/checkout"}}]}},
        {"account": "act_100", "name": "Old spring", "custom_event_type": "PURCHASE", "event_source_id": "555",
         "rule": {"url": {"i_contains": "spring"}}},
        {"account": "act_100", "name": "Legacy", "custom_event_type": "LEAD", "event_source_id": "555",
         "rule": {"url": {"i_contains": "legacy"}}},
    ]))
}

#[test]
fn every_change_kind_is_planned_in_three_formats_applied_and_converges() {
    let env = Harness::new();
    let ids = seed_mixed(&env);
    env.write("conversions/acme.yaml", MIXED);

    let text = env.run(&["plan"]);
    assert_eq!(text.code, 0, "{text}");
    assert_eq!(
        text.last_line(),
        "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete."
    );
    insta::assert_snapshot!("mixed_plan_text", redact(&text.stdout, env.dir.path()));

    let json_run = env.run(&["plan", "--format", "json"]);
    let doc: Value = serde_json::from_str(&json_run.stdout).expect("json plan");
    assert_eq!(
        doc["summary"],
        json!({"create": 1, "update": 1, "replace": 1, "delete": 1, "unmanaged": 1})
    );
    assert_eq!(doc["accounts"][0]["unmanaged"][0]["name"], "Legacy");
    insta::assert_snapshot!("mixed_plan_json", redact(&json_run.stdout, env.dir.path()));

    let md = env.run(&["plan", "--format", "markdown"]);
    assert!(md.stdout.contains("<details>"), "{md}");
    insta::assert_snapshot!("mixed_plan_markdown", redact(&md.stdout, env.dir.path()));

    let applied = env.run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert!(
        applied
            .stdout
            .contains("Apply complete: 4 of 4 actions done."),
        "{applied}"
    );
    assert_eq!(
        env.live_names("act_100"),
        ["Checkout", "High value purchase", "Legacy", "Thank you"]
    );
    assert_ne!(
        env.id_of("act_100", "Checkout"),
        ids[1],
        "a replacement makes a new id"
    );
    assert_eq!(
        env.id_of("act_100", "Thank you"),
        ids[0],
        "an update keeps the id"
    );
    let thanks = env
        .live("act_100")
        .into_iter()
        .find(|c| c["name"] == "Thank you")
        .unwrap();
    assert_eq!(thanks["description"], "Thank-you page views");

    let again = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
    assert_eq!(again.last_line(), "No changes.");
    assert!(again.stdout.contains("Unmanaged (1)"), "{again}");
}

#[test]
fn prune_deletes_what_no_entry_declares() {
    let env = Harness::new();
    seed_mixed(&env);
    env.write(
        "conversions/acme.yaml",
        &MIXED.replace("defaults:", "prune: true\ndefaults:"),
    );
    let plan = env.run(&["plan"]);
    assert!(plan.stdout.contains("# \"Legacy\" (id "), "{plan}");
    assert!(
        plan.stdout
            .contains("will be deleted (not declared, prune: true)"),
        "{plan}"
    );
    assert_eq!(
        plan.last_line(),
        "Plan: 1 to create, 1 to update, 1 to replace, 2 to delete."
    );
    let applied = env.run(&["apply", "--auto-approve"]);
    assert_eq!(applied.code, 0, "{applied}");
    assert_eq!(
        env.live_names("act_100"),
        ["Checkout", "High value purchase", "Thank you"]
    );
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}

#[test]
fn a_pinned_rename_is_an_update_and_numbers_compare_by_value() {
    let env = Harness::new();
    let ids = env.seed(
        json!([{"account": "act_7", "name": "Old name", "custom_event_type": "LEAD",
        "rule": "{\"url\":{\"i_contains\":\"lead\"}}", "default_conversion_value": 12.0}]),
    );
    env.write(
        "conversions/a.yaml",
        &format!(
            "account: act_7\nconversions:\n  - name: New name\n    id: \"{}\"\n    custom_event_type: LEAD\n    default_conversion_value: 12\n    rule: {{url: {{i_contains: lead}}}}\n",
            ids[0]
        ),
    );
    let plan = env.run(&["plan"]);
    assert!(
        plan.stdout
            .contains("~ name = \"Old name\" -> \"New name\""),
        "{plan}"
    );
    assert!(
        !plan.stdout.contains("default_conversion_value"),
        "12 == 12.0:\n{plan}"
    );
    assert_eq!(
        plan.last_line(),
        "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."
    );
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.id_of("act_7", "New name"), ids[0]);
    assert_eq!(env.run(&["plan"]).last_line(), "No changes.");
}

#[test]
fn account_filter_and_archived_conversions() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Gone", "rule": {"url": {"eq": "x"}}, "custom_event_type": "LEAD", "is_archived": true},
    ]));
    env.write(
        "conversions/two.yaml",
        "account: act_1\nconversions:\n  - name: Gone\n    custom_event_type: LEAD\n    rule: {url: {eq: x}}\n---\naccount: act_2\nconversions:\n  - name: B\n    custom_event_type: LEAD\n    rule: {url: {eq: b}}\n",
    );
    // The archived "Gone" is not tracked: the plan creates it anew.
    let plan = env.run(&["plan", "--account", "act_1"]);
    assert!(plan.stdout.contains("# \"Gone\" will be created"), "{plan}");
    assert!(!plan.stdout.contains("act_2"), "{plan}");
    assert_eq!(
        plan.last_line(),
        "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete."
    );
    let unknown = env.run(&["plan", "--account", "act_9"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("act_9 is not declared"),
        "{unknown}"
    );
}
