//! `drift` exits 0 in sync, 2 drift found, 1 error (docs/cli.md, "Exit codes"): a nightly drift job
//! must report drift as drift, even where `apply` would refuse to fix it (a protected conversion
//! that no longer matches its manifest). That is the drift most worth an alert; exiting 1 would
//! file it under "the tool broke". `plan` still refuses it (exit 1).

use crate::assert_run;
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
    // The report says apply will not fix it; plan refuses it.
    assert_run!(env.run(&["drift"]), @r#"
    success: false
    exit_code: 2
    ----- stdout -----
    act_1 (conversions/a.yaml) has drifted from its manifest (values shown live -> manifest):

      # "Checkout" (id 23850000000000001) differs in fields that force replacement
    -/+ conversion "Checkout" {
            id   = "23850000000000001"
          ~ rule = {"url": {"i_contains": "/pay"}} -> {"url": {"i_contains": "/checkout"}} # forces replacement
        }

      Refused: conversions/a.yaml:3:5: "Checkout" is protected (protect: true), but the plan would replace it (rule changed); apply refuses this until it is resolved

    Drift found; to converge: 0 to create, 0 to update, 1 to replace, 0 to delete.
    Apply would refuse to converge this drift as it stands: 1 account (listed at the top).
    ----- stderr -----
    "#);
    assert_run!(
        "protected_drift_json",
        env.run(&["drift", "--format", "json"])
    );
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:3:5: error: act_1: "Checkout" is protected (protect: true), but the plan would replace it (rule changed)
      |
    3 |   - name: Checkout
      |     ^^^^
    help: revert the change, or remove `protect: true` from this entry if you really mean it
    error: no plan: fix the 1 problem(s) above
    "#);
}
