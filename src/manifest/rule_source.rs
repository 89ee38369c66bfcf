//! Rules as written in a manifest: a YAML mapping, a JSON string, or an opaque
//! `advanced_rule`. Turns them into [`RuleSpec`] through the one rule model, and maps a rule
//! error's path (`and[1].value.gt`) back to the YAML line and column it came from. Also the
//! rule lints (standard events), which need the same positions.

use super::context::Ctx;
use super::desired::RuleSpec;
use super::yaml::{Kind, Node, Pos, Resolved, key_text};
use crate::model::event_types::{CustomEventType, misspelled_standard_event, standard_event_type};
use crate::rule::{Operand, Operator, Rule, RuleStep, canonical_json};

const RULE_HINT: &str = "write the rule as a mapping, e.g. `rule: {url: {i_contains: thankyou}}`, \
                         or as a JSON string: `rule: '{\"url\":{\"i_contains\":\"thankyou\"}}'`";

const PARAM_IN_JSON_HINT: &str = "in a rule written as a JSON string, a set's parameter goes inside a JSON string: \
                                  write \"${min}\" (a string that is exactly one parameter takes the value with its type, \
                                  so a number stays a number), or write the rule as a YAML mapping";

/// A parsed rule with what is needed to point into it.
pub(crate) struct SourcedRule<'n> {
    pub(crate) spec: RuleSpec,
    /// The mapping it was written as; `None` for a JSON string (positions are then the string's).
    pub(crate) tree: Option<&'n Node>,
    pub(crate) pos: Pos,
}

/// `rule:`: a mapping or a JSON string.
pub(crate) fn rule<'n>(ctx: &mut Ctx, node: &'n Node) -> Option<SourcedRule<'n>> {
    if refuse_duplicate_keys(ctx, node, "the rule") {
        return None;
    }
    let (parsed, tree) = match &node.kind {
        Kind::Map(_) => (Rule::from_value(&node.to_json()), Some(node)),
        Kind::Scalar(s) if matches!(s.resolve(), Resolved::Str(_)) => {
            (Rule::from_json_str(&s.text), None)
        }
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "`rule` must be a mapping or a JSON string, found {}",
                    node.describe()
                ),
                RULE_HINT,
            );
            return None;
        }
    };
    match parsed {
        Ok(rule) => Some(SourcedRule {
            spec: RuleSpec::Rule(rule),
            tree,
            pos: node.pos,
        }),
        Err(e) => {
            let pos = tree.map_or(node.pos, |t| locate(t, &e.steps));
            let message = if tree.is_some() || e.path.is_empty() {
                format!("invalid rule: {}", e.message)
            } else {
                format!(
                    "invalid rule: {} (at `{}` in the JSON string)",
                    e.message, e.path
                )
            };
            let in_json_text = tree.is_none()
                && node.as_scalar().is_some_and(|s| s.text.contains("${"))
                && e.message.contains("not valid JSON");
            let hint = match in_json_text {
                // A set's parameter outside the JSON strings: never pasted into JSON text.
                true => PARAM_IN_JSON_HINT.to_string(),
                false => rule_hint(&e.message),
            };
            ctx.error(pos, message, hint);
            None
        }
    }
}

/// A mapping inside a rule that repeats a key: converted to JSON, only one of the values would
/// remain, silently (a JSON string rule that repeats a key is refused by the rule parser).
/// Reports the first one found; `true` when there was one.
fn refuse_duplicate_keys(ctx: &mut Ctx, node: &Node, what: &str) -> bool {
    fn find(node: &Node) -> Option<(&Node, &Node)> {
        match &node.kind {
            Kind::Scalar(_) => None,
            Kind::Seq(items) => items.iter().find_map(find),
            Kind::Map(entries) => entries
                .iter()
                .enumerate()
                .find_map(|(i, (key, _))| {
                    entries[..i]
                        .iter()
                        .find(|(earlier, _)| key_text(earlier) == key_text(key))
                        .map(|(earlier, _)| (key, earlier))
                })
                .or_else(|| entries.iter().find_map(|(_, value)| find(value))),
        }
    }
    let Some((again, first)) = find(node) else {
        return false;
    };
    let first = ctx.loc(first.pos);
    ctx.error(
        again.pos,
        format!(
            "duplicate key `{}` in {what} (first set at {first})",
            key_text(again)
        ),
        "a mapping keeps only one value per key: combine the conditions with `and`",
    );
    true
}

