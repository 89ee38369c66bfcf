//! Evaluating a rule against an event, as the reference describes (and `regex_match` syntax).

use super::{Condition, Operand, Operator, Rule};
use serde_json::{Map, Value};

/// An event as rules see it: `url`, `event` and custom parameters, as one flat map.
pub type Event = Map<String, Value>;

/// Checks PCRE syntax of a `regex_match` pattern; the message says what is wrong.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    pcre2::bytes::RegexBuilder::new()
        .utf(true)
        .build(pattern)
        .map(|_| ())
        .map_err(|e| format!("`{pattern}` is not a valid PCRE pattern: {e}"))
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

fn condition_matches(c: &Condition, event: &Event) -> bool {
    let Some(actual) = event.get(&c.field) else {
        return false;
    };
    // A list-valued parameter (content_ids) matches when any element does.
    if let Value::Array(items) = actual {
        return items.iter().any(|item| scalar_matches(c, item));
    }
    scalar_matches(c, actual)
}

fn scalar_matches(c: &Condition, actual: &Value) -> bool {
    if c.operator.is_numeric() {
        let (Some(a), Operand::Number(b)) = (number_of(actual), &c.operand) else {
            return false;
        };
        return match c.operator {
            Operator::Lt => a < *b,
            Operator::Lte => a <= *b,
            Operator::Gt => a > *b,
            _ => a >= *b,
        };
    }
    let Some(text) = text_of(actual) else {
        return false;
    };
    let operand = match &c.operand {
        Operand::Text(s) => s.clone(),
        Operand::Number(n) => super::number_value(*n).to_string(),
        Operand::Bool(b) => b.to_string(),
    };
    match c.operator {
        Operator::IContains => text.to_lowercase().contains(&operand.to_lowercase()),
        Operator::INotContains => !text.to_lowercase().contains(&operand.to_lowercase()),
        Operator::Contains => text.contains(&operand),
        Operator::NotContains => !text.contains(&operand),
        Operator::Eq => equal(&text, actual, &c.operand),
        Operator::Neq => !equal(&text, actual, &c.operand),
        Operator::RegexMatch => pcre2::bytes::RegexBuilder::new()
            .utf(true)
            .build(&operand)
            .ok()
            .and_then(|re| re.is_match(text.as_bytes()).ok())
            .unwrap_or(false),
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
