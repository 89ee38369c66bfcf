//! `schema.json` is generated from the file-format types and must not go stale; every example
//! manifest must fit those types. Regenerate with `UPDATE_SCHEMA=1 cargo test --test suite manifest::schema`.

use crate::support::{language_server, tools};
use convctl::manifest::format::{AnyDocument, to_yaml};
use serde_json::json;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn schema_json_is_fresh() {
    let path = root().join("schema.json");
    let generated = convctl::manifest::schema::manifest_schema_text();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "schema.json is stale: run `UPDATE_SCHEMA=1 cargo test --test suite manifest::schema` and commit it"
    );
}

fn example_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples/conversions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "at least three example manifests");
    files
}

#[test]
fn examples_fit_the_format_types_and_round_trip() {
    for file in example_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        // Sets and accounts (a fleet example holds both): written back one after the other.
        let mut written = String::new();
        let mut accounts = 0;
        let docs: Vec<AnyDocument> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for parsed in docs {
            accounts += usize::from(matches!(parsed, AnyDocument::Account(_)));
            // What import would write loads back to the same desired model.
            let one = to_yaml(&parsed);
            let again: AnyDocument = serde_saphyr::from_str(&one).unwrap();
            assert_eq!(parsed, again);
            written.push_str("---\n");
            written.push_str(&one);
        }
        let a = convctl::manifest::load_str(Path::new("x.yaml"), &written)
            .unwrap_or_else(|e| panic!("{written}\n{e:?}"));
        assert_eq!(a.accounts.len(), accounts);
    }
}

#[test]
fn examples_declare_the_schema_for_editors() {
    for file in example_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../../schema.json\n"),
            "{} must start with the yaml-language-server schema line",
            file.display()
        );
    }
}

/// What an editor shows: yaml-language-server, given no schema but the files' own modelines,
/// reports nothing in the examples, and every mistake of a broken manifest at its place.
#[test]
fn the_editor_checks_manifests_against_the_schema() {
    let Some(server) = tools::require("yaml-language-server") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        format!(
            "# yaml-language-server: $schema={}\naccount: act_1\nconversions:\n  - name: Buy\n    custom_event_type: purchase\n    rulez: {{url: {{eq: x}}}}\n",
            root().join("schema.json").display()
        ),
    )
    .unwrap();
    // No schema store (its catalogue is on the network) and no schema by file name.
    let settings =
        json!({"yaml": {"validate": true, "schemaStore": {"enable": false}, "schemas": {}}});
    let mut files = example_files();
    files.push(broken.clone());
    let published = language_server::diagnostics(&server, settings, &files);
    // By position, as an editor lists them.
    let shown = |file: &Path| -> Vec<String> {
        let mut found = published[&file.canonicalize().unwrap()].clone();
        found.sort_by_key(|d| {
            let start = &d["range"]["start"];
            (start["line"].as_u64(), start["character"].as_u64())
        });
        found
            .iter()
            .map(|d| {
                let start = &d["range"]["start"];
                format!(
                    "{}:{}: {}",
                    start["line"].as_u64().unwrap() + 1,
                    start["character"].as_u64().unwrap() + 1,
                    d["message"].as_str().unwrap()
                )
            })
            .collect()
    };
    for file in example_files() {
        assert_eq!(shown(&file), Vec::<String>::new(), "{}", file.display());
    }
    insta::assert_snapshot!(shown(&broken).join("\n"), @r#"
    4:5: Missing property "rule".
    5:24: Value is not accepted. Valid values: "ADD_PAYMENT_INFO", "ADD_TO_CART", "ADD_TO_WISHLIST", "COMPLETE_REGISTRATION", "CONTENT_VIEW", "INITIATED_CHECKOUT", "LEAD", "PURCHASE", "SEARCH", "CONTACT", "CUSTOMIZE_PRODUCT", "DONATE", "FIND_LOCATION", "SCHEDULE", "START_TRIAL", "SUBMIT_APPLICATION", "SUBSCRIBE", "LISTING_INTERACTION", "FACEBOOK_SELECTED", "OTHER".
    6:5: Property rulez is not allowed.
    "#);
}

/// Every YAML document of a file, as JSON (what an editor's language server validates).
fn documents_as_json(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple_with_options(text, yaml_1_2()).unwrap()
}

/// YAML as convctl reads it: scalars typed by the YAML 1.2 core schema (`yes` and `1_000` are
/// text), and `<<` an ordinary key (YAML 1.2 has no merge keys; `validate` refuses it).
pub fn yaml_1_2() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        underscored_numbers_as_strings: true,
        merge_keys: serde_saphyr::MergeKeyPolicy::AsOrdinary,
    }
}

fn schema_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root().join("schema.json")).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).expect("schema.json is a valid JSON Schema")
}

#[test]
fn examples_pass_the_schema() {
    let validator = schema_validator();
    for file in example_files() {
        for doc in documents_as_json(&std::fs::read_to_string(&file).unwrap()) {
            let errors: Vec<String> = validator
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
        }
    }
}

#[test]
fn the_schema_rejects_what_validate_rejects_in_shape() {
    let validator = schema_validator();
    for name in [
        "unknown-top-level-key.yaml",
        "unknown-entry-key.yaml",
        "custom-event-type-lowercase.yaml",
        "action-source-unknown.yaml",
        "id-not-digits.yaml",
        "account-malformed.yaml",
        "version-2.yaml",
        "name-too-long.yaml",
        "name-empty.yaml",
        "value-negative.yaml",
        "value-quoted.yaml",
        "rule-unknown-operator.yaml",
        "rule-numeric-operator-on-string.yaml",
        "rule-two-keys-in-one-object.yaml",
        "ensure-bad-value.yaml",
        "tests-not-a-list.yaml",
    ] {
        let text = std::fs::read_to_string(root().join("tests/corpus").join(name)).unwrap();
        let docs = documents_as_json(&text);
        assert!(
            docs.iter().any(|d| !validator.is_valid(d)),
            "schema.json accepts tests/corpus/{name}"
        );
    }
}
