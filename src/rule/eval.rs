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
pub(crate) type Event = Map<String, Value>;

fn compile(pattern: &str) -> Result<pcre2::bytes::Regex, pcre2::Error> {
    pcre2::bytes::RegexBuilder::new().utf(true).build(pattern)
}

/// Checks PCRE syntax of a `regex_match` pattern; the error says what is wrong.
pub(crate) fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    compile(pattern).map(|_| ()).map_err(|error| PatternError {
        pattern: pattern.to_string(),
        error,
    })
}

/// A `regex_match` pattern PCRE does not compile.
#[derive(Clone, Debug, thiserror::Error)]
#[error("`{pattern}` is not a valid PCRE pattern: {error}")]
pub(crate) struct PatternError {
    pub(crate) pattern: String,
    pub(crate) error: pcre2::Error,
}

/// A rule that could not be evaluated against an event. It is never read as "no match": a
/// `no_match` test must not pass, nor a `not:` flip, on a guess.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// PCRE gave up (match, depth or heap limit): the pattern backtracks catastrophically on
    /// this value.
    #[error(
        "the regex_match pattern `{pattern}` is too expensive to evaluate against this value \
         (PCRE gave up: {detail}); rewrite it without nested or overlapping repetition such as \
         `(a+)+`, or anchor it"
    )]
    TooExpensive { pattern: String, detail: String },
    /// PCRE failed otherwise while matching.
    #[error(
        "the regex_match pattern `{pattern}` could not be evaluated against this value: {detail}"
    )]
    Failed { pattern: String, detail: String },
    /// The pattern does not compile (validation refuses it first; the emulator may meet one).
    #[error("the regex_match pattern `{pattern}` is not a valid PCRE pattern: {detail}")]
    InvalidPattern { pattern: String, detail: String },
}

/// PCRE2's "gave up" codes: match limit, depth (recursion) limit, heap limit.
const PCRE2_ERROR_MATCHLIMIT: i32 = -47;
const PCRE2_ERROR_DEPTHLIMIT: i32 = -52;
const PCRE2_ERROR_HEAPLIMIT: i32 = -63;

fn eval_error(pattern: &str, error: &pcre2::Error) -> EvalError {
    let (pattern, detail) = (pattern.to_string(), error.to_string());
    match error.code() {
        PCRE2_ERROR_MATCHLIMIT | PCRE2_ERROR_DEPTHLIMIT | PCRE2_ERROR_HEAPLIMIT => {
            EvalError::TooExpensive { pattern, detail }
        }
        _ => EvalError::Failed { pattern, detail },
    }
}

thread_local! {
    /// Compiled patterns: the emulator evaluates every rule of a pixel for every event, and
    /// compiling a PCRE costs far more than matching it. Bounded: cleared when full.
    static REGEXES: RefCell<HashMap<String, Result<pcre2::bytes::Regex, pcre2::Error>>> =
        RefCell::new(HashMap::new());
}
const REGEX_CACHE_CAP: usize = 1024;

fn regex_matches(pattern: &str, text: &str) -> Result<bool, EvalError> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if !cache.contains_key(pattern) {
            if cache.len() >= REGEX_CACHE_CAP {
                cache.clear();
            }
            cache.insert(pattern.to_string(), compile(pattern));
        }
        match cache.get(pattern).expect("inserted above") {
            Ok(re) => re
                .is_match(text.as_bytes())
                .map_err(|e| eval_error(pattern, &e)),
            Err(e) => Err(EvalError::InvalidPattern {
                pattern: pattern.to_string(),
                detail: e.to_string(),
            }),
        }
    })
}

/// Three-valued: `and` is false as soon as one item is false (whatever the others), true when
/// all are true, and an error otherwise; `or` likewise with true; `not` passes errors on. So an
/// error only surfaces when it decides the outcome.
pub(super) fn matches(rule: &Rule, event: &Event) -> Result<bool, EvalError> {
    match rule {
        Rule::And(items) => all(items.iter().map(|r| matches(r, event))),
        Rule::Or(items) => any(items.iter().map(|r| matches(r, event))),
        Rule::Not(inner) => matches(inner, event).map(|m| !m),
        Rule::Leaf(c) => condition_matches(c, event),
    }
}

