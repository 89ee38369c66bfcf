//! Manifests: `convctl validate` end to end on the examples and on small manifests (exit codes,
//! output formats, warnings), the broken-manifest corpus (`corpus`), damaged manifests
//! (`fuzz`), property tests of the loader and the rule parser (`properties`), `schema.json`
//! (`schema`), and the `validate` benchmark (`bench`, ignored).

mod bench;
mod corpus;
mod editor;
mod fuzz;
mod properties;
mod schema;
mod schema_strictness;

use crate::support::Convctl;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn examples_are_valid_and_their_tests_pass() {
    for format in ["text", "json", "github"] {
        let out = Convctl::new()
            .current_dir(root())
            .args(&["validate", "examples/conversions", "--format", format])
            .run();
        assert_eq!(out.code, 0, "validate --format {format}: {}", out.stderr);
        let out = Convctl::new()
            .current_dir(root())
            .args(&["test", "examples/conversions", "--format", format])
            .run();
        assert_eq!(out.code, 0, "test --format {format}: {}", out.stdout);
    }
    let out = Convctl::new()
        .current_dir(root())
        .args(&["validate", "examples/conversions", "--format", "json"])
        .run();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["errors"], 0);
    assert_eq!(doc["warnings"], 0, "examples are lint-free: {doc}");
    assert!(doc["accounts"].as_u64().unwrap() >= 5);
    let out = Convctl::new()
        .current_dir(root())
        .args(&["test", "examples/conversions", "--format", "json"])
        .run();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["failed"], 0);
    assert!(doc["total"].as_u64().unwrap() >= 30, "{doc}");
    assert_eq!(
        doc["conversions_without_tests"], 0,
        "every example conversion has tests"
    );
}

#[test]
fn warnings_do_not_fail_validation_and_missing_paths_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conversions")).unwrap();
    std::fs::write(
        dir.path().join("conversions/a.yml"),
        "account: 1\nconversions:\n  - {name: A, custom_event_type: LEAD, default_conversion_value: 2.5, rule: {and: [{event: {eq: lead}}, {url: {i_contains: /x}}]}}\n",
    )
    .unwrap();
    // Default path: conversions/.
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate"])
        .run();
    assert_eq!(out.code, 0);
    let stderr = out.stderr;
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
        out.stdout
            .contains("valid: 1 file, 1 account, 1 conversion (2 warnings)")
    );
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "nope/"])
        .run();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot read `nope/`"));
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
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "--format", "github"])
        .run();
    assert_eq!(out.code, 0);
    let stdout = out.stdout;
    assert!(stdout.contains("::warning file=conversions/a.yaml,line=3,col=66,title=convctl::default_conversion_value 0.5 is fractional"), "{stdout}");
    std::fs::write(
        dir.path().join("conversions/b.yaml"),
        "account: \"7\"\nconversions: []\n",
    )
    .unwrap();
    let out = Convctl::new()
        .current_dir(dir.path())
        .args(&["validate", "--format", "json"])
        .run();
    assert_eq!(out.code, 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
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
