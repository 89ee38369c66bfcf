//! Review of `drift` (spec section 3: 0 in sync, 2 drift found, 1 error): a nightly drift job
//! must report drift as drift, even where `apply` would refuse to fix it (a protected
//! conversion that no longer matches its manifest). That is the drift most worth an alert;
//! exiting 1 would file it under "the tool broke". `plan` still refuses it (exit 1).

use crate::support::Harness;
use serde_json::json;

#[test]
fn a_protected_conversion_that_drifted_is_drift_not_an_error() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Checkout", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "/pay"}}}
    ]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Checkout\n    protect: true\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: /checkout}}\n",
    );
    let drift = env.run(&["drift"]);
    assert_eq!(drift.code, 2, "{drift}");
    assert!(drift.stdout.contains("conversion \"Checkout\""), "{drift}");
    assert!(
        drift.stdout.contains("protect: true") && drift.stdout.contains("apply refuses"),
        "the report says apply will not fix it:\n{drift}"
    );
    let json = env.run(&["drift", "--format", "json"]);
    assert_eq!(json.code, 2, "{json}");

    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert!(plan.stderr.contains("is protected"), "{plan}");
}
