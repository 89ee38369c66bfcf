//! Evaluating a rule against an event, as the reference describes (and `regex_match` syntax).
//!
//! The semantics, in one place: a condition on a field the event lacks is false, for the
//! negative operators too (a convention the emulator shares); `lt`/`lte`/`gt`/`gte` compare
//! numbers and parse numeric strings (`"150.5"`); `i_contains`/`i_not_contains` ignore case
//! (Unicode lowercase); `eq`/`neq`/`contains`/`not_contains` are case-sensitive; `regex_match`
//! is a PCRE search (anchor with `^`/`$`). A list-valued parameter (`content_ids`) matches a
//! positive operator when any element does, and a negative one when no element matches its
//! positive twin.

use super::{Condition, Operand, Operator, Rule};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;

/// An event as rules see it: `url`, `event` and custom parameters, as one flat map.
pub type Event = Map<String, Value>;

fn compile(pattern: &str) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    pcre2::bytes::RegexBuilder::new().utf(true).build(pattern)
}

/// Checks PCRE syntax of a `regex_match` pattern; the message says what is wrong.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    compile(pattern)
        .map(|_| ())
        .map_err(|e| format!("`{pattern}` is not a valid PCRE pattern: {e}"))
}

thread_local! {
    /// Compiled patterns: the emulator evaluates every rule of a pixel for every event, and
    /// compiling a PCRE costs far more than matching it. Bounded: cleared when full.
    static REGEXES: RefCell<HashMap<String, Option<pcre2::bytes::Regex>>> = RefCell::new(HashMap::new());
}
const REGEX_CACHE_CAP: usize = 1024;

fn regex_matches(pattern: &str, text: &str) -> bool {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= REGEX_CACHE_CAP {
                cache.clear();
            }
            cache.insert(pattern.to_string(), compile(pattern).ok());
        }
        match cache.get(pattern) {
            Some(Some(re)) => re.is_match(text.as_bytes()).unwrap_or(false),
            _ => false,
        }
    })
}

pub(super) fn matches(rule: &Rule, event: &Event) -> bool {
    match rule {
        Rule::And(items) => items.iter().all(|r| matches(r, event)),
        Rule::Or(items) => items.iter().any(|r| matches(r, event)),
        Rule::Not(inner) => !matches(inner, event),
        Rule::Leaf(c) => condition_matches(c, event),
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    }
}

/// The positive twin of a negative operator.
fn positive(op: Operator) -> Option<Operator> {
    match op {
        Operator::INotContains => Some(Operator::IContains),
        Operator::NotContains => Some(Operator::Contains),
        Operator::Neq => Some(Operator::Eq),
        _ => None,
    }
}

fn condition_matches(c: &Condition, event: &Event) -> bool {
    let Some(actual) = event.get(&c.field) else {
        return false;
    };
    if actual.is_null() {
        return false;
    }
    let Some(pos) = positive(c.operator) else {
        return match actual {
            Value::Array(items) => items
                .iter()
                .any(|item| scalar_matches(c.operator, &c.operand, item)),
            _ => scalar_matches(c.operator, &c.operand, actual),
        };
    };
    match actual {
        Value::Array(items) => !items
            .iter()
            .any(|item| scalar_matches(pos, &c.operand, item)),
        // A value that has no text (an object) cannot be compared: false, like a missing one.
        _ if text_of(actual).is_none() => false,
        _ => !scalar_matches(pos, &c.operand, actual),
    }
}

/// A positive operator against one value.
fn scalar_matches(op: Operator, operand: &Operand, actual: &Value) -> bool {
    if op.is_numeric() {
        let (Some(a), Operand::Number(b)) = (number_of(actual), operand) else {
            return false;
        };
        return match op {
            Operator::Lt => a < *b,
            Operator::Lte => a <= *b,
            Operator::Gt => a > *b,
            _ => a >= *b,
        };
    }
    let Some(text) = text_of(actual) else {
        return false;
    };
    let operand_text = match operand {
        Operand::Text(s) => s.clone(),
        Operand::Number(n) => super::number_value(*n).to_string(),
        Operand::Bool(b) => b.to_string(),
    };
    match op {
        Operator::IContains => text.to_lowercase().contains(&operand_text.to_lowercase()),
        Operator::Contains => text.contains(&operand_text),
        Operator::Eq => equal(&text, actual, operand),
        Operator::RegexMatch => regex_matches(&operand_text, &text),
        _ => false,
    }
}

