//! Errors name the account and the conversion, and say how to fix: a plan that cannot be
//! made prints each problem once, as `file:line:col: error: act_…: …` (the shape `validate` and
//! `test` use, which editors and CI annotations link), followed by its `help:`.

use crate::assert_run;
use crate::support::Harness;
use serde_json::json;

#[test]
fn identity_errors_read_like_validate_errors() {
    let env = Harness::new();
    env.seed(json!([
        {"account": "act_1", "name": "Dup", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "a"}}},
        {"account": "act_1", "name": "Dup", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "b"}}},
        // Same name as the pinned entry, another rule: the missing pin stays an error (with no
        // conversion of that name at all, it would be created, with a warning).
        {"account": "act_1", "name": "Pinned", "custom_event_type": "PURCHASE", "rule": {"url": {"i_contains": "q"}}}
    ]));
    env.write(
        "conversions/a.yaml",
        "account: act_1\nconversions:\n  - name: Dup\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: c}}\n  - name: Pinned\n    id: \"999\"\n    custom_event_type: PURCHASE\n    rule: {url: {i_contains: p}}\n",
    );
    // Each problem once, at its entry, with its help; no plan on stdout.
    assert_run!(env.run(&["plan"]), @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ----- stderr -----
    conversions/a.yaml:6:5: error: act_1: "Pinned" is pinned to id 999, which does not exist in act_1 (or is archived); 23850000000000003 named "Pinned" differ(s) from it in fields that force a replacement
      |
    6 |   - name: Pinned
      |     ^^^^
    help: check the id (`convctl import` lists live ids): pin the one to manage, or remove the `id:` line and rename or delete the others
    conversions/a.yaml:3:5: error: act_1: 2 live conversions in act_1 are named "Dup" (ids 23850000000000001, 23850000000000002): convctl cannot tell which one this entry means; 23850000000000001 and 23850000000000002 differ(s) from the manifest in fields that force a replacement
      |
    3 |   - name: Dup
      |     ^^^^
    help: pin the one to manage with `id: "23850000000000001"` on this entry (and delete or rename the others)
    error: no plan: fix the 2 problem(s) above
    "#);
}