fn rule_hint(message: &str) -> String {
    if message.contains("PCRE") {
        "regex_match takes a PCRE pattern; escape literal characters such as `.`, `(`, `[` with a backslash".into()
    } else if message.contains("must be a number") {
        "lt, lte, gt and gte compare numbers: write the value unquoted".into()
    } else if message.contains("not valid JSON") {
        RULE_HINT.into()
    } else {
        "a rule is `and`/`or` over a list, `not` over a rule, or `<field>: {<operator>: <value>}`"
            .into()
    }
}

/// `advanced_rule:` opaque JSON (a mapping or a JSON string), compared in canonical form.
pub(crate) fn advanced_rule(ctx: &mut Ctx, node: &Node) -> Option<RuleSpec> {
    if refuse_duplicate_keys(ctx, node, "`advanced_rule`") {
        return None;
    }
    let value = match &node.kind {
        Kind::Map(_) => node.to_json(),
        Kind::Scalar(s) if matches!(s.resolve(), Resolved::Str(_)) => {
            match serde_json::from_str(&s.text) {
                Ok(v) => v,
                Err(e) => {
                    ctx.error(
                        node.pos,
                        format!("`advanced_rule` is not valid JSON: {e}"),
                        "write it as a mapping or a JSON object string",
                    );
                    return None;
                }
            }
        }
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "`advanced_rule` must be a mapping or a JSON string, found {}",
                    node.describe()
                ),
                "write it as a mapping or a JSON object string",
            );
            return None;
        }
    };
    if !value.is_object() {
        ctx.error(
            node.pos,
            "`advanced_rule` must be a JSON object",
            "write it as a mapping or a JSON object string",
        );
        return None;
    }
    Some(RuleSpec::Advanced(canonical_json(&value)))
}

/// The YAML node at `steps` inside a rule mapping (the key node for the last key step, so that
/// an unknown operator points at the operator), or the deepest node found.
pub(crate) fn locate(tree: &Node, steps: &[RuleStep]) -> Pos {
    let mut node = tree;
    let mut pos = tree.pos;
    for step in steps {
        match (step, &node.kind) {
            (RuleStep::Key(k), Kind::Map(entries)) => {
                match entries.iter().find(|(key, _)| key_text(key) == *k) {
                    Some((key, value)) => {
                        pos = key.pos;
                        node = value;
                    }
                    None => return pos,
                }
            }
            (RuleStep::Index(i), Kind::Seq(items)) => match items.get(*i) {
                Some(item) => {
                    pos = item.pos;
                    node = item;
                }
                None => return pos,
            },
            _ => return pos,
        }
    }
    pos
}

/// The rule lints: rules Meta accepts but that never fire or that it refuses
/// ([`never_fires`]), and the lints on `event` conditions ([`event_lints`]). `has_tests`: the
/// entry has `tests:` examples, which prove more than the offline contradiction check can.
pub(crate) fn lint(
    ctx: &mut Ctx,
    sourced: &SourcedRule,
    declared: Option<CustomEventType>,
    has_tests: bool,
) {
    let RuleSpec::Rule(rule) = &sourced.spec else {
        return;
    };
    never_fires(ctx, sourced, rule, has_tests);
    event_lints(ctx, sourced, rule, declared);
}

