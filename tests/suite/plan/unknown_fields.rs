//! A field that the live answer does not report is unknown, not changed: it never forces a
//! replacement (docs/reconcile.md, "What changes and how"). The real API may not return
//! `event_source_id`, `action_source_type` or `advanced_rule` (reference: Custom conversions); a
//! perpetual replacement there would destroy history on every apply. Checked with the real binary
//! against a stub that answers without those fields.

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
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    assert_eq!(out.code, 0, "{stdout}\n{stderr}");
    assert!(stdout.ends_with("No changes.\n"), "{stdout}");
    // Verbose output says which fields were not compared.
    assert!(
        stderr.contains("event_source_id") && stderr.contains("action_source_type"),
        "{stderr}"
    );
    assert!(stderr.contains("advanced_rule"), "{stderr}");
    assert!(
        stub.requests().iter().all(|r| r.method == "GET"),
        "plan only reads"
    );
}
