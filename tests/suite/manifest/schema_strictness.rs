//! schema.json is as strict as `convctl validate` can be in JSON Schema. A real validator (the
//! `jsonschema` crate, and Python's `check-jsonschema` to the same verdicts) runs over every
//! document of the bad-manifest corpus (tests/corpus): each entry is rejected, unless it is one of
//! the few that JSON Schema cannot express, listed below with the reason, and those are checked to
//! still pass (so the list can only shrink). Valid manifests of every shape pass.

use crate::support::tools;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What JSON Schema cannot express, and why. `None`: the file is not YAML a validator could
/// be given at all (the YAML parser, not the schema, must refuse it).
const INEXPRESSIBLE: &[(&str, &str, bool)] = &[
    (
        "alias-bomb.yaml",
        "YAML aliases expanded before any schema sees the document",
        false,
    ),
    ("binary-junk.yaml", "not UTF-8 text, so not YAML", false),
    ("syntax-tab-indent.yaml", "invalid YAML", false),
    ("syntax-unclosed-bracket.yaml", "invalid YAML", false),
    (
        "nul-byte.yaml",
        "a NUL byte: the YAML parser refuses the file before a schema sees it",
        false,
    ),
    (
        "empty.yaml",
        "no document at all: a schema validates documents",
        false,
    ),
    (
        "duplicate-key.yaml",
        "a YAML parser keeps one of two equal keys; the schema sees a mapping without duplicates",
        false,
    ),
    (
        "duplicate-accounts.yaml",
        "two documents declaring one account: a schema sees one document at a time",
        true,
    ),
    (
        "duplicate-names.yaml",
        "unique names across entries: uniqueItems compares whole entries, not one field",
        true,
    ),
    (
        "too-many-conversions.yaml",
        "at most 100 *present* entries: draft-07 can only count all items (no maxContains)",
        true,
    ),
    (
        "rule-bad-regex.yaml",
        "PCRE syntax: format regex is ECMA-262, which rejects valid PCRE (inline flags, possessive quantifiers)",
        true,
    ),
    (
        "rule-invalid-json-string.yaml",
        "JSON inside a string: a pattern checks it is an object's text, but balanced brackets are not a regular language",
        true,
    ),
    (
        "rule-nested-too-deep.yaml",
        "the nesting depth of JSON inside a string",
        true,
    ),
];

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema.json")).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).expect("schema.json is a valid JSON Schema")
}

/// Every YAML document of a text, as JSON (what an editor's language server validates). A text
/// without a document (only comments) is one empty document, `null`, as `validate` reads it
/// (an error: the file declares no account).
fn documents(text: &str) -> Vec<Value> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, super::schema::yaml_1_2()).unwrap();
    if documents.is_empty() {
        return vec![Value::Null];
    }
    documents
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

fn corpus() -> Vec<String> {
    let expected = std::fs::read_to_string(root().join("tests/corpus/EXPECTED")).unwrap();
    expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn every_expressible_corpus_entry_is_rejected() {
    let validator = validator();
    let mut rejected = 0;
    for name in corpus() {
        let inexpressible = INEXPRESSIBLE.iter().find(|(n, _, _)| *n == name);
        let path = root().join("tests/corpus").join(&name);
        match inexpressible {
            Some((_, _, false)) => continue,
            Some((_, why, true)) => {
                let text = std::fs::read_to_string(&path).unwrap();
                for doc in documents(&text) {
                    assert!(
                        validator.is_valid(&doc),
                        "{name} is now rejected by schema.json: remove it from INEXPRESSIBLE ({why})"
                    );
                }
            }
            None => {
                let text = std::fs::read_to_string(&path).unwrap();
                let docs = documents(&text);
                assert!(
                    docs.iter().any(|d| !validator.is_valid(d)),
                    "schema.json accepts tests/corpus/{name}"
                );
                rejected += 1;
            }
        }
    }
    assert!(rejected >= 27, "{rejected} entries rejected");
}

/// Entries an earlier schema accepted: no name, no rule, both rules, a bare tombstone, a
/// protected tombstone, a rule string that is not JSON, no event type anywhere.
#[test]
fn entries_an_earlier_schema_accepted_are_refused() {
    let validator = validator();
    let bad = [
        json!({"account": "act_1", "conversions": [{"custom_event_type": "LEAD", "rule": {"url": {"eq": "x"}}}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD", "rule": {"url": {"eq": "x"}}, "advanced_rule": {"x": 1}}]}),
        json!({"account": "act_1", "conversions": [{"ensure": "absent"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "ensure": "absent", "protect": true}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD", "rule": "url contains x"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD", "rule": "{url: {eq: x}}"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "rule": {"url": {"eq": "x"}}}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD", "advanced_rule": "not json"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD", "advanced_rule": {"x": 1}, "tests": {"match": [{"url": "x"}]}}]}),
        json!({"conversions": []}),
    ];
    for doc in bad {
        assert!(!validator.is_valid(&doc), "accepted: {doc}");
    }
}

#[test]
fn valid_manifests_of_every_shape_pass() {
    let validator = validator();
    let good = [
        json!({"account": "act_1", "conversions": [{"name": "A", "ensure": "absent"}]}),
        json!({"account": "1", "conversions": [{"id": "42", "ensure": "absent"}]}),
        json!({"account": "act_1", "defaults": {"custom_event_type": "PURCHASE"},
               "conversions": [{"name": "A", "rule": {"url": {"i_contains": "x"}}}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD",
               "rule": "{\"or\": [{\"url\": {\"i_contains\": \"thankyou.html\"}}]}"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD",
               "advanced_rule": "{\"x\": 1}"}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD",
               "advanced_rule": {"x": 1}}]}),
        json!({"account": "act_1", "conversions": [{"name": "A", "custom_event_type": "LEAD",
               "protect": true, "rule": {"not": {"value": {"gte": 10}}},
               "tests": {"match": [{"value": 1}], "no_match": [{"value": 20}]}}]}),
        json!({"version": 1, "account": 1234, "prune": true, "conversions": []}),
    ];
    for doc in good {
        let errors = errors(&validator, &doc);
        assert!(errors.is_empty(), "{doc}: {errors:#?}");
    }
    for file in example_files() {
        for doc in documents(&std::fs::read_to_string(&file).unwrap()) {
            let errors = errors(&validator, &doc);
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        }
    }
}

