//! Archived and flagged conversions, end to end: convctl never sends an edit Meta refuses (no
//! rename or value change to an archived conversion, no `is_archived`, no update to a flagged
//! one). A flagged managed conversion is a warning on its entry, an archived one that holds a
//! declared name or rule is information, and neither blocks the other entries or accounts.

use crate::support::{Harness, redact};
use serde_json::json;

const MANIFESTS: &str = r#"account: act_1
conversions:
  - name: Health check
    custom_event_type: LEAD
    description: new text
    default_conversion_value: 5
    rule: {url: {i_contains: /health}}
  - name: Thanks
    custom_event_type: PURCHASE
    rule: {url: {i_contains: /thanks-new}}
  - name: Signup
    custom_event_type: COMPLETE_REGISTRATION
    description: changed
    rule: {url: {i_contains: /welcome}}
---
account: act_2
conversions:
  - name: B
    custom_event_type: LEAD
    rule: {url: {i_contains: /b}}
"#;

#[test]
fn flagged_and_archived_conversions_are_never_edited_and_block_nothing() {
    let env = Harness::new();
    let ids = env.seed(json!([
        {"account": "act_1", "name": "Health check", "custom_event_type": "LEAD", "rule": {"url": {"i_contains": "/health"}}},
        {"account": "act_1", "name": "Thanks", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/thanks"}}},
        {"account": "act_1", "name": "Signup", "custom_event_type": "COMPLETE_REGISTRATION", "rule": {"url": {"i_contains": "/welcome"}}},
    ]));
    // Meta flags one; someone deletes another in Events Manager (which archives it).
    env.flag(&ids[0]);
    env.archive(&ids[1]);
    env.write("conversions/a.yaml", MANIFESTS);

    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 0, "{plan}");
    insta::assert_snapshot!("frozen_plan", redact(&plan.stdout, env.dir.path()));
    let json = env.run(&["plan", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["accounts"][0]["info"].as_array().unwrap().len(),
        1,
        "{doc}"
    );
    assert_eq!(
        doc["summary"],
        json!({"create": 2, "update": 1, "replace": 0, "delete": 0, "retire": 0, "unmanaged": 0})
    );

    let apply = env.run(&["apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{apply}");
    // One update (Signup), two creates (Thanks again, B): nothing sent to the flagged or the
    // archived conversion.
    let stats = env.stats();
    assert_eq!(stats["by_route"]["POST /{id}"], 1, "{stats}");
    assert!(stats["by_route"].get("DELETE /{id}").is_none(), "{stats}");
    let node = env.graph(
        reqwest::Method::GET,
        &format!("{}?fields=name,description,is_unavailable", ids[0]),
        &[],
    );
    assert_eq!(
        node["description"], "",
        "the flagged one is untouched: {node}"
    );
    assert_eq!(env.live_names("act_2"), ["B"]);

    // Nothing more to do; the flagged one stays a warning, the archived one information.
    let again = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{again}");
    assert!(again.stdout.contains("is flagged by Meta"), "{again}");
    assert!(
        again
            .stdout
            .contains("is archived: Meta keeps it listed and frozen"),
        "{again}"
    );
}
