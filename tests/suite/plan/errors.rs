//! Review of "errors name account and conversion, and say how to fix": a plan that cannot be
//! made prints each problem once, as `file:line:col: error: act_…: …` (the shape `validate` and
//! `test` use, which editors and CI annotations link), followed by its `help:`.

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
    let plan = env.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan}");
    assert_eq!(plan.stdout, "", "no plan on stdout");
    let lines: Vec<&str> = plan.stderr.lines().collect();
    let dup = lines
        .iter()
        .find(|l| l.contains("named \"Dup\""))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        dup.starts_with("conversions/a.yaml:3:5: error: act_1: "),
        "{dup}\n{plan}"
    );
    let pin = lines
        .iter()
        .find(|l| l.contains("pinned to id 999"))
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        pin.starts_with("conversions/a.yaml:6:5: error: act_1: "),
        "{pin}\n{plan}"
    );
    assert_eq!(plan.stderr.matches("help: ").count(), 2, "{plan}");
    for line in &lines {
        assert!(line.matches("error:").count() <= 1, "said twice: {line}");
    }
}
