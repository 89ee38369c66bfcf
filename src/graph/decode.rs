//! Reading one custom conversion out of the API's JSON into [`LiveConversion`], tolerantly:
//! numbers may come as strings, booleans as strings, the rule as a string or an object, and
//! any field may be missing (then it is unknown, `None`, never "changed"). The event source is
//! taken from `event_source_id`, else `data_sources[0].id`, else `pixel.id` (reference: Custom
//! conversions). Only `id` is required. This module never talks to the network.
//!
//! Two exceptions to "missing is unknown": `description` and `default_conversion_value` are
//! documented fields that convctl always asks for, and the Graph API leaves empty and default
//! values out of its answers. So an answer without them means an empty description and a value
//! of 0. Read as unknown, a manifest that adds a description to a conversion that has none
//! would never be applied, on every plan, with no word said.

use super::error::{ErrorKind, GraphError};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use serde_json::Value;

/// The fields convctl reads: exactly what [`LiveConversion`] holds.
pub(crate) const FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "rule",
    "advanced_rule",
    "custom_event_type",
    "event_source_id",
    "data_sources",
    "pixel",
    "action_source_type",
    "default_conversion_value",
    "is_archived",
    "is_unavailable",
    "creation_time",
    "first_fired_time",
    "last_fired_time",
];

/// The fields whose readability is undocumented (or, for `pixel`, needs extra permissions):
/// when the API refuses the full list, the client asks again without them.
pub(crate) const OPTIONAL_FIELDS: &[&str] = &[
    "advanced_rule",
    "event_source_id",
    "pixel",
    "action_source_type",
];

/// Fields of [`LiveConversion`] that may be unknown, reported in verbose output
/// (`description` and `default_conversion_value` are never unknown when left out: see above).
const REPORTABLE: &[(&str, &[&str])] = &[
    ("rule", &["rule"]),
    ("custom_event_type", &["custom_event_type"]),
    (
        "event_source_id",
        &["event_source_id", "data_sources", "pixel"],
    ),
    ("action_source_type", &["action_source_type"]),
];

/// Text fields: a string (or absent / null) and nothing else.
const TEXT_FIELDS: &[&str] = &[
    "name",
    "description",
    "custom_event_type",
    "action_source_type",
    "creation_time",
    "first_fired_time",
    "last_fired_time",
];

/// Refuses an item whose text or rule fields have the wrong JSON type. Coercing them (`false`
/// read as the name "false") would make a damaged answer look like a real conversion that
/// differs: the check of a create whose answer was lost would then find no match and send the
/// create again, making a duplicate. A refused listing makes that check "uncertain" instead.
fn check_types(item: &Value) -> Result<(), GraphError> {
    let wrong = |key: &str, expected: &str| {
        GraphError::new(
            ErrorKind::Protocol,
            format!(
                "the API answered a conversion whose `{key}` is not {expected}: {}",
                short(item)
            ),
        )
    };
    for key in TEXT_FIELDS {
        if !matches!(item.get(*key), None | Some(Value::Null | Value::String(_))) {
            return Err(wrong(key, "a string"));
        }
    }
    for key in ["rule", "advanced_rule"] {
        if !matches!(
            item.get(key),
            None | Some(Value::Null | Value::String(_) | Value::Object(_))
        ) {
            return Err(wrong(key, "a JSON rule"));
        }
    }
    Ok(())
}

pub(crate) fn parse_conversion(item: &Value) -> Result<LiveConversion, GraphError> {
    check_types(item)?;
    let id = item
        .get("id")
        .and_then(id_text)
        .and_then(|t| ConversionId::parse(&t).ok())
        .ok_or_else(|| {
            GraphError::new(
                ErrorKind::Protocol,
                format!(
                    "the API listed a conversion without a valid id: {}",
                    short(item)
                ),
            )
        })?;
    let event_source_id = item
        .get("event_source_id")
        .and_then(id_text)
        .or_else(|| item.get("data_sources").and_then(first_source_id))
        .or_else(|| {
            item.get("pixel")
                .and_then(|p| p.get("id"))
                .and_then(id_text)
        });
    Ok(LiveConversion {
        id,
        name: text(item, "name"),
        description: text(item, "description")
            .or_else(|| absent(item, "description").then(String::new)),
        rule: json_text(item, "rule"),
        advanced_rule: json_text(item, "advanced_rule"),
        custom_event_type: text(item, "custom_event_type"),
        event_source_id,
        action_source_type: text(item, "action_source_type"),
        default_conversion_value: match item.get("default_conversion_value") {
            None | Some(Value::Null) => Some(0.0),
            Some(value) => number(value),
        },
        is_archived: item.get("is_archived").is_some_and(truthy),
        is_unavailable: item.get("is_unavailable").is_some_and(truthy),
        creation_time: text(item, "creation_time"),
        first_fired_time: text(item, "first_fired_time"),
        last_fired_time: text(item, "last_fired_time"),
    })
}

/// Is `key` left out of the answer (or null)? Such a value is the API's empty/default one.
fn absent(item: &Value, key: &str) -> bool {
    item.get(key).is_none_or(Value::is_null)
}

/// The reportable fields that none of `items` carried.
pub(crate) fn missing_fields(items: &[Value]) -> Vec<&'static str> {
    if items.is_empty() {
        return Vec::new();
    }
    REPORTABLE
        .iter()
        .filter(|(_, keys)| {
            !items
                .iter()
                .any(|i| keys.iter().any(|k| i.get(*k).is_some_and(|v| !v.is_null())))
        })
        .map(|(name, _)| *name)
        .collect()
}

fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn first_source_id(sources: &Value) -> Option<String> {
    sources
        .as_array()?
        .iter()
        .find_map(|s| s.get("id").and_then(id_text))
}

/// A text field; [`check_types`] has already refused any other JSON type for it.
fn text(item: &Value, key: &str) -> Option<String> {
    item.get(key)?.as_str().map(str::to_string)
}

/// A JSON-valued field the API sends as a string (`rule`); an object is serialised.
fn json_text(item: &Value, key: &str) -> Option<String> {
    match item.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        v @ Value::Object(_) => Some(v.to_string()),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    n.is_finite().then_some(n)
}

fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1"),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

fn short(item: &Value) -> String {
    let text = item.to_string();
    if text.len() > 120 {
        format!("{}…", &text[..text.floor_char_boundary(120)])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_full_answer() {
        let c = parse_conversion(&json!({
            "id": "23850000000000001", "name": "Purchase > 100", "description": "big",
            "rule": "{\"and\":[{\"event\":{\"eq\":\"Purchase\"}}]}", "custom_event_type": "PURCHASE",
            "data_sources": [{"id": "555", "source_type": "PIXEL", "name": "px"}], "pixel": {"id": "666"},
            "default_conversion_value": 12, "is_archived": false, "is_unavailable": true,
            "creation_time": "2026-01-01T00:00:00+0000", "last_fired_time": "2026-02-01T00:00:00+0000"
        }))
        .unwrap();
        assert_eq!(c.id.as_str(), "23850000000000001");
        assert_eq!(
            c.event_source_id.as_deref(),
            Some("555"),
            "data_sources before pixel"
        );
        assert_eq!(c.default_conversion_value, Some(12.0));
        assert!(c.is_unavailable && !c.is_archived);
        assert_eq!(c.first_fired_time, None);
    }

    #[test]
    fn tolerates_strings_numbers_and_absence() {
        let c = parse_conversion(&json!({
            "id": 123, "default_conversion_value": "12.50", "is_archived": "true",
            "pixel": {"id": 777}, "rule": {"url": {"i_contains": "x"}}
        }))
        .unwrap();
        assert_eq!(c.id.as_str(), "123");
        assert_eq!(c.name, None, "a name the answer did not carry is unknown");
        assert_eq!(c.default_conversion_value, Some(12.5));
        assert!(c.is_archived);
        assert_eq!(c.event_source_id.as_deref(), Some("777"));
        assert_eq!(c.rule.as_deref(), Some(r#"{"url":{"i_contains":"x"}}"#));
        assert_eq!((c.custom_event_type, c.action_source_type), (None, None));
        let odd = parse_conversion(
            &json!({"id": "9", "default_conversion_value": "n/a", "event_source_id": "42"}),
        )
        .unwrap();
        assert_eq!(
            (odd.default_conversion_value, odd.event_source_id.as_deref()),
            (None, Some("42"))
        );
        assert_eq!(
            parse_conversion(&json!({"name": "no id"}))
                .unwrap_err()
                .kind,
            ErrorKind::Protocol
        );
        assert!(parse_conversion(&json!({"id": "12a"})).is_err());
    }

    /// The Graph API leaves empty and default values out: a conversion without a description
    /// reads as an empty one (so adding a description is planned as an update), and one
    /// without a value reads as 0; a value that cannot be read stays unknown.
    #[test]
    fn empty_description_and_default_value_are_left_out_by_the_api() {
        let c = parse_conversion(&json!({"id": "5", "name": "n"})).unwrap();
        assert_eq!(c.description.as_deref(), Some(""));
        assert_eq!(c.default_conversion_value, Some(0.0));
        let c = parse_conversion(
            &json!({"id": "5", "description": null, "default_conversion_value": null}),
        )
        .unwrap();
        assert_eq!(
            (c.description.as_deref(), c.default_conversion_value),
            (Some(""), Some(0.0))
        );
        let c = parse_conversion(&json!({"id": "5", "default_conversion_value": "n/a"})).unwrap();
        assert_eq!(c.default_conversion_value, None);
    }

    /// A damaged answer (`false` where a name, a text or a rule belongs) is refused, never read
    /// as a conversion that differs (which made the check of a lost create send it again:
    /// found by tests/suite/faults/damaged_answers.rs).
    #[test]
    fn wrong_types_in_text_or_rule_fields_are_refused() {
        for (key, bad) in [
            ("name", json!(false)),
            ("description", json!(7)),
            ("custom_event_type", json!(["PURCHASE"])),
            ("rule", json!(false)),
            ("advanced_rule", json!(3)),
            ("last_fired_time", json!({})),
        ] {
            let mut item = json!({"id": "5", "name": "n"});
            item[key] = bad;
            let e = parse_conversion(&item).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Protocol, "{key}");
        }
    }

    #[test]
    fn lists_fields_the_answer_never_carried() {
        let items = [
            json!({"id": "1", "rule": "{}", "data_sources": []}),
            json!({"id": "2", "pixel": {"id": "5"}}),
        ];
        let missing = missing_fields(&items);
        assert!(missing.contains(&"action_source_type") && missing.contains(&"custom_event_type"));
        assert!(!missing.contains(&"description"));
        assert!(!missing.contains(&"event_source_id") && !missing.contains(&"rule"));
    }
}