/// Rules Meta accepts that never fire (reference: Rules): a data key `event_type` (the key is
/// `event`), string values with leading or trailing spaces, conditions that contradict each
/// other (only without `tests:`); and a rule whose only conditions are on `event`, which Meta
/// refuses at creation (subcode 1760020).
fn never_fires(ctx: &mut Ctx, sourced: &SourcedRule, rule: &Rule, has_tests: bool) {
    let at = |steps: &[RuleStep]| sourced.tree.map_or(sourced.pos, |t| locate(t, steps));
    let mut found = Vec::new();
    walk(rule, &mut Vec::new(), false, &mut |steps, cond, _| {
        if cond.field == "event_type" {
            found.push((
                at(&steps[..steps.len() - 1]),
                "`event_type` is not event data Meta matches: Meta accepts the rule and it never fires".to_string(),
                "did you mean `event`? e.g. `event: {eq: Purchase}`".to_string(),
            ));
        }
        if let Operand::Text(value) = &cond.operand
            && value.trim() != value
        {
            found.push((
                at(steps),
                format!("the value {value:?} has leading or trailing spaces: Meta accepts it and the condition never matches"),
                format!("write {:?}", value.trim()),
            ));
        }
    });
    for (pos, message, hint) in found {
        ctx.warn(pos, message, hint);
    }
    if rule.only_on_event() {
        ctx.warn(
            sourced.pos,
            "the rule's only conditions are on `event`: Meta refuses such a rule when the conversion is created (subcode 1760020, \"A conversion rule is required at creation time\")",
            "add a condition on the page or a parameter, e.g. `and: [{event: {eq: Purchase}}, {url: {i_contains: /thank-you}}]`",
        );
    }
    if !has_tests && let Some(c) = rule.contradiction() {
        ctx.warn(
            at(&c.steps),
            format!("the rule can never match any event: {}", c.reason),
            "fix the rule (was an `or` meant?), or add `tests:` with a `match` example if it can match",
        );
    }
}

/// Lints on `event` conditions: a misspelled standard event (`purchase`), and a rule that counts
/// standard events (`event eq`) none of which has the declared custom event type (an `or` over
/// `Schedule` and `Lead` typed SCHEDULE is fine; one over `Lead` typed PURCHASE is suspicious).
fn event_lints(
    ctx: &mut Ctx,
    sourced: &SourcedRule,
    rule: &Rule,
    declared: Option<CustomEventType>,
) {
    let mut steps = Vec::new();
    let mut standard = Vec::new();
    walk(rule, &mut steps, false, &mut |steps, cond, negated| {
        if cond.data() != "event" || !matches!(cond.operator, Operator::Eq | Operator::Neq) {
            return;
        }
        let Operand::Text(name) = &cond.operand else {
            return;
        };
        let pos = sourced.tree.map_or(sourced.pos, |t| locate(t, steps));
        if let Some(meant) = misspelled_standard_event(name) {
            ctx.warn(
                pos,
                format!("event `{name}` looks like the standard event `{meant}`, but event names are case-sensitive"),
                format!("write `{meant}` if the pixel sends the standard event"),
            );
        } else if let (Some(t), Operator::Eq, false) =
            (standard_event_type(name), cond.operator, negated)
        {
            standard.push((pos, name.clone(), t));
        }
    });
    let Some(declared) = declared else { return };
    if standard.iter().any(|(_, _, t)| *t == declared) {
        return;
    }
    if let Some((pos, name, t)) = standard.first() {
        ctx.warn(
            *pos,
            format!("the rule counts the standard event `{name}` (type {t}), but custom_event_type is {declared}"),
            format!("set custom_event_type: {t}, unless {declared} is intended"),
        );
    }
}

fn walk(
    rule: &Rule,
    steps: &mut Vec<RuleStep>,
    negated: bool,
    f: &mut dyn FnMut(&[RuleStep], &crate::rule::Condition, bool),
) {
    match rule {
        Rule::And(items) | Rule::Or(items) => {
            let key = if matches!(rule, Rule::And(_)) {
                "and"
            } else {
                "or"
            };
            steps.push(RuleStep::Key(key.into()));
            for (i, item) in items.iter().enumerate() {
                steps.push(RuleStep::Index(i));
                walk(item, steps, negated, f);
                steps.pop();
            }
            steps.pop();
        }
        Rule::Not(inner) => {
            steps.push(RuleStep::Key("not".into()));
            walk(inner, steps, !negated, f);
            steps.pop();
        }
        Rule::Leaf(cond) => {
            steps.push(RuleStep::Key(cond.field.clone()));
            steps.push(RuleStep::Key(cond.operator.as_str().into()));
            f(steps, cond, negated);
            steps.pop();
            steps.pop();
        }
    }
}