/// A wrong type is reported as the wrong type, never as "is not of type 'null'".
#[test]
fn errors_never_mention_null() {
    let validator = validator();
    let doc = json!({"account": "act_1", "prune": "yes",
                     "conversions": [{"name": ["a"], "custom_event_type": "LEAD", "rule": {"url": {"eq": "x"}}}]});
    let errors = errors(&validator, &doc);
    assert!(!errors.is_empty());
    for e in &errors {
        assert!(!e.contains("null"), "{e}");
    }
}

fn example_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("examples/conversions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// check-jsonschema (Python's jsonschema, what pre-commit runs) gives the same verdict as the
/// `jsonschema` crate on every document of the examples and of the corpus. It reads one
/// document per file, so each document is written to a file of its own.
#[test]
fn check_jsonschema_gives_the_same_verdicts() {
    let Some(check_jsonschema) = tools::require("check-jsonschema") else {
        return;
    };
    let validator = validator();
    let dir = tempfile::tempdir().unwrap();
    let mut rejected_here = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    let corpus_files = corpus()
        .into_iter()
        .filter(|name| !INEXPRESSIBLE.iter().any(|(n, _, yaml)| n == name && !yaml))
        .map(|name| root().join("tests/corpus").join(name));
    for file in example_files().into_iter().chain(corpus_files) {
        let text = std::fs::read_to_string(&file).unwrap();
        let stem = file.file_name().unwrap().to_string_lossy().into_owned();
        for (i, doc) in documents(&text).into_iter().enumerate() {
            let name = format!("{stem}.{i}.json");
            std::fs::write(dir.path().join(&name), doc.to_string()).unwrap();
            if !validator.is_valid(&doc) {
                rejected_here.insert(name.clone());
            }
            files.push(name);
        }
    }
    assert!(files.len() > 40, "{files:?}");
    let out = std::process::Command::new(check_jsonschema)
        .args(["--output-format", "json", "--schemafile"])
        .arg(root().join("schema.json"))
        .args(&files)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(report["parse_errors"], json!([]), "{report:#}");
    let rejected_there: std::collections::BTreeSet<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["filename"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(rejected_there, rejected_here, "{report:#}");
}

/// An editor applies a modeline to the document it is in only: every document of every
/// example carries one (the first may have it above its `---`).
#[test]
fn every_example_document_declares_the_schema() {
    for file in example_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut documents: Vec<String> = vec![String::new()];
        for line in text.lines() {
            if line.trim_end() == "---" {
                documents.push(String::new());
            } else {
                documents.last_mut().unwrap().push_str(line);
                documents.last_mut().unwrap().push('\n');
            }
        }
        // A leading `---` only separates the comments above it from the first document.
        if text.lines().any(|l| l.trim_end() == "---")
            && documents[0]
                .lines()
                .all(|l| l.starts_with('#') || l.trim().is_empty())
        {
            let head = documents.remove(0);
            documents[0].insert_str(0, &head);
        }
        for (i, doc) in documents.iter().enumerate() {
            assert!(
                doc.contains("# yaml-language-server: $schema="),
                "{} document {} has no schema modeline",
                file.display(),
                i + 1
            );
        }
    }
}
