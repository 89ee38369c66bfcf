//! `schema.json`: the JSON Schema of one manifest document (an account or a set), generated
//! from the file-format types in `manifest::format` (draft-07, what editors' YAML language servers read best). The test
//! `tests/suite/manifest/schema.rs` fails when the checked-in file is stale; `UPDATE_SCHEMA=1
//! cargo test --test suite manifest::schema` rewrites it. It never decides validity: `convctl
//! validate` does, and the schema rejects all it can of what `validate` rejects
//! (tests/suite/manifest/schema_strictness.rs lists what JSON Schema cannot express).
//!
//! Optional fields are simply not required: the `null` that schemars allows for an `Option`
//! is taken out, because a manifest never needs to write `null` and editors would otherwise
//! offer it as a completion and report "is not of type 'null'" as the best match.

use crate::manifest::format::AnyDocument;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

/// The schema as a JSON value.
pub(crate) fn manifest_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<AnyDocument>();
    let mut value = schema.to_value();
    without_null(&mut value);
    value
}

/// The schema as the text of `schema.json` (pretty, with a final newline).
pub fn manifest_schema_text() -> String {
    let mut text =
        serde_json::to_string_pretty(&manifest_schema()).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// Removes `null` from every `type` list and every `{"type": "null"}` branch of an `anyOf`,
/// merging a lone remaining branch into its parent.
fn without_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                without_null(child);
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            let lone = match map.get_mut("anyOf") {
                Some(Value::Array(branches)) => {
                    branches.retain(|b| b != &serde_json::json!({"type": "null"}));
                    (branches.len() == 1).then(|| branches.remove(0))
                }
                _ => None,
            };
            if let Some(branch) = lone {
                map.remove("anyOf");
                merge(map, branch);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(without_null),
        _ => {}
    }
}

/// Puts `branch`'s keywords into `map` (a `$ref` under `allOf`: draft-07 ignores the
/// siblings of a `$ref`, and the parent's title and description must stay visible).
fn merge(map: &mut Map<String, Value>, branch: Value) {
    let Value::Object(branch) = branch else {
        return;
    };
    for (key, value) in branch {
        if key == "$ref" {
            map.insert(
                "allOf".into(),
                Value::Array(vec![serde_json::json!({"$ref": value})]),
            );
        } else {
            map.entry(key).or_insert(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property and every operator, wherever it is, says what it is in user words.
    #[test]
    fn every_field_and_operator_has_a_title_and_descriptions() {
        fn walk(path: &str, value: &Value, seen: &mut usize) {
            let Value::Object(map) = value else {
                if let Value::Array(items) = value {
                    for (i, item) in items.iter().enumerate() {
                        walk(&format!("{path}[{i}]"), item, seen);
                    }
                }
                return;
            };
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, property) in properties {
                    let at = format!("{path}.{name}");
                    let lookup = |key: &str| {
                        property
                            .get(key)
                            .and_then(Value::as_str)
                            .unwrap_or_else(|| panic!("{at} has no {key}"))
                    };
                    let plain = lookup("description");
                    lookup("title");
                    lookup("markdownDescription");
                    assert!(
                        !plain.contains('`'),
                        "{at}: backticks in a plain description"
                    );
                    *seen += 1;
                }
            }
            // Constraints (`if`/`then`/`else`, `not`, the entry and document rules) name
            // fields without declaring them.
            for (key, child) in map {
                if !["if", "then", "else", "not", "allOf"].contains(&key.as_str()) {
                    walk(&format!("{path}/{key}"), child, seen);
                }
            }
        }
        let schema = manifest_schema();
        let mut seen = 0;
        walk("", &schema, &mut seen);
        assert!(seen > 30, "{seen}");
        let text = manifest_schema_text();
        for internal in ["seed", "crate::", "Schema-only", "(see `"] {
            assert!(!text.contains(internal), "{internal} in schema.json");
        }
        assert!(!text.contains("\"null\""), "a null type is left");
    }

    #[test]
    fn every_operator_of_the_rule_grammar_is_in_the_schema() {
        let schema = manifest_schema();
        let operators = schema["definitions"]["Condition"]["properties"]
            .as_object()
            .unwrap();
        for op in crate::rule::Operator::ALL {
            assert!(operators.contains_key(op.as_str()), "{}", op.as_str());
        }
        assert_eq!(operators.len(), crate::rule::Operator::ALL.len());
    }
}
