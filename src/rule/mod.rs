//! The rule model: what a custom conversion counts (reference: Rules).
//!
//! A rule is parsed once, from a YAML mapping (converted to JSON) or a JSON string, into
//! [`Rule`], a tree that owns its meaning: key order, whitespace, `\/` escapes and `100` vs
//! `100.0` are gone after parsing, so `==` compares meaning. The plan, the emulator and
//! `convctl test` all use this one model; it must never touch the network or the file system.

mod eval;
mod parse;
mod satisfiable;

pub(crate) use eval::{EvalError, Event};
pub use parse::RuleError;
pub(crate) use parse::{RuleStep, strict_json, suggest};

use serde_json::Value;
use std::fmt;

/// A parsed, validated rule.
///
/// `==` compares meaning: besides what parsing already normalises (key order, whitespace, `\/`,
/// `100` vs `100.0`), the items of `and` and `or` compare as sets, since their order and
/// repetition never change what a rule counts. Reordering conditions in a manifest therefore
/// never plans a replacement (which would cost the conversion its history).
#[derive(Clone, Debug)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    /// `{"not": rule}` (a convention of ours: the reference marks it so).
    Not(Box<Rule>),
    Leaf(Condition),
}

/// `{"<field>": {"<operator>": <operand>}}`.
#[derive(Clone, Debug)]
pub struct Condition {
    /// `url`, `event`, or any custom parameter of the event, spelled as written (rules made in
    /// Meta's UI say `URL`: kept, so that an imported rule round-trips unchanged).
    pub(crate) field: String,
    pub(crate) operator: Operator,
    pub(crate) operand: Operand,
}

/// The key rules made in Meta's UI use for the page URL. They fire on Meta (reference: Rules),
/// so it means what `url` means.
const UI_URL_KEY: &str = "URL";

impl Condition {
    /// The event data the condition reads: `url` for both `url` and the UI's `URL`, else the
    /// field as written.
    pub(crate) fn data(&self) -> &str {
        if self.field == UI_URL_KEY {
            "url"
        } else {
            &self.field
        }
    }
}

/// Meaning, not spelling: `URL` and `url` read the same data.
impl PartialEq for Condition {
    fn eq(&self, other: &Condition) -> bool {
        self.data() == other.data()
            && self.operator == other.operator
            && self.operand == other.operand
    }
}

/// The operators of the rule language (reference: Rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operator {
    IContains,
    INotContains,
    Contains,
    NotContains,
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    RegexMatch,
}

impl Operator {
    pub(crate) const ALL: &'static [Operator] = &[
        Operator::IContains,
        Operator::INotContains,
        Operator::Contains,
        Operator::NotContains,
        Operator::Eq,
        Operator::Neq,
        Operator::Lt,
        Operator::Lte,
        Operator::Gt,
        Operator::Gte,
        Operator::RegexMatch,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operator::IContains => "i_contains",
            Operator::INotContains => "i_not_contains",
            Operator::Contains => "contains",
            Operator::NotContains => "not_contains",
            Operator::Eq => "eq",
            Operator::Neq => "neq",
            Operator::Lt => "lt",
            Operator::Lte => "lte",
            Operator::Gt => "gt",
            Operator::Gte => "gte",
            Operator::RegexMatch => "regex_match",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Operator> {
        Operator::ALL.iter().copied().find(|o| o.as_str() == text)
    }

    /// `lt`, `lte`, `gt`, `gte`: the operand must be a number.
    pub(crate) fn is_numeric(self) -> bool {
        matches!(
            self,
            Operator::Lt | Operator::Lte | Operator::Gt | Operator::Gte
        )
    }
}

/// The right-hand side of a condition. Numbers compare by value (`100 == 100.0`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Operand {
    Text(String),
    Number(f64),
    Bool(bool),
}

impl Rule {
    /// Parses a rule from its JSON text (as the API stores it, or as a manifest string).
    pub fn from_json_str(text: &str) -> Result<Rule, RuleError> {
        parse::from_json_str(text)
    }

    /// Parses a rule from a JSON value (a YAML mapping converted to JSON).
    pub fn from_value(value: &Value) -> Result<Rule, RuleError> {
        parse::from_value(value)
    }

