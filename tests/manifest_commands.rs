//! `convctl validate` and `convctl test` end to end on the examples and on small manifests:
//! exit codes, output formats, failing rule tests.

use std::path::Path;
use std::process::{Command, Output};

fn convctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run convctl")
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn examples_are_valid_and_their_tests_pass() {
    for format in ["text", "json", "github"] {
        let out = convctl(
            root(),
            &["validate", "examples/conversions", "--format", format],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "validate --format {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = convctl(
            root(),
            &["test", "examples/conversions", "--format", format],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "test --format {format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = convctl(
        root(),
        &["validate", "examples/conversions", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0, "examples are lint-free: {doc}");
    assert!(doc["accounts"].as_u64().unwrap() >= 5);
    let out = convctl(
        root(),
        &["test", "examples/conversions", "--format", "json"],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["failed"], 0);
    assert!(doc["total"].as_u64().unwrap() >= 30, "{doc}");
    assert_eq!(
        doc["conversions_without_tests"], 0,
        "every example conversion has tests"
    );
}

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
    let out = convctl(dir.path(), &["test", "m.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
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
    let out = convctl(dir.path(), &["test", "m.yaml", "--format", "github"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=m.yaml,line=9,col=11,title=convctl::act_1"),
        "{stdout}"
    );
    // The manifest itself is valid: validate does not run the tests.
    assert_eq!(
        convctl(dir.path(), &["validate", "m.yaml"]).status.code(),
        Some(0)
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
    let out = convctl(dir.path(), &["test", "m.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("m.yaml:2:14: error: `conversions` must be a list")
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("no tests were run"));
}

#[test]
fn warnings_do_not_fail_validation_and_missing_paths_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yml"),
        "account: 1\nconversions:\n  - {name: A, custom_event_type: LEAD, default_conversion_value: 2.5, rule: {event: {eq: lead}}}\n",
    )
    .unwrap();
    // Default path: conversions/.
    let out = convctl(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "conversions/a.yml:3:66: warning: default_conversion_value 2.5 is fractional"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: event `lead` looks like the standard event `Lead`"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("valid: 1 file, 1 account, 1 conversion (2 warnings)")
    );
    let out = convctl(dir.path(), &["validate", "nope/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read `nope/`"));
}

#[test]
fn github_warnings_and_accounts_declared_in_two_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yaml"),
        "account: act_7\nconversions:\n  - {name: A, custom_event_type: LEAD, default_conversion_value: 0.5, rule: {event: {eq: Lead}}}\n",
    )
    .unwrap();
    let out = convctl(dir.path(), &["validate", "--format", "github"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::warning file=conversions/a.yaml,line=3,col=66,title=convctl::default_conversion_value 0.5 is fractional"), "{stdout}");
    std::fs::write(
        dir.path().join("conversions/b.yaml"),
        "account: \"7\"\nconversions: []\n",
    )
    .unwrap();
    let out = convctl(dir.path(), &["validate", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<&serde_json::Value> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{doc}");
    let d = errors[0];
    assert_eq!(d["file"], "conversions/b.yaml");
    assert_eq!(
        d["message"],
        "account act_7 is declared twice: here and at conversions/a.yaml:1:1"
    );
}
