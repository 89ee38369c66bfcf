//! [`CompactJson`]: a JSON value held as its compact text, for the rules a plan carries.
//!
//! A plan of 50,000 creates holds 50,000 rules. As `serde_json::Value` trees each one costs
//! about 1.3 KB (every single-key object is a B-tree node sized for eleven entries); as text it
//! costs its length. The plan keeps the text and builds a `Value` only for the moment one is
//! needed (rendering, serialising), so the document stays small without changing a byte of what
//! is shown or saved. It never decides anything about the value (canonical form is the
//! caller's job).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

/// A JSON value kept as compact JSON text (`{"url":{"i_contains":"/a"}}`). Serialises as the
/// value itself (not as a string), exactly as the `Value` it was made from.
#[derive(Clone)]
pub(crate) struct CompactJson(Box<str>);

impl CompactJson {
    pub(crate) fn new(value: &Value) -> CompactJson {
        CompactJson(value.to_string().into_boxed_str())
    }

    /// The value back. serde_json writes every `Value` as text it reads back identically
    /// (floats round-trip: the `float_roundtrip` feature is on).
    pub(crate) fn to_value(&self) -> Value {
        serde_json::from_str(&self.0).expect("CompactJson always holds the text of a Value")
    }

    #[cfg(test)]
    /// The compact JSON text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// What the API takes as a form field: the string itself when the value is a string (a live
    /// rule that did not parse is kept as its raw text), the compact JSON text otherwise (moved,
    /// not copied).
    pub(crate) fn into_api_string(self) -> String {
        match self.0.starts_with('"') {
            true => match self.to_value() {
                Value::String(s) => s,
                other => other.to_string(),
            },
            false => self.0.into_string(),
        }
    }
}

impl From<Value> for CompactJson {
    fn from(value: Value) -> CompactJson {
        CompactJson::new(&value)
    }
}

impl From<&Value> for CompactJson {
    fn from(value: &Value) -> CompactJson {
        CompactJson::new(value)
    }
}

/// Equal when the values are: same text, or texts that read back as equal values (`Value`'s
/// equality, e.g. `0.0` and `-0.0`), exactly as when the plan held `Value`s.
impl PartialEq for CompactJson {
    fn eq(&self, other: &CompactJson) -> bool {
        self.0 == other.0 || self.to_value() == other.to_value()
    }
}

impl fmt::Debug for CompactJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CompactJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Through a `Value`, so that a pretty serialiser indents it like any other value.
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CompactJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CompactJson, D::Error> {
        Value::deserialize(d).map(|v| CompactJson::new(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn samples() -> Vec<Value> {
        vec![
            json!({"and": [{"url": {"i_contains": "/a"}}, {"value": {"gt": 100}}]}),
            json!({"b": [1, 2.5, -0.0, 1e300, {"z": true, "a": null}], "a": "x\"\\/\n\u{1F600}"}),
            json!("not json {"),
            json!(18446744073709551615u64),
            json!(-9223372036854775808i64),
            json!(0.1),
            json!([]),
            json!({}),
        ]
    }

    #[test]
    fn holds_the_value_exactly() {
        for value in samples() {
            let compact = CompactJson::new(&value);
            assert_eq!(compact.to_value(), value);
            assert_eq!(compact.as_str(), value.to_string());
            assert_eq!(compact, CompactJson::from(value.clone()));
        }
    }

    #[derive(Serialize)]
    struct Field<T> {
        k: T,
    }

    /// Serialised (compact or pretty) and read back, it is byte for byte what the `Value` was.
    #[test]
    fn serialises_as_the_value_would() {
        for value in samples() {
            let compact = CompactJson::new(&value);
            assert_eq!(
                serde_json::to_string(&compact).unwrap(),
                serde_json::to_string(&value).unwrap()
            );
            assert_eq!(
                serde_json::to_string_pretty(&Field { k: &compact }).unwrap(),
                serde_json::to_string_pretty(&Field { k: &value }).unwrap()
            );
            let back: CompactJson =
                serde_json::from_str(&serde_json::to_string_pretty(&value).unwrap()).unwrap();
            assert_eq!(back.as_str(), value.to_string());
        }
    }

    #[test]
    fn api_strings_unwrap_strings_only() {
        assert_eq!(CompactJson::new(&json!("raw {")).into_api_string(), "raw {");
        assert_eq!(CompactJson::new(&json!([1])).into_api_string(), "[1]");
        assert_eq!(
            CompactJson::new(&json!({"url": {"eq": "/a"}})).into_api_string(),
            r#"{"url":{"eq":"/a"}}"#
        );
    }

    #[test]
    fn equality_is_the_values() {
        assert_eq!(
            CompactJson::new(&json!(0.0)),
            CompactJson::new(&json!(-0.0))
        );
        assert_ne!(CompactJson::new(&json!(1)), CompactJson::new(&json!(2)));
    }
}
