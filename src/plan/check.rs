//! Checking a saved plan against the live state it is about to change, before any write
//! (spec section 3: "refuses ... when an action does not match the live conversion it names").
//!
//! The live fingerprint proves that live state is what the plan was made from; it says nothing
//! about the file's actions, which anyone can edit. So every action must agree with the live
//! conversion it names (id, name and `before`), every `after` must pass the same offline
//! validation as a manifest entry, a replacement may delete first only when the account's cap
//! requires it, and no conversion may be created twice. Pure: it never reaches the API.

use super::{AccountPlan, Action, ConversionState, DeleteReason, Field, FieldChange, ReplaceOrder};
use crate::manifest::MAX_NAME_CHARS;
use crate::model::LiveConversion;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::{ConversionId, ObjectId};
use crate::rule::Rule;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Every way the account's actions disagree with its live conversions (`live`: the account's
/// listing, archived ones included) or with what convctl would ever plan; empty when the plan
/// may be executed. `cap`: the account's conversion limit.
pub(crate) fn check_account(
    plan: &AccountPlan,
    live: &[LiveConversion],
    cap: usize,
) -> Vec<String> {
    let by_id: HashMap<&ConversionId, &LiveConversion> = live.iter().map(|c| (&c.id, c)).collect();
    let mut problems = Vec::new();
    let mut named: HashSet<&ConversionId> = HashSet::new();
    let mut created: HashMap<&str, usize> = HashMap::new();
    let mut deleted: HashSet<&ConversionId> = HashSet::new();

    for action in &plan.actions {
        let what = describe(action);
        let mut problem = |text: String| problems.push(format!("{what}: {text}"));
        let target = match action.id() {
            None => None,
            Some(id) => {
                if !named.insert(id) {
                    problem(format!(
                        "id {id} is named by another action of the plan too"
                    ));
                }
                match by_id.get(id) {
                    None => {
                        problem(format!(
                            "id {id} is not one of {}'s conversions",
                            plan.account
                        ));
                        None
                    }
                    Some(c) if c.is_archived => {
                        problem(format!("id {id} is archived"));
                        None
                    }
                    Some(c) => Some(*c),
                }
            }
        };
        match action {
            Action::Create { name, after, .. } => {
                same_name(&mut problem, "after", &after.name, name);
                valid_state(&mut problem, after);
                *created.entry(name).or_default() += 1;
            }
            Action::Update { name, changes, .. } => {
                if changes.is_empty() {
                    problem("an update without changes".into());
                }
                for change in changes {
                    valid_update(&mut problem, change, name);
                }
                if let Some(live) = target {
                    for change in changes {
                        let have = ConversionState::from_live(live).get(change.field);
                        if have.as_ref() != Some(&change.before) {
                            problem(format!(
                                "its {} is {} live, the plan says {} (was the file edited?)",
                                change.field,
                                shown(have.as_ref()),
                                change.before
                            ));
                        }
                    }
                    // (A pinned conversion may come back without a name: then it is unknown.)
                    if !changes.iter().any(|c| c.field == Field::Name) {
                        live_name(&mut problem, live, name, false);
                    }
                }
            }
            Action::Replace {
                name,
                forced_by,
                before,
                after,
                ..
            } => {
                same_name(&mut problem, "after", &after.name, name);
                valid_state(&mut problem, after);
                if forced_by.is_empty() || forced_by.iter().any(|f| f.is_mutable()) {
                    problem(format!(
                        "a replacement must be forced by fields that cannot be updated in place, not [{}]",
                        forced_by
                            .iter()
                            .map(|f| f.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                if let Some(live) = target {
                    same_before(&mut problem, before, live);
                }
                *created.entry(name).or_default() += 1;
            }
            Action::Delete {
                id,
                name,
                reason,
                before,
                ..
            } => {
                deleted.insert(id);
                if let Some(live) = target {
                    // Prunes and duplicates are chosen by name: they need the live one's name.
                    let by_name = matches!(reason, DeleteReason::Prune | DeleteReason::Duplicate);
                    live_name(&mut problem, live, name, by_name);
                    match before {
                        Some(before) => same_before(&mut problem, before, live),
                        None => problem(
                            "it does not say what it deletes (`before`), as every plan convctl makes does".into(),
                        ),
                    }
                }
            }
        }
    }

    // A duplicate is deleted only while the conversion it duplicates stays.
    for action in &plan.actions {
        let Action::Delete {
            id,
            name,
            reason: DeleteReason::Duplicate,
            ..
        } = action
        else {
            continue;
        };
        let kept = live.iter().any(|c| {
            !c.is_archived
                && &c.id != id
                && c.name.as_deref() == Some(name.as_str())
                && !deleted.contains(&c.id)
        });
        if !kept {
            problems.push(format!(
                "{}: no other live conversion named {} stays, so it is not a duplicate",
                describe(action),
                quoted(name)
            ));
        }
    }

    let mut twice: Vec<(&&str, &usize)> = created.iter().filter(|(_, n)| **n > 1).collect();
    twice.sort();
    for (name, n) in twice {
        problems.push(format!(
            "{}: the plan creates {} {n} times",
            plan.account,
            quoted(name)
        ));
    }
    if let Some(problem) = delete_first_problem(plan, live.len(), cap) {
        problems.push(problem);
    }
    problems
}

/// `delete_before_create` only at the cap, and exactly as many as the cap requires: what the
/// diff plans (see `diff::order_for_cap`).
fn delete_first_problem(plan: &AccountPlan, listed: usize, cap: usize) -> Option<String> {
    let count = |f: fn(&Action) -> bool| plan.actions.iter().filter(|a| f(a)).count();
    let creates = count(|a| matches!(a, Action::Create { .. }));
    let replaces = count(|a| matches!(a, Action::Replace { .. }));
    let delete_first = count(|a| {
        matches!(
            a,
            Action::Replace {
                order: ReplaceOrder::DeleteBeforeCreate,
                ..
            }
        )
    });
    let room = cap.saturating_sub(listed);
    let required = (creates + replaces).saturating_sub(room);
    (delete_first != required).then(|| {
        format!(
            "{}: {delete_first} replacement(s) delete first, but {} has {listed} of its {cap} conversions and the plan creates {} (room for {room}): {required} must, and only then; a replacement deletes first only at the limit (was the file edited?)",
            plan.account,
            plan.account,
            creates + replaces
        )
    })
}

/// `delete "D" (id 4)`, as the apply report names actions.
fn describe(action: &Action) -> String {
    let name = quoted(action.name());
    match action {
        Action::Create { .. } => format!("create {name}"),
        Action::Update { id, .. } => format!("update {name} (id {id})"),
        Action::Replace { id, .. } => format!("replace {name} (id {id})"),
        Action::Delete { id, .. } => format!("delete {name} (id {id})"),
    }
}

/// A name as JSON quotes it (`"A \"b\""`).
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "not reported".to_string(), Value::to_string)
}

fn same_name(problem: &mut impl FnMut(String), what: &str, have: &str, name: &str) {
    if have != name {
        problem(format!(
            "its {what} is named {}, the action {} (was the file edited?)",
            quoted(have),
            quoted(name)
        ));
    }
}

/// The action's name is the live conversion's (`required`: the live one must have reported a
/// name at all).
fn live_name(problem: &mut impl FnMut(String), live: &LiveConversion, name: &str, required: bool) {
    match &live.name {
        Some(have) if have != name => problem(format!(
            "the live conversion {} is named {}, not {} (was the file edited?)",
            live.id,
            quoted(have),
            quoted(name)
        )),
        None if required => problem(format!(
            "the live conversion {} has no reported name, so it cannot be chosen by name",
            live.id
        )),
        _ => {}
    }
}

fn same_before(problem: &mut impl FnMut(String), before: &ConversionState, live: &LiveConversion) {
    let have = ConversionState::from_live(live);
    let differ: Vec<&str> = FIELDS
        .iter()
        .filter(|f| have.get(**f) != before.get(**f))
        .map(|f| f.as_str())
        .collect();
    if !differ.is_empty() {
        problem(format!(
            "its `before` differs from the live conversion {} in {} (was the file edited?)",
            live.id,
            differ.join(", ")
        ));
    }
}

const FIELDS: [Field; 8] = [
    Field::Name,
    Field::Description,
    Field::CustomEventType,
    Field::DefaultConversionValue,
    Field::EventSourceId,
    Field::ActionSourceType,
    Field::Rule,
    Field::AdvancedRule,
];

/// An `after` passes the checks a manifest entry passes (`convctl validate`): name length, a
/// valid rule (grammar, operators, PCRE syntax) or an `advanced_rule` object, known enums, a
/// digit-string event source, a value that is a number >= 0.
fn valid_state(problem: &mut impl FnMut(String), after: &ConversionState) {
    valid_name(problem, &after.name);
    match (&after.rule, &after.advanced_rule) {
        (Some(rule), None) => {
            if let Err(e) = Rule::from_value(&rule.to_value()) {
                problem(format!("its rule is invalid: {e}"));
            }
        }
        (None, Some(advanced)) => {
            if !advanced.to_value().is_object() {
                problem("its advanced_rule is not a JSON object".into());
            }
        }
        (None, None) => problem("it has no rule".into()),
        (Some(_), Some(_)) => problem("it has both a rule and an advanced_rule".into()),
    }
    match after.custom_event_type.as_deref() {
        None => problem("it has no custom_event_type".into()),
        Some(t) => {
            if let Err(e) = t.parse::<CustomEventType>() {
                problem(format!("custom_event_type {e}"));
            }
        }
    }
    if let Some(t) = after.action_source_type.as_deref()
        && let Err(e) = t.parse::<ActionSourceType>()
    {
        problem(format!("action_source_type {e}"));
    }
    if let Some(id) = after.event_source_id.as_deref()
        && let Err(e) = ObjectId::parse(id)
    {
        problem(format!("event_source_id: {e}"));
    }
    match after.default_conversion_value {
        None => problem("it has no default_conversion_value".into()),
        Some(v) => valid_value(problem, v),
    }
}

fn valid_name(problem: &mut impl FnMut(String), name: &str) {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        problem(format!(
            "its name is {chars} characters long; the API takes 1 to {MAX_NAME_CHARS}"
        ));
    }
}

fn valid_value(problem: &mut impl FnMut(String), value: f64) {
    if !value.is_finite() || value < 0.0 {
        problem(format!(
            "default_conversion_value {value} is not a number >= 0"
        ));
    }
}

/// One change of an in-place update: a mutable field, set to a valid value; a rename's new
/// name is the action's.
fn valid_update(problem: &mut impl FnMut(String), change: &FieldChange, name: &str) {
    match (change.field, &change.after) {
        (Field::Name, Value::String(new)) => {
            valid_name(problem, new);
            same_name(problem, "rename", new, name);
        }
        (Field::Description, Value::String(_)) => {}
        (Field::DefaultConversionValue, Value::Number(n)) => {
            valid_value(problem, n.as_f64().unwrap_or(f64::NAN))
        }
        (field, value) => problem(format!("an update cannot set {field} to {value}")),
    }
}

#[cfg(test)]
mod tests;
