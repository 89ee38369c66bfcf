//! The broken-manifest corpus: the real binary over every file listed in tests/corpus/EXPECTED
//! (plus generated hostile files too big to keep in git) must exit 1 and put the expected
//! message at the expected file:line:col, in every output format, without panicking.

use crate::assert_run;
use crate::support::snapshot::transcripts;
use crate::support::{Convctl, Run};
use serde_json::Value;
use std::path::Path;

/// `convctl ARGS` at the root of the repository (the corpus paths are relative to it).
fn at_root(args: &[&str]) -> Run {
    Convctl::new()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .run()
}

/// Runs `validate` on `file` in all three formats; returns the JSON document.
fn validate(file: &str) -> Value {
    validate_text(file).1
}

/// Runs `validate` on `file` in all three formats; returns the text run and the JSON document.
fn validate_text(file: &str) -> (Run, Value) {
    let text = at_root(&["validate", file]);
    for format in ["text", "github"] {
        let out = at_root(&["validate", file, "--format", format]);
        let stderr = out.stderr;
        assert_eq!(
            out.code, 1,
            "{file} ({format}) must exit 1; stderr: {stderr}"
        );
        assert!(
            !stderr.contains("panicked"),
            "{file} ({format}) panicked: {stderr}"
        );
    }
    let out = at_root(&["validate", file, "--format", "json"]);
    assert_eq!(out.code, 1, "{file} (json) must exit 1");
    let doc =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{file}: JSON output: {e}"));
    (text, doc)
}

fn assert_reported(doc: &Value, file: &str, line: u64, column: u64, fragment: &str) {
    let diags = doc["diagnostics"].as_array().expect("diagnostics");
    let found = diags.iter().any(|d| {
        d["severity"] == "error"
            && d["file"] == file
            && d["line"] == line
            && d["column"] == column
            && d["message"].as_str().is_some_and(|m| m.contains(fragment))
            && d["hint"].as_str().is_some_and(|h| !h.is_empty())
    });
    assert!(
        found,
        "{file}: expected an error at {line}:{column} containing {fragment:?}, got:\n{diags:#?}"
    );
}

#[test]
fn every_broken_manifest_is_reported_precisely() {
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/EXPECTED"),
    )
    .unwrap();
    let mut count = 0;
    let mut runs = Vec::new();
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let [name, pos, fragment] = line.splitn(3, '\t').collect::<Vec<_>>()[..] else {
            panic!("bad EXPECTED line: {line}");
        };
        let (l, c) = pos.split_once(':').unwrap();
        let file = format!("tests/corpus/{name}");
        let (text, doc) = validate_text(&file);
        assert_reported(
            &doc,
            &file,
            l.parse().unwrap(),
            c.parse().unwrap(),
            fragment,
        );
        runs.push(text);
        count += 1;
    }
    // What a user reads for each, whole.
    insta::assert_snapshot!("corpus_text", transcripts(&runs));
    // Every corpus file is listed, so none is silently skipped.
    let files = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(
        files, count,
        "every tests/corpus/*.yaml has a line in EXPECTED"
    );
    assert!(count >= 25);
}

#[test]
fn generated_hostile_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p.display().to_string()
    };
    // A 10 MB file is refused before it is read.
    let mut big = b"account: act_1\nconversions:\n".to_vec();
    while big.len() < 10 * 1024 * 1024 {
        big.extend_from_slice(
            b"  - {name: x, custom_event_type: LEAD, rule: {event: {eq: Lead}}}\n",
        );
    }
    let f = write("huge.yaml", &big);
    assert_reported(&validate(&f), &f, 1, 1, "manifests are limited to 4 MB");
    // Deep flow nesting and deep block nesting: an error, not a stack overflow.
    let f = write("deep-flow.yaml", "[".repeat(200_000).as_bytes());
    let doc = validate(&f);
    assert!(
        doc["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid YAML")
            || doc["diagnostics"][0]["message"]
                .as_str()
                .unwrap()
                .contains("nested deeper"),
        "{doc}"
    );
    let block: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    let f = write("deep-block.yaml", block.as_bytes());
    assert_reported(&validate(&f), &f, 65, 65, "nested deeper than 64 levels");
    // A deeply nested rule written as a YAML mapping.
    let mut rule = String::from("{url: {eq: x}}");
    for _ in 0..50 {
        rule = format!("{{not: {rule}}}");
    }
    let text = format!(
        "account: act_1\nconversions:\n  - name: A\n    custom_event_type: LEAD\n    rule: {rule}\n"
    );
    let f = write("deep-rule.yaml", text.as_bytes());
    // The error points at the `not` key 33 levels down (column 12 + 6 * 32).
    assert_reported(&validate(&f), &f, 5, 204, "nested deeper than 32 levels");
}

#[test]
fn all_errors_of_a_run_are_reported_together() {
    // The GitHub annotations of the whole corpus, in one run.
    assert_run!(
        "corpus_github",
        at_root(&["validate", "tests/corpus", "--format", "github"])
    );
    let doc = validate("tests/corpus");
    let files_with_errors: std::collections::BTreeSet<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["file"].as_str())
        .collect();
    let listed = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert_eq!(
        files_with_errors.len(),
        listed,
        "one run reports an error in every broken file"
    );
}

#[test]
fn github_annotations_point_at_the_line() {
    let out = at_root(&[
        "validate",
        "tests/corpus/rule-unknown-operator.yaml",
        "--format",
        "github",
    ]);
    assert_run!(out, @"
    success: false
    exit_code: 1
    ----- stdout -----
    ::error file=tests/corpus/rule-unknown-operator.yaml,line=8,col=17,title=convctl::invalid rule: unknown operator `icontains`; did you mean `i_contains`? operators are i_contains, i_not_contains, contains, not_contains, eq, neq, lt, lte, gt, gte, regex_match%0Ahelp: a rule is `and`/`or` over a list, `not` over a rule, or `<field>: {<operator>: <value>}`
    invalid: 1 error, 0 warnings
    ----- stderr -----
    ");
}