fn equal(text: &str, actual: &Value, operand: &Operand) -> bool {
    match operand {
        Operand::Text(s) => text == s,
        Operand::Number(n) => number_of(actual) == Some(*n),
        Operand::Bool(b) => actual.as_bool() == Some(*b) || text == b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(v: Value) -> Event {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn seed_examples() {
        let r =
            Rule::from_json_str(r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#)
                .unwrap();
        assert!(r.matches(&event(json!({"event":"Purchase","value":150}))));
        assert!(r.matches(&event(json!({"event":"Purchase","value":"150.5"}))));
        assert!(!r.matches(&event(json!({"event":"Purchase","value":50}))));
        assert!(!r.matches(&event(json!({"event":"Lead","value":500}))));
        let u = Rule::from_json_str(r#"{"or":[{"url":{"i_contains":"thankyou.html"}},{"url":{"i_contains":"confirmation.html"}}]}"#).unwrap();
        assert!(u.matches(&event(
            json!({"url":"https://shop.example/ThankYou.html?x=1"})
        )));
        assert!(!u.matches(&event(json!({"event":"Purchase"}))));
    }

    #[test]
    fn missing_field_is_false_even_for_negative_operators() {
        let r = Rule::from_json_str(r#"{"color":{"i_not_contains":"black"}}"#).unwrap();
        assert!(!r.matches(&event(json!({"event":"x"}))));
        assert!(r.matches(&event(json!({"color":"white"}))));
    }

    #[test]
    fn regex_is_pcre() {
        assert!(check_pattern("(?<=a)b").is_ok());
        assert!(check_pattern("(unclosed").is_err());
        let r = Rule::from_json_str(
            r#"{"url":{"regex_match":"^https://[^/]+/lp/(spring|summer)\\d+"}}"#,
        )
        .unwrap();
        assert!(r.matches(&event(json!({"url":"https://x.example/lp/spring24"}))));
    }
}

#[cfg(test)]
mod semantics {
    use super::*;
    use serde_json::json;

    fn rule(text: &str) -> Rule {
        Rule::from_json_str(text).unwrap()
    }

    fn ev(v: Value) -> Event {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn negative_operators_on_missing_null_and_lists() {
        for r in [
            r#"{"color":{"neq":"x"}}"#,
            r#"{"color":{"not_contains":"x"}}"#,
            r#"{"color":{"i_not_contains":"x"}}"#,
        ] {
            let r = rule(r);
            assert!(!r.matches(&ev(json!({}))));
            assert!(!r.matches(&ev(json!({"color": null}))));
            assert!(!r.matches(&ev(json!({"color": {"nested": 1}}))));
            assert!(r.matches(&ev(json!({"color": "blue"}))));
        }
        let r = rule(r#"{"content_ids":{"neq":"GIFT"}}"#);
        assert!(r.matches(&ev(json!({"content_ids": ["A", "B"]}))));
        assert!(!r.matches(&ev(json!({"content_ids": ["A", "GIFT"]}))));
        let r = rule(r#"{"content_ids":{"eq":"GIFT"}}"#);
        assert!(r.matches(&ev(json!({"content_ids": ["A", "GIFT"]}))));
        assert!(!r.matches(&ev(json!({"content_ids": []}))));
    }

    #[test]
    fn numeric_comparison_parses_numeric_strings() {
        let r = rule(r#"{"value":{"gte":100}}"#);
        assert!(r.matches(&ev(json!({"value": 100}))));
        assert!(r.matches(&ev(json!({"value": "100.0"}))));
        assert!(r.matches(&ev(json!({"value": " 1e3 "}))));
        assert!(!r.matches(&ev(json!({"value": "99.99"}))));
        assert!(!r.matches(&ev(json!({"value": "lots"}))));
        assert!(!r.matches(&ev(json!({"value": "inf"}))));
        assert!(!r.matches(&ev(json!({"value": true}))));
        assert!(rule(r#"{"value":{"lt":0}}"#).matches(&ev(json!({"value": -0.5}))));
        assert!(rule(r#"{"value":{"lte":0}}"#).matches(&ev(json!({"value": "-0"}))));
        assert!(rule(r#"{"value":{"eq":100}}"#).matches(&ev(json!({"value": "100.00"}))));
    }

    #[test]
    fn case_rules() {
        let i = rule(r#"{"url":{"i_contains":"ÉTÉ/Promo"}}"#);
        assert!(i.matches(&ev(json!({"url": "https://x.example/été/promo?x"}))));
        let c = rule(r#"{"url":{"contains":"Promo"}}"#);
        assert!(!c.matches(&ev(json!({"url": "https://x.example/promo"}))));
        let e = rule(r#"{"event":{"eq":"Purchase"}}"#);
        assert!(!e.matches(&ev(json!({"event": "purchase"}))));
        assert!(rule(r#"{"event":{"neq":"Purchase"}}"#).matches(&ev(json!({"event": "purchase"}))));
    }

    #[test]
    fn regex_is_a_pcre_search() {
        let r = rule(r#"{"url":{"regex_match":"example\\.com.*purchase$"}}"#);
        assert!(r.matches(&ev(json!({"url": "https://www.example.com/a/purchase"}))));
        assert!(!r.matches(&ev(json!({"url": "https://www.example.com/a/purchase/x"}))));
        assert!(!r.matches(&ev(json!({"url": "https://www.exampleXcom/purchase"}))));
        // PCRE-only syntax: lookbehind, possessive quantifiers, named groups.
        let p = rule(r#"{"url":{"regex_match":"(?<=/lp/)(?<season>spring|summer)\\d++$"}}"#);
        assert!(p.matches(&ev(json!({"url": "https://x/lp/summer25"}))));
        assert!(rule(r#"{"v":{"regex_match":"^1\\d$"}}"#).matches(&ev(json!({"v": 12}))));
    }

    #[test]
    fn not_and_or() {
        let r = rule(
            r#"{"and":[{"event":{"eq":"Lead"}},{"not":{"or":[{"src":{"eq":"a"}},{"src":{"eq":"b"}}]}}]}"#,
        );
        assert!(r.matches(&ev(json!({"event": "Lead", "src": "c"}))));
        assert!(!r.matches(&ev(json!({"event": "Lead", "src": "b"}))));
        // not over a missing field is true: the inner condition is false.
        assert!(r.matches(&ev(json!({"event": "Lead"}))));
    }
}