    /// The canonical JSON value: single-key objects, numbers normalised (integral values
    /// within ±2^53 are written as integers).
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Rule::And(items) => single(
                "and",
                Value::Array(items.iter().map(Rule::to_value).collect()),
            ),
            Rule::Or(items) => single(
                "or",
                Value::Array(items.iter().map(Rule::to_value).collect()),
            ),
            Rule::Not(inner) => single("not", inner.to_value()),
            Rule::Leaf(c) => single(&c.field, single(c.operator.as_str(), c.operand.to_value())),
        }
    }

    /// The compact JSON string the API takes as the `rule` form field.
    pub fn to_api_string(&self) -> String {
        self.to_value().to_string()
    }

    /// A text that two rules share exactly when they are `==` (same meaning): the canonical
    /// JSON with the items of every `and` and `or` sorted and without repeats. Where many rules
    /// are compared with many (the API's refusal of a second conversion with the same rule),
    /// keys are compared instead of trees.
    pub(crate) fn meaning_key(&self) -> String {
        fn key(rule: &Rule) -> Value {
            let items = |items: &[Rule]| {
                let mut keyed: Vec<(String, Value)> = items
                    .iter()
                    .map(|r| {
                        let v = key(r);
                        (v.to_string(), v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                keyed.dedup_by(|a, b| a.0 == b.0);
                Value::Array(keyed.into_iter().map(|(_, v)| v).collect())
            };
            match rule {
                Rule::And(list) => single("and", items(list)),
                Rule::Or(list) => single("or", items(list)),
                Rule::Not(inner) => single("not", key(inner)),
                // The data read, not its spelling (`URL` is `url`).
                Rule::Leaf(c) => {
                    single(c.data(), single(c.operator.as_str(), c.operand.to_value()))
                }
            }
        }
        key(self).to_string()
    }

    /// Does an event satisfy the rule? (reference: Rules; a missing field is false). An error
    /// when a `regex_match` that decides the outcome cannot be evaluated (PCRE's match or
    /// depth limit, an invalid pattern): never a guess.
    pub fn matches(&self, event: &Event) -> Result<bool, EvalError> {
        eval::matches(self, event)
    }

    /// Are all the rule's conditions on `event` (none on the page or a parameter)? Meta
    /// refuses such a rule when a conversion is created (reference: Rules, subcode 1760020).
    pub(crate) fn only_on_event(&self) -> bool {
        let conditions = self.conditions();
        !conditions.is_empty() && conditions.iter().all(|c| c.data() == "event")
    }

    /// Every condition of the rule, depth first.
    pub(crate) fn conditions(&self) -> Vec<&Condition> {
        let mut out = Vec::new();
        fn walk<'a>(rule: &'a Rule, out: &mut Vec<&'a Condition>) {
            match rule {
                Rule::And(items) | Rule::Or(items) => items.iter().for_each(|r| walk(r, out)),
                Rule::Not(inner) => walk(inner, out),
                Rule::Leaf(c) => out.push(c),
            }
        }
        walk(self, &mut out);
        out
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        fn same_set(a: &[Rule], b: &[Rule]) -> bool {
            a.iter().all(|x| b.contains(x)) && b.iter().all(|y| a.contains(y))
        }
        match (self, other) {
            (Rule::And(a), Rule::And(b)) | (Rule::Or(a), Rule::Or(b)) => same_set(a, b),
            (Rule::Not(a), Rule::Not(b)) => a == b,
            (Rule::Leaf(a), Rule::Leaf(b)) => a == b,
            _ => false,
        }
    }
}

impl Operand {
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Operand::Text(s) => Value::String(s.clone()),
            Operand::Number(n) => number_value(*n),
            Operand::Bool(b) => Value::Bool(*b),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_api_string())
    }
}

fn single(key: &str, value: Value) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}

/// A JSON number for `n`: an integer when `n` is integral and exactly representable.
pub(crate) fn number_value(n: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// What a conversion's rule means, as one text, from the strings the API stores: `rule`'s
/// [`Rule::meaning_key`], else `advanced_rule` in canonical form (see [`advanced_key`]); `None`
/// for neither, or for a `rule` that does not parse (its meaning is unknown). Two conversions
/// of an account with the same key hold the same rule, which the API refuses to create twice.
pub(crate) fn stored_rule_key(rule: Option<&str>, advanced_rule: Option<&str>) -> Option<String> {
    if let Some(text) = rule {
        return Rule::from_json_str(text).ok().map(|r| r.meaning_key());
    }
    let value: Value = serde_json::from_str(advanced_rule?).ok()?;
    Some(advanced_key(&value))
}

/// The key of an `advanced_rule` (opaque JSON: compared in canonical form), never equal to a
/// `rule`'s.
pub(crate) fn advanced_key(value: &Value) -> String {
    format!("advanced:{}", canonical_json(value))
}

/// Canonical form of free-form JSON (used for `advanced_rule`, whose grammar the API does not
/// document): keys sorted (serde_json's map is ordered), numbers normalised like rule operands.
pub(crate) fn canonical_json(value: &Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .map(number_value)
            .unwrap_or_else(|| value.clone()),
        Value::Array(items) => Value::Array(items.iter().map(canonical_json).collect()),
        Value::Object(map) => {
            // Sorted explicitly: serde_json keeps insertion order when a dependency enables
            // its `preserve_order` feature.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical_json(v)))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal keys exactly when the rules are `==`: order and repeats of `and`/`or` items, key
    /// order, spacing, escapes and `100` vs `100.0` do not count; anything else does.
    #[test]
    fn the_meaning_key_agrees_with_equality() {
        let rules = [
            r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            r#"{"and": [{"value": {"gt": 100.0}}, {"event": {"eq": "Purchase"}}, {"value":{"gt":100}}]}"#,
            r#"{"or":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#,
            r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":101}}]}"#,
            r#"{"url":{"i_contains":"thank\/you"}}"#,
            r#"{"url":{"i_contains":"thank/you"}}"#,
            r#"{"not":{"or":[{"url":{"eq":"b"}},{"url":{"eq":"a"}}]}}"#,
            r#"{"not":{"or":[{"url":{"eq":"a"}},{"url":{"eq":"b"}},{"url":{"eq":"a"}}]}}"#,
            r#"{"and":[{"or":[{"url":{"eq":"a"}},{"url":{"eq":"b"}}]},{"event":{"eq":"Lead"}}]}"#,
            r#"{"and":[{"event":{"eq":"Lead"}},{"or":[{"url":{"eq":"b"}},{"url":{"eq":"a"}}]}]}"#,
            r#"{"and":[{"event":{"eq":"Lead"}},{"or":[{"URL":{"eq":"b"}},{"url":{"eq":"a"}}]}]}"#,
        ];
        let parsed: Vec<Rule> = rules
            .iter()
            .map(|r| Rule::from_json_str(r).unwrap())
            .collect();
        for a in &parsed {
            for b in &parsed {
                assert_eq!(a.meaning_key() == b.meaning_key(), a == b, "{a} vs {b}");
            }
        }
        assert_eq!(parsed[0].meaning_key(), parsed[1].meaning_key());
        assert_ne!(parsed[0].meaning_key(), parsed[2].meaning_key());
    }
}
