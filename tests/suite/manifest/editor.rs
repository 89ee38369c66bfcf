//! What people see of a manifest's mistakes before running convctl: the schema's messages in
//! an editor (yaml-language-server, over the Language Server Protocol: `support::language_server`)
//! and from `check-jsonschema`. The real error comes first, not
//! the other document kind's complaints; a set's parameters are no error; the three cases
//! that used to read as a raw pattern or "Matches a schema that is not allowed" say what to
//! fix.

use crate::support::{language_server, tools};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const ACCOUNT: &str = "account: act_1
conversions:
  - name: A
    custom_event_type: PURCHASE
    rule: {url: {i_contains: x}}
    colour: red
";

const SET: &str = "set: shop
conversions:
  - name: Big (${domain})
    custom_event_type: ${type}
    ensure: ${state}
    default_conversion_value: ${value}
    rule: {and: [{value: {gt: \"${min}\"}}, {url: {i_contains: \"${domain}\"}}, {\"${field}\": {eq: 1}}]}
";

const CRYPTIC: &str = "account: act_1
conversions:
  - name: A
    custom_event_type: PURCHASE
    rule: \"url contains thankyou\"
  - name: B
    custom_event_type: PURCHASE
    rule: {url: {i_contains: x}}
    advanced_rule: {\"x\": 1}
  - name: C
    ensure: absent
    protect: true
";

fn files() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let paths = [
        ("account.yaml", ACCOUNT),
        ("set.yaml", SET),
        ("cryptic.yaml", CRYPTIC),
    ]
    .iter()
    .map(|(name, text)| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    })
    .collect();
    (dir, paths)
}

/// `line:col: message` lines (1-based), as the editor shows them, with
/// the schema given as an editor's glob setting would.
fn editor(server: &Path, file: &Path) -> String {
    let schema = format!("file://{}", root().join("schema.json").display());
    let file = file.canonicalize().unwrap();
    let settings = json!({"yaml": {"validate": true, "schemaStore": {"enable": false},
                                   "schemas": {schema: [file.display().to_string()]}}});
    let published = language_server::diagnostics(server, settings, std::slice::from_ref(&file));
    let mut found = published[&file].clone();
    found.sort_by_key(|d| {
        let start = &d["range"]["start"];
        (start["line"].as_u64(), start["character"].as_u64())
    });
    found
        .iter()
        .map(|d| {
            let start = &d["range"]["start"];
            format!(
                "{}:{}: {}\n",
                start["line"].as_u64().unwrap() + 1,
                start["character"].as_u64().unwrap() + 1,
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn the_editor_shows_the_real_error_and_plain_words() {
    let Some(server) = tools::require("yaml-language-server") else {
        return;
    };
    let (_dir, files) = files();
    assert_eq!(
        editor(&server, &files[0]),
        "6:5: Property colour is not allowed.\n"
    );
    assert_eq!(
        editor(&server, &files[1]),
        "",
        "a set's parameters are no error"
    );
    assert_eq!(
        editor(&server, &files[2]),
        "5:11: A rule written as a string is the JSON text of an object, e.g. '{\"url\": {\"i_contains\": \"thankyou\"}}'. Or write it as YAML: {url: {i_contains: thankyou}}.\n\
         9:20: Give rule or advanced_rule, not both: drop advanced_rule to keep convctl's rule.\n\
         12:14: protect: true keeps a conversion; ensure: absent deletes it. Drop one of them.\n"
    );
}

fn check_jsonschema(tool: &Path, file: &Path) -> (bool, String) {
    let out = Command::new(tool)
        .arg("--schemafile")
        .arg(root().join("schema.json"))
        .arg(file.file_name().unwrap())
        .current_dir(file.parent().unwrap())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[test]
fn check_jsonschema_leads_with_the_real_error() {
    let Some(tool) = tools::require("check-jsonschema") else {
        return;
    };
    let (_dir, files) = files();
    let (ok, report) = check_jsonschema(&tool, &files[0]);
    assert!(!ok);
    assert_eq!(
        report.trim(),
        "Schema validation errors were encountered.\n  account.yaml::$.conversions[0]: Additional properties are not allowed ('colour' was unexpected)"
    );
    let (ok, report) = check_jsonschema(&tool, &files[1]);
    assert!(ok, "{report}");
    let (ok, report) = check_jsonschema(&tool, &files[2]);
    assert!(!ok);
    for line in [
        "cryptic.yaml::$.conversions[1].advanced_rule: \"Give rule or advanced_rule, not both: drop advanced_rule to keep convctl's rule.\" was expected",
        "cryptic.yaml::$.conversions[2].protect: 'protect: true keeps a conversion; ensure: absent deletes it. Drop one of them.' was expected",
    ] {
        assert!(report.contains(line), "{line}\nnot in:\n{report}");
    }
}
