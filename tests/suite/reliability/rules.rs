//! Rule evaluation never guesses: a `regex_match` PCRE gives up on is an error
//! naming the pattern in `convctl test` (a `no_match` test does not pass, a `match` test does
//! not merely "fail", `not:` does not flip it), and a JSON-string rule that repeats a key is
//! refused by `validate`, as the YAML form is.

use crate::assert_run;
use crate::support::{Convctl, Run};
use std::path::Path;

fn convctl(dir: &Path, args: &[&str]) -> Run {
    Convctl::new().args(args).current_dir(dir).run()
}

const SLOW: &str = "^(a+)+$|^a+!$";

fn manifest(dir: &Path, body: &str) {
    std::fs::create_dir_all(dir.join("conversions")).unwrap();
    std::fs::write(dir.join("conversions/shop.yaml"), body).unwrap();
}

#[test]
fn a_regex_pcre_gives_up_on_is_an_error_in_convctl_test() {
    let dir = tempfile::tempdir().unwrap();
    let subject = format!("{}!", "a".repeat(22));
    manifest(
        dir.path(),
        &format!(
            "account: act_1\nconversions:\n  - name: Slow\n    custom_event_type: PURCHASE\n    rule: {{url: {{regex_match: '{SLOW}'}}}}\n    tests:\n      no_match: [{{url: \"{subject}\"}}]\n  - name: Slow negated\n    custom_event_type: PURCHASE\n    rule: {{not: {{url: {{regex_match: '{SLOW}'}}}}}}\n    tests:\n      match: [{{url: \"{subject}\"}}]\n---\naccount: act_2\nconversions:\n  - name: Fine\n    custom_event_type: PURCHASE\n    rule: {{url: {{regex_match: '{SLOW}'}}}}\n    tests:\n      match: [{{url: \"aaa!\"}}]\n"
        ),
    );
    let out = convctl(dir.path(), &["test"]);
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    FAIL  conversions/shop.yaml:7:18: error: act_1 "Slow": the rule cannot be evaluated against this event (no_match[0]): {"url":"aaaaaaaaaaaaaaaaaaaaaa!"}: the regex_match pattern `^(a+)+$|^a+!$` is too expensive to evaluate against this value (PCRE gave up: PCRE2: error matching: match limit exceeded); rewrite it without nested or overlapping repetition such as `(a+)+`, or anchor it
    help: PCRE gave up rather than answer: convctl counts that as an error, never as a match or a miss; simplify the pattern
    FAIL  conversions/shop.yaml:12:15: error: act_1 "Slow negated": the rule cannot be evaluated against this event (match[0]): {"url":"aaaaaaaaaaaaaaaaaaaaaa!"}: the regex_match pattern `^(a+)+$|^a+!$` is too expensive to evaluate against this value (PCRE gave up: PCRE2: error matching: match limit exceeded); rewrite it without nested or overlapping repetition such as `(a+)+`, or anchor it
    help: PCRE gave up rather than answer: convctl counts that as an error, never as a match or a miss; simplify the pattern
    ok    act_2 "Fine" match[0]
    test result: FAILED. 1 passed; 2 failed (0 conversions without tests)
    ----- stderr -----
    "#);
    let stdout = out.stdout.clone();
    assert_eq!(Some(out.code), Some(1), "{stdout}{}", out.stderr);
    let failures: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL")).collect();
    assert_eq!(failures.len(), 2, "{stdout}");
    for line in &failures {
        assert!(
            line.contains("cannot be evaluated")
                && line.contains(&format!("`{SLOW}` is too expensive to evaluate")),
            "{line}"
        );
        assert!(line.contains("shop.yaml:"), "names file:line:col: {line}");
    }
    // (In another account: one account may not hold one rule twice.)
    assert!(stdout.contains("ok    act_2 \"Fine\" match[0]"), "{stdout}");
    assert!(stdout.contains("1 passed; 2 failed"), "{stdout}");

    let out = convctl(dir.path(), &["test", "--format", "json"]);
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    {
      "conversions_without_tests": 0,
      "diagnostics": [],
      "failed": 2,
      "passed": false,
      "results": [
        {
          "account": "act_1",
          "column": 18,
          "conditions": [],
          "conversion": "Slow",
          "error": "the regex_match pattern `^(a+)+$|^a+!$` is too expensive to evaluate against this value (PCRE gave up: PCRE2: error matching: match limit exceeded); rewrite it without nested or overlapping repetition such as `(a+)+`, or anchor it",
          "event": {
            "url": "aaaaaaaaaaaaaaaaaaaaaa!"
          },
          "expect": "no_match",
          "file": "conversions/shop.yaml",
          "index": 0,
          "line": 7,
          "passed": false
        },
        {
          "account": "act_1",
          "column": 15,
          "conditions": [],
          "conversion": "Slow negated",
          "error": "the regex_match pattern `^(a+)+$|^a+!$` is too expensive to evaluate against this value (PCRE gave up: PCRE2: error matching: match limit exceeded); rewrite it without nested or overlapping repetition such as `(a+)+`, or anchor it",
          "event": {
            "url": "aaaaaaaaaaaaaaaaaaaaaa!"
          },
          "expect": "match",
          "file": "conversions/shop.yaml",
          "index": 0,
          "line": 12,
          "passed": false
        },
        {
          "account": "act_2",
          "column": 15,
          "conditions": [],
          "conversion": "Fine",
          "error": null,
          "event": {
            "url": "aaa!"
          },
          "expect": "match",
          "file": "conversions/shop.yaml",
          "index": 0,
          "line": 20,
          "passed": true
        }
      ],
      "total": 3
    }
    ----- stderr -----
    "#);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["failed"], 2, "{doc}");
    let errors: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["error"].as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{doc}");
    assert!(errors.iter().all(|e| e.contains("too expensive")), "{doc}");
}

