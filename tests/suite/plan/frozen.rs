//! Archived and flagged conversions, end to end: convctl never sends an edit Meta refuses (no
//! rename or value change to an archived conversion, no `is_archived`, no update to a flagged
//! one). A flagged managed conversion is a warning on its entry, an archived one that holds a
//! declared name or rule is information, and neither blocks the other entries or accounts.

use crate::assert_run;
use crate::support::Harness;
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

    assert_run!(env.run(&["plan"]), @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 (conversions/a.yaml) will change:

      # "Thanks" will be created
      + conversion "Thanks" {
          + name                     = "Thanks"
          + custom_event_type        = "PURCHASE"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/thanks-new"}}
        }

      # "Signup" (id 23850000000000003) will be updated in place
      ~ conversion "Signup" {
            id          = "23850000000000003"
          ~ description = "" -> "changed"
        }

      Warning: conversions/a.yaml:3:5: "Health check" (23850000000000001) is flagged by Meta: it stopped counting events; edits are refused; see Meta's flagged custom conversions help; convctl sends it no change (its description and default_conversion_value differ from the manifest): to count these events again, declare a new conversion with another name and rule

      Note: "Thanks" (23850000000000002) is archived: Meta keeps it listed and frozen (convctl never edits it); it holds the name of "Thanks" (conversions/a.yaml:8:5)

    act_2 (conversions/a.yaml) will change:

      # "B" will be created
      + conversion "B" {
          + name                     = "B"
          + custom_event_type        = "LEAD"
          + default_conversion_value = 0
          + rule                     = {"url": {"i_contains": "/b"}}
        }

    Plan: 2 to create, 1 to update, 0 to replace, 0 to delete.
    ----- stderr -----
    "#);
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