/// True when all are; false when one is false; else the first error.
fn all(results: impl Iterator<Item = Result<bool, EvalError>>) -> Result<bool, EvalError> {
    let mut first_error = None;
    for result in results {
        match result {
            Ok(false) => return Ok(false),
            Ok(true) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(true), Err)
}

/// True when one is; false when all are false; else the first error.
fn any(results: impl Iterator<Item = Result<bool, EvalError>>) -> Result<bool, EvalError> {
    let mut first_error = None;
    for result in results {
        match result {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    first_error.map_or(Ok(false), Err)
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

fn condition_matches(c: &Condition, event: &Event) -> Result<bool, EvalError> {
    let Some(actual) = event.get(c.data()) else {
        return Ok(false);
    };
    if actual.is_null() {
        return Ok(false);
    }
    let Some(pos) = positive(c.operator) else {
        return match actual {
            Value::Array(items) => any(items
                .iter()
                .map(|item| scalar_matches(c.operator, &c.operand, item))),
            _ => scalar_matches(c.operator, &c.operand, actual),
        };
    };
    match actual {
        Value::Array(items) => any(items
            .iter()
            .map(|item| scalar_matches(pos, &c.operand, item)))
        .map(|m| !m),
        // A value that has no text (an object) cannot be compared: false, like a missing one.
        _ if text_of(actual).is_none() => Ok(false),
        _ => scalar_matches(pos, &c.operand, actual).map(|m| !m),
    }
}

/// A positive operator against one value.
fn scalar_matches(op: Operator, operand: &Operand, actual: &Value) -> Result<bool, EvalError> {
    if op.is_numeric() {
        let (Some(a), Operand::Number(b)) = (number_of(actual), operand) else {
            return Ok(false);
        };
        return Ok(match op {
            Operator::Lt => a < *b,
            Operator::Lte => a <= *b,
            Operator::Gt => a > *b,
            _ => a >= *b,
        });
    }
    let Some(text) = text_of(actual) else {
        return Ok(false);
    };
    let operand_text = match operand {
        Operand::Text(s) => s.clone(),
        Operand::Number(n) => super::number_value(*n).to_string(),
        Operand::Bool(b) => b.to_string(),
    };
    Ok(match op {
        Operator::IContains => text.to_lowercase().contains(&operand_text.to_lowercase()),
        Operator::Contains => text.contains(&operand_text),
        Operator::Eq => equal(&text, actual, operand),
        Operator::RegexMatch => return regex_matches(&operand_text, &text),
        _ => false,
    })
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

    /// Test shorthand: the outcome, which must be decided.
    pub(super) trait Is {
        fn is(&self, event: &Event) -> bool;
    }

    impl Is for Rule {
        fn is(&self, event: &Event) -> bool {
            self.matches(event).expect("evaluable")
        }
    }

    fn event(v: Value) -> Event {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn seed_examples() {
        let r =
            Rule::from_json_str(r#"{"and":[{"event":{"eq":"Purchase"}},{"value":{"gt":100}}]}"#)
                .unwrap();
        assert!(r.is(&event(json!({"event":"Purchase","value":150}))));
        assert!(r.is(&event(json!({"event":"Purchase","value":"150.5"}))));
        assert!(!r.is(&event(json!({"event":"Purchase","value":50}))));
        assert!(!r.is(&event(json!({"event":"Lead","value":500}))));
        let u = Rule::from_json_str(r#"{"or":[{"url":{"i_contains":"thankyou.html"}},{"url":{"i_contains":"confirmation.html"}}]}"#).unwrap();
        assert!(u.is(&event(
            json!({"url":"https://shop.example/ThankYou.html?x=1"})
        )));
        assert!(!u.is(&event(json!({"event":"Purchase"}))));
    }

    #[test]
    fn missing_field_is_false_even_for_negative_operators() {
        let r = Rule::from_json_str(r#"{"color":{"i_not_contains":"black"}}"#).unwrap();
        assert!(!r.is(&event(json!({"event":"x"}))));
        assert!(r.is(&event(json!({"color":"white"}))));
    }

    #[test]
    fn regex_is_pcre() {
        assert!(check_pattern("(?<=a)b").is_ok());
        assert!(check_pattern("(unclosed").is_err());
        let r = Rule::from_json_str(
            r#"{"url":{"regex_match":"^https://[^/]+/lp/(spring|summer)\\d+"}}"#,
        )
        .unwrap();
        assert!(r.is(&event(json!({"url":"https://x.example/lp/spring24"}))));
    }
}

#[cfg(test)]
mod limits {
    use super::*;
    use serde_json::json;

    fn ev(v: Value) -> Event {
        v.as_object().unwrap().clone()
    }

    /// A pattern with catastrophic backtracking on 22 `a`s and `!`. PCRE gives up;
    /// that is an error naming the pattern, never "no match" (a `no_match` test would pass,
    /// a `match` test fail and `not:` flip on a guess).
    #[test]
    fn a_regex_pcre_gives_up_on_is_an_error_never_false() {
        let pattern = "^(a+)+$|^a+!$";
        let subject = format!("{}!", "a".repeat(22));
        let r = Rule::from_value(&json!({"url": {"regex_match": pattern}})).unwrap();
        let e = r.matches(&ev(json!({"url": subject}))).unwrap_err();
        assert!(
            matches!(&e, EvalError::TooExpensive { pattern: p, .. } if p == pattern),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("`^(a+)+$|^a+!$` is too expensive to evaluate"),
            "{e}"
        );
        let not = Rule::from_value(&json!({"not": {"url": {"regex_match": pattern}}})).unwrap();
        assert!(
            not.matches(&ev(json!({"url": subject}))).is_err(),
            "not: does not flip an error"
        );
        // A short subject is fine.
        assert_eq!(r.matches(&ev(json!({"url": "aaa!"}))), Ok(true));
        // In a list-valued parameter too.
        let list = Rule::from_value(&json!({"ids": {"regex_match": pattern}})).unwrap();
        assert!(list.matches(&ev(json!({"ids": ["b", subject]}))).is_err());
        assert_eq!(list.matches(&ev(json!({"ids": ["b", "a!"]}))), Ok(true));
    }

    /// An error surfaces only when it decides the outcome: `and` with a false item is false,
    /// `or` with a true item is true, whatever the regex does.
    #[test]
    fn an_error_only_counts_where_it_decides() {
        let slow = json!({"url": {"regex_match": "^(a+)+$"}});
        let event = ev(json!({"url": format!("{}!", "a".repeat(24)), "event": "Lead"}));
        let and_false = Rule::from_value(&json!({"and": [slow, {"event": {"eq": "Purchase"}}]}));
        assert_eq!(and_false.unwrap().matches(&event), Ok(false));
        let or_true = Rule::from_value(&json!({"or": [slow, {"event": {"eq": "Lead"}}]}));
        assert_eq!(or_true.unwrap().matches(&event), Ok(true));
        let and_true = Rule::from_value(&json!({"and": [slow, {"event": {"eq": "Lead"}}]}));
        assert!(and_true.unwrap().matches(&event).is_err());
        let or_false = Rule::from_value(&json!({"or": [slow, {"event": {"eq": "Purchase"}}]}));
        assert!(or_false.unwrap().matches(&event).is_err());
    }

    /// A live rule (never validated by convctl) with a pattern PCRE refuses: an error too.
    #[test]
    fn an_invalid_live_pattern_is_an_error() {
        let r = Rule::from_json_str(r#"{"url":{"regex_match":"(unclosed"}}"#);
        // Parsing validates patterns; a rule built around validation still cannot guess.
        assert!(r.is_err());
        let c = Condition {
            field: "url".into(),
            operator: Operator::RegexMatch,
            operand: Operand::Text("(unclosed".into()),
        };
        let e = Rule::Leaf(c).matches(&ev(json!({"url": "x"}))).unwrap_err();
        assert!(matches!(e, EvalError::InvalidPattern { .. }), "{e}");
        assert!(e.to_string().contains("not a valid PCRE pattern"), "{e}");
    }
}

#[cfg(test)]
mod semantics {
    use super::tests::Is;
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
            assert!(!r.is(&ev(json!({}))));
            assert!(!r.is(&ev(json!({"color": null}))));
            assert!(!r.is(&ev(json!({"color": {"nested": 1}}))));
            assert!(r.is(&ev(json!({"color": "blue"}))));
        }
        let r = rule(r#"{"content_ids":{"neq":"GIFT"}}"#);
        assert!(r.is(&ev(json!({"content_ids": ["A", "B"]}))));
        assert!(!r.is(&ev(json!({"content_ids": ["A", "GIFT"]}))));
        let r = rule(r#"{"content_ids":{"eq":"GIFT"}}"#);
        assert!(r.is(&ev(json!({"content_ids": ["A", "GIFT"]}))));
        assert!(!r.is(&ev(json!({"content_ids": []}))));
    }

    #[test]
    fn numeric_comparison_parses_numeric_strings() {
        let r = rule(r#"{"value":{"gte":100}}"#);
        assert!(r.is(&ev(json!({"value": 100}))));
        assert!(r.is(&ev(json!({"value": "100.0"}))));
        assert!(r.is(&ev(json!({"value": " 1e3 "}))));
        assert!(!r.is(&ev(json!({"value": "99.99"}))));
        assert!(!r.is(&ev(json!({"value": "lots"}))));
        assert!(!r.is(&ev(json!({"value": "inf"}))));
        assert!(!r.is(&ev(json!({"value": true}))));
        assert!(rule(r#"{"value":{"lt":0}}"#).is(&ev(json!({"value": -0.5}))));
        assert!(rule(r#"{"value":{"lte":0}}"#).is(&ev(json!({"value": "-0"}))));
        assert!(rule(r#"{"value":{"eq":100}}"#).is(&ev(json!({"value": "100.00"}))));
    }

    #[test]
    fn case_rules() {
        let i = rule(r#"{"url":{"i_contains":"ÉTÉ/Promo"}}"#);
        assert!(i.is(&ev(json!({"url": "https://x.example/été/promo?x"}))));
        let c = rule(r#"{"url":{"contains":"Promo"}}"#);
        assert!(!c.is(&ev(json!({"url": "https://x.example/promo"}))));
        let e = rule(r#"{"event":{"eq":"Purchase"}}"#);
        assert!(!e.is(&ev(json!({"event": "purchase"}))));
        assert!(rule(r#"{"event":{"neq":"Purchase"}}"#).is(&ev(json!({"event": "purchase"}))));
    }

    #[test]
    fn regex_is_a_pcre_search() {
        let r = rule(r#"{"url":{"regex_match":"example\\.com.*purchase$"}}"#);
        assert!(r.is(&ev(json!({"url": "https://www.example.com/a/purchase"}))));
        assert!(!r.is(&ev(json!({"url": "https://www.example.com/a/purchase/x"}))));
        assert!(!r.is(&ev(json!({"url": "https://www.exampleXcom/purchase"}))));
        // PCRE-only syntax: lookbehind, possessive quantifiers, named groups.
        let p = rule(r#"{"url":{"regex_match":"(?<=/lp/)(?<season>spring|summer)\\d++$"}}"#);
        assert!(p.is(&ev(json!({"url": "https://x/lp/summer25"}))));
        assert!(rule(r#"{"v":{"regex_match":"^1\\d$"}}"#).is(&ev(json!({"v": 12}))));
    }

    #[test]
    fn not_and_or() {
        let r = rule(
            r#"{"and":[{"event":{"eq":"Lead"}},{"not":{"or":[{"src":{"eq":"a"}},{"src":{"eq":"b"}}]}}]}"#,
        );
        assert!(r.is(&ev(json!({"event": "Lead", "src": "c"}))));
        assert!(!r.is(&ev(json!({"event": "Lead", "src": "b"}))));
        // not over a missing field is true: the inner condition is false.
        assert!(r.is(&ev(json!({"event": "Lead"}))));
    }
}
