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
//!
//! The document is an account or a set, chosen by `if`/`then`/`else` on the `set` key rather
//! than an `anyOf` of the two: with `anyOf`, validators lead an account's error with the set
//! branch's complaints ("Additional properties are not allowed ('account' ... were
//! unexpected)"). A set's rules take parameters wherever `validate` does: its entries use
//! copies of the rule definitions (`SetRule`, `SetRuleNode`, `SetCondition`, `SetEnsure`) in
//! which every number, boolean and enumerated value may also be a `${name}`, and a condition's
//! key may hold one.

use crate::manifest::format::AnyDocument;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The schema as a JSON value.
pub(crate) fn manifest_schema() -> Value {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<AnyDocument>();
    let mut value = schema.to_value();
    without_null(&mut value);
    account_or_set(&mut value);
    set_parameters(&mut value);
    value
}

/// The pattern of a value that is exactly one parameter, `${name}`.
const PARAMETER: &str = "^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$";

/// The root's `anyOf [ManifestDocument, SetDocument]` as `if set then SetDocument else
/// ManifestDocument`, so that each document is checked against the one shape it claims.
fn account_or_set(root: &mut Value) {
    let Some(map) = root.as_object_mut() else {
        return;
    };
    if map.remove("anyOf").is_none() {
        return;
    }
    map.insert("type".into(), json!("object"));
    map.insert("if".into(), json!({"required": ["set"]}));
    map.insert("then".into(), json!({"$ref": "#/definitions/SetDocument"}));
    map.insert(
        "else".into(),
        json!({"$ref": "#/definitions/ManifestDocument"}),
    );
}

/// A set's entries take `${name}` wherever `validate` does: the rule definitions they use are
/// copied under `Set` names, with parameters allowed for every value that is not free text.
fn set_parameters(root: &mut Value) {
    let Some(definitions) = root.get_mut("definitions").and_then(Value::as_object_mut) else {
        return;
    };
    let copies = ["Rule", "RuleNode", "Condition", "Ensure"];
    for name in copies {
        let Some(mut copy) = definitions.get(name).cloned() else {
            continue;
        };
        rename_refs(&mut copy, &copies);
        allow_parameters(&mut copy);
        if name == "Condition"
            && let Some(map) = copy.as_object_mut()
        {
            // `{"${op}": ...}`: an operator given by a parameter.
            map.insert(
                "patternProperties".into(),
                json!({"\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}": {"type": ["string", "number", "boolean"]}}),
            );
        }
        if name == "Rule"
            && let Some(Value::Array(branches)) = copy.get_mut("anyOf")
        {
            branches.push(json!({"type": "string", "pattern": PARAMETER}));
        }
        definitions.insert(format!("Set{name}"), copy);
    }
    if let Some(entry) = definitions.get_mut("SetEntry") {
        rename_refs(entry, &copies);
    }
}

/// `#/definitions/Rule` -> `#/definitions/SetRule`, for each of `names`.
fn rename_refs(value: &mut Value, names: &[&str]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref")
                && let Some(name) = target.strip_prefix("#/definitions/")
                && names.contains(&name)
            {
                *target = format!("#/definitions/Set{name}");
            }
            map.values_mut().for_each(|v| rename_refs(v, names));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, names)),
        _ => {}
    }
}

/// Every schema that takes a number, an integer, a boolean or one of listed values also takes
/// a `${name}`: `{"type": "number"}` becomes `{"anyOf": [{"type": "number"}, {parameter}]}`
/// (titles and descriptions stay outside).
fn allow_parameters(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.values_mut().for_each(allow_parameters);
            let closed = map.contains_key("enum")
                || map.contains_key("const")
                || match map.get("type") {
                    Some(Value::String(t)) => t != "string" && t != "object" && t != "array",
                    Some(Value::Array(types)) => !types.iter().any(|t| t == "string"),
                    _ => false,
                };
            if !closed {
                return;
            }
            let mut constraint = Map::new();
            for key in ["type", "enum", "const", "minimum", "maximum", "pattern"] {
                if let Some(v) = map.remove(key) {
                    constraint.insert(key.into(), v);
                }
            }
            map.insert(
                "anyOf".into(),
                json!([constraint, {"type": "string", "pattern": PARAMETER}]),
            );
        }
        Value::Array(items) => items.iter_mut().for_each(allow_parameters),
        _ => {}
    }
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
