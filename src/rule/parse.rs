//! Parsing and validation of rules: grammar, operators, operand types, PCRE syntax.

use super::{Condition, Operand, Operator, Rule};
use serde_json::Value;

/// Rules deeper than this are refused (a guard against stack exhaustion on hostile input).
pub const MAX_DEPTH: usize = 32;

/// What is wrong with a rule, and where inside it (`and[1].value.gt`).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}{}", if path.is_empty() { String::new() } else { format!(" (at rule path `{path}`)") })]
pub struct RuleError {
    pub path: String,
    pub message: String,
}

impl RuleError {
    fn at(path: &str, message: impl Into<String>) -> Self {
        RuleError {
            path: path.to_string(),
            message: message.into(),
        }
    }
}

pub(super) fn from_json_str(text: &str) -> Result<Rule, RuleError> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        RuleError::at("", format!("the rule is not valid JSON: {e}; write it as a JSON object such as {{\"url\":{{\"i_contains\":\"thankyou\"}}}}"))
    })?;
    from_value(&value)
}

pub(super) fn from_value(value: &Value) -> Result<Rule, RuleError> {
    parse_node(value, "", 0)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn parse_node(value: &Value, path: &str, depth: usize) -> Result<Rule, RuleError> {
    if depth > MAX_DEPTH {
        return Err(RuleError::at(
            path,
            format!("the rule is nested deeper than {MAX_DEPTH} levels; flatten it"),
        ));
    }
    let map = match value {
        Value::Object(map) => map,
        other => {
            return Err(RuleError::at(
                path,
                format!(
                    "expected an object such as {{\"and\": [...]}} or {{\"url\": {{\"i_contains\": \"...\"}}}}, found {}",
                    kind(other)
                ),
            ));
        }
    };
    if map.len() != 1 {
        return Err(RuleError::at(
            path,
            format!(
                "each rule object must have exactly one key (`and`, `or`, `not` or a field name), found {}; combine conditions with `and`",
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
    let here = join(path, key);
    match key.as_str() {
        "and" | "or" => {
            let items = inner.as_array().ok_or_else(|| {
                RuleError::at(
                    &here,
                    format!("`{key}` takes a list of rules, found {}", kind(inner)),
                )
            })?;
            if items.is_empty() {
                return Err(RuleError::at(
                    &here,
                    format!("`{key}` needs at least one rule"),
                ));
            }
            let rules = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &format!("{here}[{i}]"), depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if key == "and" {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            })
        }
        "not" => Ok(Rule::Not(Box::new(parse_node(inner, &here, depth + 1)?))),
        field => parse_condition(field, inner, &here).map(Rule::Leaf),
    }
}

fn parse_condition(field: &str, inner: &Value, path: &str) -> Result<Condition, RuleError> {
    if field.is_empty() {
        return Err(RuleError::at(
            path,
            "a condition needs a field name (`url`, `event` or a custom parameter)",
        ));
    }
    let ops = inner.as_object().ok_or_else(|| {
        RuleError::at(
            path,
            format!(
                "field `{field}` takes an operator object such as {{\"eq\": \"...\"}}, found {}",
                kind(inner)
            ),
        )
    })?;
    if ops.len() != 1 {
        return Err(RuleError::at(
            path,
            format!(
                "field `{field}` needs exactly one operator, found {}; combine several with `and`",
                ops.len()
            ),
        ));
    }
    let (op_name, operand) = ops.iter().next().expect("one key");
    let op_path = join(path, op_name);
    let operator = Operator::parse(op_name).ok_or_else(|| {
        let all: Vec<&str> = Operator::ALL.iter().map(|o| o.as_str()).collect();
        let hint = suggest(op_name, &all)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        RuleError::at(
            &op_path,
            format!(
                "unknown operator `{op_name}`; {hint}operators are {}",
                all.join(", ")
            ),
        )
    })?;
    let operand = match operand {
        Value::String(s) => Operand::Text(s.clone()),
        Value::Number(n) => Operand::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::Bool(b) => Operand::Bool(*b),
        other => {
            return Err(RuleError::at(
                &op_path,
                format!(
                    "operator `{op_name}` takes a string or a number, found {}",
                    kind(other)
                ),
            ));
        }
    };
    if operator.is_numeric() && !matches!(operand, Operand::Number(n) if n.is_finite()) {
        return Err(RuleError::at(
            &op_path,
            format!(
                "`{op_name}` compares numbers, so its value must be a number (write {op_name}: 100, not {op_name}: \"100\")"
            ),
        ));
    }
    if operator == Operator::RegexMatch {
        match &operand {
            Operand::Text(pattern) => {
                super::eval::check_pattern(pattern).map_err(|e| RuleError::at(&op_path, e))?
            }
            _ => {
                return Err(RuleError::at(
                    &op_path,
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
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
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
}
