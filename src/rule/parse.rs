//! Parsing and validation of rules: grammar, operators, operand types, PCRE syntax.

use super::{Condition, Operand, Operator, Rule};
use serde_json::Value;

/// Rules deeper than this are refused (a guard against stack exhaustion on hostile input).
pub(crate) const MAX_DEPTH: usize = 32;

/// What is wrong with a rule, and where inside it (`and[1].value.gt`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}{}", if path.is_empty() { String::new() } else { format!(" (at rule path `{path}`)") })]
pub struct RuleError {
    /// Human-readable path inside the rule, e.g. `and[1].value.gt`.
    pub(crate) path: String,
    /// The same path as steps, so a caller can find the offending node in its own source
    /// (the manifest loader maps it back to a YAML line and column).
    pub(crate) steps: Vec<RuleStep>,
    pub(crate) message: String,
}

/// One step of a path inside a rule: an object key or a list index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RuleStep {
    Key(String),
    Index(usize),
}

fn render_path(steps: &[RuleStep]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            RuleStep::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            RuleStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

impl RuleError {
    fn at(steps: &[RuleStep], message: impl Into<String>) -> Self {
        RuleError {
            path: render_path(steps),
            steps: steps.to_vec(),
            message: message.into(),
        }
    }
}

pub(super) fn from_json_str(text: &str) -> Result<Rule, RuleError> {
    let value = strict_json(text).map_err(|e| {
        let message = e.to_string();
        if message.starts_with(DUPLICATE_KEY) {
            // The position is serde_json's: the end of the repeated key.
            RuleError::at(
                &[],
                format!(
                    "{message}; a JSON object must not repeat a key (which one would count is \
                     undefined): combine the conditions with `and`"
                ),
            )
        } else {
            RuleError::at(
                &[],
                format!(
                    "the rule is not valid JSON: {e}; write it as a JSON object such as \
                     {{\"url\":{{\"i_contains\":\"thankyou\"}}}}"
                ),
            )
        }
    })?;
    from_value(&value)
}

const DUPLICATE_KEY: &str = "duplicate key";

/// JSON text as a [`Value`], refusing an object that repeats a key (serde_json would silently
/// keep the last one; the YAML form refuses them too).
pub(crate) fn strict_json(text: &str) -> Result<Value, serde_json::Error> {
    use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

    struct Strict;

    impl<'de> DeserializeSeed<'de> for Strict {
        type Value = Value;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Strict {
        type Value = Value;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(v.into())
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element_seed(Strict)? {
                items.push(item);
            }
            Ok(Value::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            let mut out = serde_json::Map::new();
            while let Some(key) = map.next_key::<String>()? {
                if out.contains_key(&key) {
                    return Err(A::Error::custom(format!("{DUPLICATE_KEY} `{key}`")));
                }
                let value = map.next_value_seed(Strict)?;
                out.insert(key, value);
            }
            Ok(Value::Object(out))
        }
    }

    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

pub(super) fn from_value(value: &Value) -> Result<Rule, RuleError> {
    let mut steps = Vec::new();
    parse_node(value, &mut steps, 0)
}

fn with<T>(
    steps: &mut Vec<RuleStep>,
    step: RuleStep,
    f: impl FnOnce(&mut Vec<RuleStep>) -> T,
) -> T {
    steps.push(step);
    let out = f(steps);
    steps.pop();
    out
}

fn parse_node(value: &Value, steps: &mut Vec<RuleStep>, depth: usize) -> Result<Rule, RuleError> {
    if depth > MAX_DEPTH {
        return Err(RuleError::at(
            steps,
            format!("the rule is nested deeper than {MAX_DEPTH} levels; flatten it"),
        ));
    }
    let map = match value {
        Value::Object(map) => map,
        other => {
            return Err(RuleError::at(
                steps,
                format!(
                    "expected an object such as {{\"and\": [...]}} or {{\"url\": {{\"i_contains\": \"...\"}}}}, found {}",
                    kind(other)
                ),
            ));
        }
    };
    if map.len() != 1 {
        return Err(RuleError::at(
            steps,
            format!(
                "each rule object must have exactly one key (`and`, `or`, `not` or a field name), found {}; \
                 combine conditions with `and`",
                if map.is_empty() {
                    "none".to_string()
                } else {
                    map.keys()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
        ));
    }
    let (key, inner) = map.iter().next().expect("one key");
    with(steps, RuleStep::Key(key.clone()), |steps| {
        match key.as_str() {
            "and" | "or" => {
                let items = inner.as_array().ok_or_else(|| {
                    RuleError::at(
                        steps,
                        format!("`{key}` takes a list of rules, found {}", kind(inner)),
                    )
                })?;
                if items.is_empty() {
                    return Err(RuleError::at(
                        steps,
                        format!("`{key}` needs at least one rule"),
                    ));
                }
                let mut rules = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    rules.push(with(steps, RuleStep::Index(i), |steps| {
                        parse_node(item, steps, depth + 1)
                    })?);
                }
                Ok(if key == "and" {
                    Rule::And(rules)
                } else {
                    Rule::Or(rules)
                })
            }
            "not" => Ok(Rule::Not(Box::new(parse_node(inner, steps, depth + 1)?))),
            field => parse_condition(field, inner, steps).map(Rule::Leaf),
        }
    })
}

fn parse_condition(
    field: &str,
    inner: &Value,
    steps: &mut Vec<RuleStep>,
) -> Result<Condition, RuleError> {
    if field.trim().is_empty() {
        return Err(RuleError::at(
            steps,
            "a condition needs a field name (`url`, `event` or a custom parameter such as `value`)",
        ));
    }
    let ops = inner.as_object().ok_or_else(|| {
        let all: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
        let looks_like_operator =
            Operator::parse(field).is_some() || suggest(field, &all).is_some();
        let message = if looks_like_operator {
            format!(
                "`{field}` looks like an operator, but here it is read as a field name; \
                 write the field first: {{\"url\": {{\"{field}\": ...}}}}"
            )
        } else {
            format!(
                "field `{field}` takes an operator object such as {{\"eq\": \"...\"}}, found {}",
                kind(inner)
            )
        };
        RuleError::at(steps, message)
    })?;
    if ops.len() != 1 {
        return Err(RuleError::at(
            steps,
            format!(
                "field `{field}` needs exactly one operator, found {}; combine several with `and`",
                ops.len()
            ),
        ));
    }
    let (op_name, operand) = ops.iter().next().expect("one key");
    with(steps, RuleStep::Key(op_name.clone()), |steps| {
        let operator = Operator::parse(op_name).ok_or_else(|| {
            let all: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
            let hint = suggest(op_name, &all)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            RuleError::at(
                steps,
                format!(
                    "unknown operator `{op_name}`; {hint}operators are {}",
                    all.join(", ")
                ),
            )
        })?;
        let operand = match operand {
            Value::String(s) => Operand::Text(s.clone()),
            Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
                Some(f) => Operand::Number(f),
                None => {
                    return Err(RuleError::at(
                        steps,
                        format!("`{n}` is not a usable number"),
                    ));
                }
            },
            Value::Bool(b) => Operand::Bool(*b),
            other => {
                return Err(RuleError::at(
                    steps,
                    format!(
                        "operator `{op_name}` takes a string or a number, found {}",
                        kind(other)
                    ),
                ));
            }
        };
        if operator.is_numeric() && !matches!(operand, Operand::Number(_)) {
            return Err(RuleError::at(
                steps,
                format!(
                    "`{op_name}` compares numbers, so its value must be a number \
                     (write {op_name}: 100, not {op_name}: \"100\")"
                ),
            ));
        }
        if operator == Operator::RegexMatch {
            match &operand {
                Operand::Text(pattern) => super::eval::check_pattern(pattern)
                    .map_err(|e| RuleError::at(steps, e.to_string()))?,
                _ => {
                    return Err(RuleError::at(
                        steps,
                        "`regex_match` takes a PCRE pattern string",
                    ));
                }
            }
        }
        Ok(Condition {
            field: field.to_string(),
            operator,
            operand,
        })
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The closest candidate by edit distance, when it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (levenshtein(&word.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The YAML form refuses a repeated key; the JSON string form did not (serde_json keeps the
    /// last one, so `{"url":..., "url":...}` silently meant one condition).
    #[test]
    fn a_json_rule_with_a_repeated_key_is_refused() {
        for text in [
            r#"{"url":{"i_contains":"a"},"url":{"i_contains":"b"}}"#,
            r#"{"and":[{"url":{"eq":"a","eq":"b"}}]}"#,
            r#"{"or":[{"event":{"eq":"Lead"}}],"or":[]}"#,
        ] {
            let e = Rule::from_json_str(text).unwrap_err();
            assert!(e.message.starts_with("duplicate key `"), "{text}: {e}");
            assert!(e.message.contains("must not repeat a key"), "{e}");
        }
        // The same key in different objects is fine.
        assert!(Rule::from_json_str(r#"{"and":[{"url":{"eq":"a"}},{"url":{"eq":"b"}}]}"#).is_ok());
        // Other errors still say "not valid JSON".
        let e = Rule::from_json_str(r#"{"url":"#).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
        let e = Rule::from_json_str(r#"{"url":{"eq":"a"}} x"#).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
    }

    #[test]
    fn meaning_not_bytes() {
        let a =
            Rule::from_json_str(r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#)
                .unwrap();
        let b = Rule::from_json_str(
            "{ \"and\" : [ {\"event\": {\"eq\": \"Purchase\"}}, {\"value\":{\"gt\":100.0}} ] }",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            a.to_api_string(),
            r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#
        );
        let c = Rule::from_json_str(r#"{"url":{"i_contains":"a\/b"}}"#).unwrap();
        let d = Rule::from_json_str(r#"{"url":{"i_contains":"a/b"}}"#).unwrap();
        assert_eq!(c, d);
    }

    #[test]
    fn numeric_operators_need_numbers() {
        let e = Rule::from_json_str(r#"{"and":[{"value":{"gt":"100"}}]}"#).unwrap_err();
        assert_eq!(e.path, "and[0].value.gt");
        assert!(e.message.contains("must be a number"));
    }

    #[test]
    fn unknown_operator_suggests() {
        let e = Rule::from_json_str(r#"{"url":{"icontains":"x"}}"#).unwrap_err();
        assert!(
            e.message.contains("did you mean `i_contains`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn canonical_form_edge_cases() {
        let same = |a: &str, b: &str| {
            let (x, y) = (
                Rule::from_json_str(a).unwrap(),
                Rule::from_json_str(b).unwrap(),
            );
            assert_eq!(x, y, "{a} vs {b}");
        };
        same(
            r#"{"url":{"i_contains":"a\/b"}}"#,
            r#"{"url":{"i_contains":"a/b"}}"#,
        );
        same(r#"{"url":{"eq":"caf\u00e9"}}"#, r#"{"url":{"eq":"café"}}"#);
        same(r#"{"value":{"gt":100}}"#, r#"{"value":{"gt":100.0}}"#);
        same(r#"{"value":{"gt":1e2}}"#, r#"{"value":{"gt":100}}"#);
        same(r#"{"value":{"gt":-0.0}}"#, r#"{"value":{"gt":0}}"#);
        same(
            r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            r#"{"and":[{"value":{"gt":100.0}},{"event":{"eq":"Purchase"}}]}"#,
        );
        same(
            r#"{"or":[{"url":{"eq":"a"}},{"url":{"eq":"a"}}]}"#,
            r#"{"or":[{"url":{"eq":"a"}}]}"#,
        );
        let differ = |a: &str, b: &str| {
            assert_ne!(
                Rule::from_json_str(a).unwrap(),
                Rule::from_json_str(b).unwrap(),
                "{a} vs {b}"
            );
        };
        differ(r#"{"url":{"eq":"A"}}"#, r#"{"url":{"eq":"a"}}"#);
        differ(r#"{"value":{"eq":"100"}}"#, r#"{"value":{"eq":100}}"#);
        differ(
            r#"{"and":[{"url":{"eq":"a"}}]}"#,
            r#"{"or":[{"url":{"eq":"a"}}]}"#,
        );
        differ(
            r#"{"and":[{"url":{"eq":"a"}},{"url":{"eq":"b"}}]}"#,
            r#"{"and":[{"url":{"eq":"a"}}]}"#,
        );
        differ(r#"{"value":{"gt":100.5}}"#, r#"{"value":{"gt":100}}"#);
        // The API string is compact, and numbers integral when they are.
        let r = Rule::from_json_str("{ \"value\" : { \"gt\" : 100.0 } }").unwrap();
        assert_eq!(r.to_api_string(), r#"{"value":{"gt":100}}"#);
        let r = Rule::from_json_str(r#"{"value":{"gt":0.1}}"#).unwrap();
        assert_eq!(r.to_api_string(), r#"{"value":{"gt":0.1}}"#);
        let r = Rule::from_json_str(r#"{"url":{"eq":"été\/x"}}"#).unwrap();
        assert_eq!(r.to_api_string(), r#"{"url":{"eq":"été/x"}}"#);
        assert_eq!(Rule::from_json_str(&r.to_api_string()).unwrap(), r);
    }

    #[test]
    fn validation_errors() {
        let err = |t: &str| Rule::from_json_str(t).unwrap_err();
        assert!(err("").message.contains("not valid JSON"));
        assert!(err("[]").message.contains("expected an object"));
        assert!(err("{}").message.contains("found none"));
        assert!(err(r#"{"and":[]}"#).message.contains("at least one"));
        assert!(err(r#"{"and":{}}"#).message.contains("list of rules"));
        assert!(err(r#"{"url":"x"}"#).message.contains("operator object"));
        assert!(
            err(r#"{"i_contains":"x"}"#)
                .message
                .contains("looks like an operator")
        );
        assert!(
            err(r#"{"url":{"eq":"x","neq":"y"}}"#)
                .message
                .contains("exactly one operator")
        );
        assert!(err(r#"{"url":{"eq":null}}"#).message.contains("found null"));
        assert!(
            err(r#"{"url":{"eq":["a"]}}"#)
                .message
                .contains("found a list")
        );
        assert!(
            err(r#"{"url":{"regex_match":5}}"#)
                .message
                .contains("PCRE pattern string")
        );
        assert!(
            err(r#"{"url":{"regex_match":"a{2,1}"}}"#)
                .message
                .contains("not a valid PCRE")
        );
        assert!(
            err(r#"{"":{"eq":"x"}}"#)
                .message
                .contains("needs a field name")
        );
        let e = err(r#"{"and":[{"url":{"eq":"x"}},{"or":[{"v":{"gte":"1"}}]}]}"#);
        assert_eq!(e.path, "and[1].or[0].v.gte");
        assert_eq!(e.steps.len(), 6);
        let deep = format!(
            "{}{}{}",
            "{\"not\":".repeat(40),
            r#"{"u":{"eq":"x"}}"#,
            "}".repeat(40)
        );
        assert!(err(&deep).message.contains("nested deeper"));
        let very_deep = format!("{}{}", "{\"not\":".repeat(100_000), "}".repeat(100_000));
        assert!(err(&very_deep).message.contains("not valid JSON"));
    }
}