#[test]
fn a_json_string_rule_with_a_repeated_key_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    manifest(
        dir.path(),
        "account: act_1\nconversions:\n  - name: Twice\n    custom_event_type: PURCHASE\n    rule: '{\"url\":{\"i_contains\":\"a\"},\"url\":{\"i_contains\":\"b\"}}'\n",
    );
    let out = convctl(dir.path(), &["validate"]);
    assert_run!(out, @r#"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/shop.yaml:5:11: error: invalid rule: duplicate key `url` at line 1 column 31; a JSON object must not repeat a key (which one would count is undefined): combine the conditions with `and`
      |
    5 |     rule: '{"url":{"i_contains":"a"},"url":{"i_contains":"b"}}'
      |           ^^^^^^^
    help: a rule is `and`/`or` over a list, `not` over a rule, or `<field>: {<operator>: <value>}`
    "#);
    let stderr = out.stderr.clone();
    assert_eq!(Some(out.code), Some(1), "{stderr}");
    assert!(stderr.contains("duplicate key `url`"), "{stderr}");
    assert!(stderr.contains("shop.yaml:5:"), "names the line: {stderr}");
    // The YAML form, for comparison, is refused too.
    manifest(
        dir.path(),
        "account: act_1\nconversions:\n  - name: Twice\n    custom_event_type: PURCHASE\n    rule:\n      url: {i_contains: a}\n      url: {i_contains: b}\n",
    );
    let out = convctl(dir.path(), &["validate"]);
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    invalid: 1 error, 0 warnings
    ----- stderr -----
    conversions/shop.yaml:7:7: error: duplicate key `url` in the rule (first set at conversions/shop.yaml:6:7)
      |
    7 |       url: {i_contains: b}
      |       ^^^
    help: a mapping keeps only one value per key: combine the conditions with `and`
    ");
    assert_eq!(Some(out.code), Some(1));
    assert!(out.stderr.contains("duplicate key `url`"));
}
