//! Rule evaluation never guesses (issue 15, item 8): a `regex_match` PCRE gives up on is an error
//! naming the pattern in `convctl test` (a `no_match` test does not pass, a `match` test does
//! not merely "fail", `not:` does not flip it), and a JSON-string rule that repeats a key is
//! refused by `validate`, as the YAML form is.

use std::path::Path;
use std::process::{Command, Output};

fn convctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_convctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("META_ACCESS_TOKEN")
        .output()
        .expect("run convctl")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
            "account: act_1\nconversions:\n  - name: Slow\n    custom_event_type: PURCHASE\n    rule: {{url: {{regex_match: '{SLOW}'}}}}\n    tests:\n      no_match: [{{url: \"{subject}\"}}]\n  - name: Slow negated\n    custom_event_type: PURCHASE\n    rule: {{not: {{url: {{regex_match: '{SLOW}'}}}}}}\n    tests:\n      match: [{{url: \"{subject}\"}}]\n  - name: Fine\n    custom_event_type: PURCHASE\n    rule: {{url: {{regex_match: '{SLOW}'}}}}\n    tests:\n      match: [{{url: \"aaa!\"}}]\n"
        ),
    );
    let out = convctl(dir.path(), &["test"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
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
    assert!(stdout.contains("ok    act_1 \"Fine\" match[0]"), "{stdout}");
    assert!(stdout.contains("1 passed; 2 failed"), "{stdout}");

    let out = convctl(dir.path(), &["test", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
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
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("duplicate key `url`"), "{stderr}");
    assert!(stderr.contains("shop.yaml:5:"), "names the line: {stderr}");
    // The YAML form, for comparison, is refused too.
    manifest(
        dir.path(),
        "account: act_1\nconversions:\n  - name: Twice\n    custom_event_type: PURCHASE\n    rule:\n      url: {i_contains: a}\n      url: {i_contains: b}\n",
    );
    let out = convctl(dir.path(), &["validate"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("duplicate key `url`"));
}
