//! Whether a rule can match any event at all, decided offline.
//!
//! Meta accepts rules that can never match (reference: Rules): nothing errors, the conversion
//! simply never counts anything, and the ads optimising for it run on zero signal. A rule whose
//! conditions contradict each other is such a rule: `and` of `event eq Purchase` and
//! `event eq Lead`, or `value gt 100` with `value lt 50`.
//!
//! The check is conservative: it says "never" only when *every* way the rule can be satisfied
//! (each conjunction of its disjunctive normal form) holds two conditions on one field that no
//! single value meets. A `not` adds no constraint (its truth on an event that lacks the field
//! differs from its positive twin's), `regex_match` is only checked against an `eq` value, and a
//! parameter that may be a list (`content_ids`, `contents`: a list matches a condition when any
//! element does) is never reasoned about. A rule too large to expand is assumed satisfiable.

use super::eval::Event;
use super::parse::RuleStep;
use super::{Condition, Operand, Operator, Rule};
use serde_json::Value;

/// Parameters the pixel sends as lists: each condition may be met by another element.
const LIST_PARAMETERS: &[&str] = &["content_ids", "contents"];
/// Beyond this many conjunctions the expansion stops and the rule is assumed satisfiable.
const MAX_CONJUNCTIONS: usize = 256;

/// Why a rule can never match, and the condition to point at.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Contradiction {
    /// The path to the condition that contradicts an earlier one (`and[1].event.eq`).
    pub(crate) steps: Vec<RuleStep>,
    /// `` `event` would have to equal both `Purchase` and `Lead` ``.
    pub(crate) reason: String,
}

/// A condition and where it is in the rule.
type Placed<'r> = (Vec<RuleStep>, &'r Condition);

impl Rule {
    /// Why the rule can never match any event, when it provably cannot (see the module).
    pub(crate) fn contradiction(&self) -> Option<Contradiction> {
        let mut steps = Vec::new();
        let conjunctions = expand(self, &mut steps)?;
        let mut first = None;
        for conjunction in &conjunctions {
            match contradiction_in(conjunction) {
                Some(c) => {
                    first.get_or_insert(c);
                }
                None => return None,
            }
        }
        // An `or` of nothing never matches either, with nothing to point at but the rule.
        first.or_else(|| {
            conjunctions.is_empty().then(|| Contradiction {
                steps: Vec::new(),
                reason: "an empty `or` is true for no event".into(),
            })
        })
    }
}

/// The rule's disjunctive normal form over its positive conditions; `None` when too large.
fn expand<'r>(rule: &'r Rule, steps: &mut Vec<RuleStep>) -> Option<Vec<Vec<Placed<'r>>>> {
    let out = match rule {
        Rule::Leaf(c) => {
            let mut at = steps.clone();
            at.push(RuleStep::Key(c.field.clone()));
            at.push(RuleStep::Key(c.operator.as_str().into()));
            vec![vec![(at, c)]]
        }
        Rule::Not(_) => vec![Vec::new()],
        Rule::Or(items) => {
            let mut all = Vec::new();
            for (i, item) in items.iter().enumerate() {
                all.extend(expand_item(item, "or", i, steps)?);
                if all.len() > MAX_CONJUNCTIONS {
                    return None;
                }
            }
            all
        }
        Rule::And(items) => {
            let mut product: Vec<Vec<Placed<'r>>> = vec![Vec::new()];
            for (i, item) in items.iter().enumerate() {
                let options = expand_item(item, "and", i, steps)?;
                if product.len().saturating_mul(options.len()) > MAX_CONJUNCTIONS {
                    return None;
                }
                product = product
                    .iter()
                    .flat_map(|left| {
                        options.iter().map(move |right| {
                            let mut both = left.clone();
                            both.extend(right.iter().cloned());
                            both
                        })
                    })
                    .collect();
            }
            product
        }
    };
    Some(out)
}

fn expand_item<'r>(
    item: &'r Rule,
    key: &str,
    index: usize,
    steps: &mut Vec<RuleStep>,
) -> Option<Vec<Vec<Placed<'r>>>> {
    steps.push(RuleStep::Key(key.into()));
    steps.push(RuleStep::Index(index));
    let out = expand(item, steps);
    steps.pop();
    steps.pop();
    out
}

