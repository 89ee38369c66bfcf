//! A field that the live answer does not report is unknown, not changed: it never forces a
//! replacement (docs/reconcile.md, "What changes and how"). The real API may not return
//! `event_source_id`, `action_source_type` or `advanced_rule` (reference: Custom conversions); a
//! perpetual replacement there would destroy history on every apply. Checked with the real binary
//! against a stub that answers without those fields.

use crate::assert_run;
use crate::support::stub::{Answer, Stub};
use crate::support::{Convctl, in_background};
use serde_json::json;

fn answer() -> Answer {
    let body = json!({"data": [
        {"id": "11", "name": "Buy", "description": "",
         "rule": "{\"url\":{\"i_contains\":\"thank\\/you\"}}",
         "custom_event_type": "PURCHASE", "default_conversion_value": "0", "is_archived": false},
        {"id": "12", "name": "Advanced", "description": "",
         "custom_event_type": "OTHER", "default_conversion_value": 0, "is_archived": false}
    ]});
    (200, vec![], body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_the_api_does_not_report_never_force_a_replacement() {
    let stub = Stub::start(|seen, _| {
        if seen.method == "GET" && seen.target.contains("customconversions") {
            answer()
        } else {
            (
                400,
                vec![],
                json!({"error": {"code": 100, "message": "unexpected"}}).to_string(),
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "account: act_1\ndefaults:\n  event_source_id: \"5550001\"\n  action_source_type: website\nconversions:\n  - name: Buy\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: thank/you}}\n  - name: Advanced\n    custom_event_type: OTHER\n    advanced_rule: {or: [{event_sources: [{type: pixel, id: \"5550001\"}]}]}\n",
    )
    .unwrap();
    let base = stub.base.clone();
    let path = dir.path().to_path_buf();
    let out = in_background(move || {
        Convctl::new()
            .args(&["--api-base", &base, "-v", "plan", "--detailed-exitcode"])
            .arg(&path)
            .token("stub-token")
            .run()
    })
    .await;
    // No changes; the verbose lines say which fields were not compared.
    assert_run!(out, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    act_1 ([tmp]/a.yaml): no changes.

    No changes.
    ----- stderr -----
    graph: GET /v27.0/act_1/customconversions (page 1) → 200 in [duration] [act_1]
    graph: act_1: no conversion in the answer carried event_source_id, action_source_type (unknown: never a change)
    note: "Buy" (11): the API did not report event_source_id, action_source_type; unknown fields are not compared
    note: "Advanced" (12): the API did not report event_source_id, action_source_type, advanced_rule; unknown fields are not compared
    "#);
    assert!(
        stub.requests().iter().all(|r| r.method == "GET"),
        "plan only reads"
    );
}
