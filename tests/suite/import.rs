//! `convctl import` in the GitOps walk-through, scripted: an account managed by hand is
//! imported (ids pinned, rules as YAML, never overwriting), the manifest is edited, planned,
//! applied; a manual change made over the API afterwards shows up as drift (text, json,
//! markdown), and apply puts it back.

use crate::support::{Harness, redact};
use serde_json::{Value, json};

#[test]
fn import_edit_plan_apply_then_drift_after_a_manual_change() {
    let env = Harness::new();
    // Conversions made by hand, over the API, as in Events Manager.
    let created = env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Purchase over 100"),
            (
                "rule",
                r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            ),
            ("custom_event_type", "PURCHASE"),
            ("event_source_id", "777"),
            ("default_conversion_value", "12.0"),
        ],
    );
    let purchase_id = created["id"].as_str().unwrap().to_string();
    env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Thank you"),
            ("rule", r#"{"url":{"i_contains":"thank\/you"}}"#),
            ("custom_event_type", "LEAD"),
            ("description", "old text"),
        ],
    );

    // 1. import: one manifest, ids pinned, rules as YAML mappings; plan on it: no changes.
    let import = env.run(&["import", "act_42", "--out", "conversions"]);
    assert_eq!(import.code, 0, "{import}");
    let path = env.path("conversions/act_42.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    assert!(
        yaml.contains(&format!("id: '{purchase_id}'"))
            || yaml.contains(&format!("id: \"{purchase_id}\"")),
        "{yaml}"
    );
    assert!(
        yaml.contains("and:") && !yaml.contains("{\"and\""),
        "rules are mappings:\n{yaml}"
    );
    insta::assert_snapshot!("imported_manifest", redact(&yaml, env.dir.path()));
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan}");
    assert_eq!(plan.last_line(), "No changes.");
    // Importing again never overwrites.
    let again = env.run(&["import", "act_42", "--out", "conversions"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("never overwrites"), "{again}");

    // 2. edit: a description, a rule (replacement) and a new conversion.
    let edited = yaml
        .replace("old text", "Thank-you page")
        .replace("gt: 100", "gt: 150")
        + "- name: Lead form\n  custom_event_type: LEAD\n  rule:\n    event:\n      eq: Lead\n";
    std::fs::write(&path, edited).unwrap();
    let plan = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan}");
    assert_eq!(
        plan.last_line(),
        "Plan: 1 to create, 1 to update, 1 to replace, 0 to delete.",
        "{plan}"
    );
    assert!(
        plan.stdout.contains("-     {\"value\": {\"gt\": 100}}"),
        "{plan}"
    );
    assert!(
        plan.stdout.contains("+     {\"value\": {\"gt\": 150}}"),
        "{plan}"
    );

    // 3. apply: done, and the pinned replacement says which id to pin.
    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    let new_id = env.id_of("act_42", "Purchase over 100");
    assert!(
        apply
            .stdout
            .contains(&format!("change it to id: \"{new_id}\"")),
        "{apply}"
    );
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace(&purchase_id, &new_id),
    )
    .unwrap();
    assert_eq!(env.run(&["drift"]).code, 0);

    // 4. someone renames a conversion and changes its value by hand: drift, field by field.
    let thanks = env.id_of("act_42", "Thank you");
    env.graph(
        reqwest::Method::POST,
        &thanks,
        &[
            ("name", "Thanks (edited)"),
            ("default_conversion_value", "5"),
        ],
    );
    let drift = env.run(&["drift"]);
    assert_eq!(drift.code, 2, "{drift}");
    assert!(
        drift
            .stdout
            .contains("~ name                     = \"Thanks (edited)\" -> \"Thank you\""),
        "{drift}"
    );
    assert!(
        drift.stdout.contains("~ default_conversion_value = 5 -> 0"),
        "{drift}"
    );
    insta::assert_snapshot!("drift_text", redact(&drift.stdout, env.dir.path()));
    let json_drift = env.run(&["drift", "--format", "json"]);
    assert_eq!(json_drift.code, 2);
    let doc: Value = serde_json::from_str(&json_drift.stdout).unwrap();
    assert_eq!(doc["summary"]["update"], 1);
    assert_eq!(
        doc["accounts"][0]["actions"][0]["changes"][0],
        json!({"field": "name", "before": "Thanks (edited)", "after": "Thank you"})
    );
    let md = env.run(&["drift", "--format", "markdown"]);
    assert!(md.stdout.starts_with("### convctl drift"), "{md}");
    insta::assert_snapshot!("drift_markdown", redact(&md.stdout, env.dir.path()));

    // 5. apply puts it back.
    assert_eq!(env.run(&["apply", "--auto-approve"]).code, 0);
    assert_eq!(env.run(&["drift"]).code, 0);
}
