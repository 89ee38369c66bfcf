//! `schema.json`: the JSON Schema of one manifest document (an account or a set), generated from the file-format types
//! in `manifest::format` (draft-07, what editors' YAML language servers read best). The test
//! `tests/manifest_schema.rs` fails when the checked-in file is stale; `UPDATE_SCHEMA=1 cargo
//! test --test manifest_schema` rewrites it. It never decides validity: `convctl validate` does.

use crate::manifest::format::AnyDocument;
use schemars::generate::SchemaSettings;

/// The schema as a JSON value.
pub fn manifest_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<AnyDocument>();
    schema.to_value()
}

/// The schema as the text of `schema.json` (pretty, with a final newline).
pub fn manifest_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&manifest_schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}
