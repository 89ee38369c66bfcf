//! `convctl test`, the manifests' rule tests run offline: a failing rule test exits 1 and says
//! why (text and GitHub formats), and invalid manifests exit 1 without running any. (The
//! examples' rule tests pass: `manifest::examples_are_valid_and_their_tests_pass`; `test
//! --live` is in `events`.)

use crate::assert_run;
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
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ok    act_1 "Big purchase" match[0]
    FAIL  m.yaml:9:11: error: act_1 "Big purchase": the rule should match this event, but does not (match[1]): {"event":"Purchase","value":99}; false: {"value":{"gt":100}}
    help: fix the rule, or the example event if the rule is right
    FAIL  m.yaml:11:11: error: act_1 "Big purchase": the rule should not match this event, but does (no_match[0]): {"event":"Purchase","value":500}; true: {"event":{"eq":"Purchase"}}, {"value":{"gt":100}}
    help: fix the rule, or the example event if the rule is right
    test result: FAILED. 1 passed; 2 failed (0 conversions without tests)
    ----- stderr -----
    "#);

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
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    ::error file=m.yaml,line=9,col=11,title=convctl::act_1 "Big purchase": the rule should match this event, but does not (match[1]): {"event":"Purchase","value":99}; false: {"value":{"gt":100}}%0Ahelp: fix the rule, or the example event if the rule is right
    ::error file=m.yaml,line=11,col=11,title=convctl::act_1 "Big purchase": the rule should not match this event, but does (no_match[0]): {"event":"Purchase","value":500}; true: {"event":{"eq":"Purchase"}}, {"value":{"gt":100}}%0Ahelp: fix the rule, or the example event if the rule is right
    test result: FAILED. 1 passed; 2 failed (0 conversions without tests)
    ----- stderr -----
    "#);
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
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings; no tests were run
    ----- stderr -----
    m.yaml:2:14: error: `conversions` must be a list of entries, found a number
      |
    2 | conversions: 5
      |              ^
    help: write each conversion as a `- name: ...` item
    ");
}

/// A conversion made in Meta's UI says `URL` for the page, inside an `or` nested in an `and`:
/// imported, it plans no change; its match example with the page's `url` passes `convctl test`;
/// sent with `test --live`, the emulator counts it (the conversion fired).
#[test]
fn a_ui_made_rule_with_the_upper_case_url_key_reads_the_page_url() {
    let env = crate::support::Harness::new();
    let ui_rule =
        r#"{"and":[{"event":{"eq":"PageView"}},{"or":[{"URL":{"i_contains":"thanks"}}]}]}"#;
    let made = env.graph(
        reqwest::Method::POST,
        "act_42/customconversions",
        &[
            ("name", "Thanks page"),
            ("rule", ui_rule),
            ("custom_event_type", "OTHER"),
            ("event_source_id", "777"),
        ],
    );
    let id = made["id"].as_str().unwrap().to_string();
    let import = env.run(&["import", "act_42", "--out", "conversions"]);
    assert_run!(import, @"
    success: true
    exit_code: 0
    ----- stdout -----
    Wrote conversions/act_42.yaml (1 conversions, ids pinned).
    ----- stderr -----
    ");

    let imported = std::fs::read_to_string(env.path("conversions/act_42.yaml")).unwrap();
    assert!(
        imported.contains("URL:"),
        "the stored spelling is kept:\n{imported}"
    );
    let plan = env.run(&["plan"]);
    assert_run!(plan, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml): no changes.

    No changes.
    ----- stderr -----
    ");

    env.write(
        "conversions/act_42.yaml",
        &format!(
            "\
account: act_42
conversions:
  - name: Thanks page
    id: \"{id}\"
    custom_event_type: OTHER
    event_source_id: \"777\"
    rule: '{ui_rule}'
    tests:
      match: [{{event: PageView, url: 'https://shop.example/thanks'}}]
      no_match: [{{event: PageView, url: 'https://shop.example/cart'}}]
"
        ),
    );
    let test = env.run(&["test"]);
    assert_run!(test, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ok    act_42 "Thanks page" match[0]
    ok    act_42 "Thanks page" no_match[0]
    test result: ok. 2 passed; 0 failed (0 conversions without tests)
    ----- stderr -----
    "#);

    let plan = env.run(&["plan"]);
    assert_run!(plan, @"
    success: true
    exit_code: 0
    ----- stdout -----
    act_42 (conversions/act_42.yaml): no changes.

    No changes.
    ----- stderr -----
    ");

    let live = env.run(&["test", "--live", "--test-event-code", "TEST123"]);
    assert_run!(live, @r#"
    success: true
    exit_code: 0
    ----- stdout -----
    ok    act_42 "Thanks page" match[0]
    ok    act_42 "Thanks page" no_match[0]
    test result: ok. 2 passed; 0 failed (0 conversions without tests)
    sent  act_42 "Thanks page" match[0] → pixel 777
    pixel 777: 1 event received (test event code TEST123: see Events Manager → Test Events); fbtrace_id [trace id]
    ----- stderr -----
    "#);

    let fired = env.graph(
        reqwest::Method::GET,
        &format!("{id}?fields=first_fired_time"),
        &[],
    );
    assert!(
        fired["first_fired_time"].is_string(),
        "the emulator matched the page's URL: {fired}"
    );
}
