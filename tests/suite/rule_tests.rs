//! `convctl test`, the manifests' rule tests run offline: a failing rule test exits 1 and says
//! why (text and GitHub formats), and invalid manifests exit 1 without running any. (The
//! examples' rule tests pass: `manifest::examples_are_valid_and_their_tests_pass`; `test
//! --live` is in `events`.)

use crate::support::Convctl;

const FAILING: &str = "\
account: act_1
conversions:
  - name: Big purchase
    custom_event_type: PURCHASE
    rule: {and: [{event: {eq: Purchase}}, {value: {gt: 100}}]}
    tests:
      match:
        - {event: Purchase, value: 150}
        - {event: Purchase, value: 99}
      no_match:
        - {event: Purchase, value: 500}
";

#[test]
fn a_failing_rule_test_exits_1_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), FAILING).unwrap();
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["test", "m.yaml"])
        .run();
    assert_eq!(out.code, 1);
    let stdout = out.stdout;
    assert!(
        stdout.contains("ok    act_1 \"Big purchase\" match[0]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL  m.yaml:9:11: error: act_1 \"Big purchase\": the rule should match this event, but does not (match[1]): {\"event\":\"Purchase\",\"value\":99}; false: {\"value\":{\"gt\":100}}"),
        "{stdout}"
    );
    assert!(stdout.contains("m.yaml:11:11: error: act_1 \"Big purchase\": the rule should not match this event, but does (no_match[0])"), "{stdout}");
    assert!(
        stdout.contains("test result: FAILED. 1 passed; 2 failed"),
        "{stdout}"
    );
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["test", "m.yaml", "--format", "github"])
        .run();
    let stdout = out.stdout;
    assert!(
        stdout.contains("::error file=m.yaml,line=9,col=11,title=convctl::act_1"),
        "{stdout}"
    );
    // The manifest itself is valid: validate does not run the tests.
    assert_eq!(
        Convctl::new()
            .current_dir(dir.path())
            .args(&["validate", "m.yaml"])
            .run()
            .code,
        0
    );
}

#[test]
fn test_on_invalid_manifests_exits_1_without_running() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.yaml"),
        "account: act_1\nconversions: 5\n",
    )
    .unwrap();
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["test", "m.yaml"])
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("m.yaml:2:14: error: `conversions` must be a list")
    );
    assert!(out.stdout.contains("no tests were run"));
}