/// The first pair of conditions of one conjunction that no single value of their field meets.
fn contradiction_in(conjunction: &[Placed<'_>]) -> Option<Contradiction> {
    for (i, (steps, later)) in conjunction.iter().enumerate() {
        if LIST_PARAMETERS.contains(&later.data()) {
            continue;
        }
        for (_, earlier) in &conjunction[..i] {
            if earlier.data() != later.data() {
                continue;
            }
            if let Some(reason) = exclusive(earlier, later).or_else(|| exclusive(later, earlier)) {
                return Some(Contradiction {
                    steps: steps.clone(),
                    reason,
                });
            }
        }
    }
    None
}

/// Why no value of the field meets both `a` and `b`, when that is certain.
fn exclusive(a: &Condition, b: &Condition) -> Option<String> {
    let field = a.data();
    // An exact value decides every other condition: evaluate it.
    if let (Operator::Eq, Operand::Text(value)) = (a.operator, &a.operand) {
        let mut event = Event::new();
        event.insert(field.to_string(), Value::String(value.clone()));
        let single = Rule::Leaf(b.clone());
        return match single.matches(&event) {
            Ok(false) if b.operator == Operator::Eq => Some(format!(
                "`{field}` would have to equal both {} and {}",
                shown(&a.operand),
                shown(&b.operand)
            )),
            Ok(false) => Some(format!(
                "`{field}` equals {}, which does not meet `{}: {}`",
                shown(&a.operand),
                b.operator.as_str(),
                plain(&b.operand)
            )),
            _ => None,
        };
    }
    if let (Some(x), Some(y)) = (bound(a), bound(b))
        && !x.overlaps(&y)
    {
        return Some(format!(
            "`{field}` would have to be {} and {}",
            x.describe(),
            y.describe()
        ));
    }
    substring_exclusion(field, a, b)
}

/// `contains: thank-you` with `not_contains: thank`: whatever contains the first contains the
/// second (and likewise without case).
fn substring_exclusion(field: &str, a: &Condition, b: &Condition) -> Option<String> {
    let (Operand::Text(must), Operand::Text(must_not)) = (&a.operand, &b.operand) else {
        return None;
    };
    let lower = |s: &str| s.to_lowercase();
    let caseless = |s: &str| s.to_lowercase() == s.to_uppercase();
    let excluded = match (a.operator, b.operator) {
        (Operator::Contains, Operator::NotContains) => must.contains(must_not.as_str()),
        (Operator::Contains | Operator::IContains, Operator::INotContains) => {
            lower(must).contains(&lower(must_not))
        }
        // The value holds `must` in some case: it holds `must_not` exactly only when that has
        // no letters whose case could differ.
        (Operator::IContains, Operator::NotContains) => {
            caseless(must_not) && lower(must).contains(must_not.as_str())
        }
        _ => false,
    };
    excluded.then(|| {
        format!(
            "`{field}` must contain {} and must not contain {}",
            shown(&a.operand),
            shown(&b.operand)
        )
    })
}

/// A numeric interval a condition allows (`gt 100` is (100, ∞)).
#[derive(Clone, Copy, Debug)]
struct Interval {
    low: f64,
    low_open: bool,
    high: f64,
    high_open: bool,
}

fn bound(c: &Condition) -> Option<Interval> {
    let Operand::Number(n) = c.operand else {
        return None;
    };
    let (low, low_open, high, high_open) = match c.operator {
        Operator::Gt => (n, true, f64::INFINITY, true),
        Operator::Gte => (n, false, f64::INFINITY, true),
        Operator::Lt => (f64::NEG_INFINITY, true, n, true),
        Operator::Lte => (f64::NEG_INFINITY, true, n, false),
        Operator::Eq => (n, false, n, false),
        _ => return None,
    };
    Some(Interval {
        low,
        low_open,
        high,
        high_open,
    })
}

impl Interval {
    fn overlaps(&self, other: &Interval) -> bool {
        let (low, low_open) = if self.low > other.low || (self.low == other.low && self.low_open) {
            (self.low, self.low_open)
        } else {
            (other.low, other.low_open)
        };
        let (high, high_open) =
            if self.high < other.high || (self.high == other.high && self.high_open) {
                (self.high, self.high_open)
            } else {
                (other.high, other.high_open)
            };
        low < high || (low == high && !low_open && !high_open)
    }

    fn describe(&self) -> String {
        let n = |x: f64| super::number_value(x).to_string();
        match (self.low.is_finite(), self.high.is_finite()) {
            (true, true) if self.low == self.high => format!("equal to {}", n(self.low)),
            (true, _) if self.low_open => format!("greater than {}", n(self.low)),
            (true, _) => format!("at least {}", n(self.low)),
            (_, true) if self.high_open => format!("less than {}", n(self.high)),
            (_, true) => format!("at most {}", n(self.high)),
            _ => "any number".into(),
        }
    }
}

/// An operand as written in a rule: text as it is, numbers and booleans as JSON.
fn plain(operand: &Operand) -> String {
    match operand {
        Operand::Text(s) => s.clone(),
        other => other.to_value().to_string(),
    }
}

fn shown(operand: &Operand) -> String {
    format!("`{}`", plain(operand))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn why(rule: Value) -> Option<String> {
        Rule::from_value(&rule)
            .unwrap()
            .contradiction()
            .map(|c| c.reason)
    }

    #[test]
    fn two_events_in_one_and_never_match() {
        let c = Rule::from_value(
            &json!({"and": [{"event": {"eq": "Purchase"}}, {"event": {"eq": "Lead"}}]}),
        )
        .unwrap()
        .contradiction()
        .unwrap();
        assert_eq!(
            c.reason,
            "`event` would have to equal both `Purchase` and `Lead`"
        );
        assert_eq!(
            c.steps,
            [
                RuleStep::Key("and".into()),
                RuleStep::Index(1),
                RuleStep::Key("event".into()),
                RuleStep::Key("eq".into())
            ]
        );
    }

    #[test]
    fn ranges_that_exclude_each_other_never_match() {
        assert_eq!(
            why(json!({"and": [{"value": {"gt": 100}}, {"value": {"lt": 50}}]})).as_deref(),
            Some("`value` would have to be greater than 100 and less than 50")
        );
        assert_eq!(
            why(json!({"and": [{"value": {"gte": 10}}, {"value": {"lt": 10}}]})).as_deref(),
            Some("`value` would have to be at least 10 and less than 10")
        );
        assert_eq!(
            why(json!({"and": [{"value": {"gte": 10}}, {"value": {"lte": 10}}]})),
            None,
            "10 meets both"
        );
        assert_eq!(
            why(json!({"and": [{"value": {"eq": 5}}, {"value": {"gt": 5}}]})).as_deref(),
            Some("`value` would have to be equal to 5 and greater than 5")
        );
    }

    #[test]
    fn an_exact_value_decides_the_other_conditions_on_its_field() {
        assert_eq!(
            why(json!({"and": [{"url": {"eq": "https://a.example/x"}}, {"url": {"i_contains": "thanks"}}]}))
                .as_deref(),
            Some("`url` equals `https://a.example/x`, which does not meet `i_contains: thanks`")
        );
        assert_eq!(
            why(json!({"and": [{"event": {"eq": "Lead"}}, {"event": {"neq": "Lead"}}]})).as_deref(),
            Some("`event` equals `Lead`, which does not meet `neq: Lead`")
        );
        assert_eq!(
            why(
                json!({"and": [{"url": {"eq": "https://a/x1"}}, {"url": {"regex_match": "x\\d$"}}]})
            ),
            None
        );
        // `URL` (Meta's UI) and `url` are one field.
        assert!(why(json!({"and": [{"URL": {"eq": "a"}}, {"url": {"eq": "b"}}]})).is_some());
    }

    #[test]
    fn substrings_that_exclude_each_other_never_match() {
        assert_eq!(
            why(json!({"and": [{"url": {"contains": "thank-you"}}, {"url": {"not_contains": "thank"}}]}))
                .as_deref(),
            Some("`url` must contain `thank-you` and must not contain `thank`")
        );
        assert!(
            why(json!({"and": [{"url": {"i_contains": "Thank-You"}}, {"url": {"i_not_contains": "thank"}}]}))
                .is_some()
        );
        // Case-sensitive `not_contains: Thank` allows `thank-you`.
        assert_eq!(
            why(
                json!({"and": [{"url": {"i_contains": "thank-you"}}, {"url": {"not_contains": "Thank"}}]})
            ),
            None
        );
    }

    #[test]
    fn any_satisfiable_branch_or_an_unknown_makes_the_rule_possible() {
        assert_eq!(
            why(json!({"or": [
                {"and": [{"event": {"eq": "Purchase"}}, {"event": {"eq": "Lead"}}]},
                {"event": {"eq": "Lead"}}
            ]})),
            None
        );
        assert!(
            why(json!({"or": [
                {"and": [{"event": {"eq": "Purchase"}}, {"event": {"eq": "Lead"}}]},
                {"and": [{"value": {"gt": 9}}, {"value": {"lt": 1}}]}
            ]}))
            .is_some()
        );
        assert_eq!(
            why(
                json!({"and": [{"event": {"eq": "Purchase"}}, {"not": {"event": {"eq": "Purchase"}}}]})
            ),
            None,
            "`not` adds no constraint"
        );
        assert_eq!(
            why(json!({"and": [{"content_ids": {"eq": "a"}}, {"content_ids": {"eq": "b"}}]})),
            None,
            "a list may hold both"
        );
        assert_eq!(
            why(json!({"and": [{"event": {"eq": "Purchase"}}, {"url": {"eq": "x"}}]})),
            None,
            "different fields"
        );
    }

    #[test]
    fn a_rule_too_large_to_expand_is_assumed_possible() {
        let wide: Vec<Value> = (0..20)
            .map(
                |i| json!({"or": [{"v": {"eq": format!("a{i}")}}, {"v": {"eq": format!("b{i}")}}]}),
            )
            .collect();
        assert_eq!(why(json!({"and": wide})), None);
    }
}
