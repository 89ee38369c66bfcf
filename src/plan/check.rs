//! Checking a saved plan against the live state it is about to change, before any write
//! (docs/reconcile.md, apply: a saved plan is refused when an action does not match the live
//! conversion it names).
//!
//! The live fingerprint proves that live state is what the plan was made from; it says nothing
//! about the file's actions, which anyone can edit. So every action must agree with the live
//! conversion it names (id, name and `before`), every `after` must pass the same offline
//! validation as a manifest entry, a replacement may delete first only when the account's cap
//! requires it, and no conversion may be created twice. Pure: it never reaches the API.

use super::{
    AccountPlan, Action, ConversionState, DeleteFirst, DeleteReason, Field, FieldChange,
    ReplaceOrder, Retirement,
};
use crate::manifest::MAX_NAME_CHARS;
use crate::model::LiveConversion;
use crate::model::event_types::{ActionSourceType, CustomEventType};
use crate::model::ids::{ConversionId, ObjectId};
use crate::model::names::quoted;
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
    let mut check = AccountCheck {
        plan,
        live,
        by_id: live.iter().map(|c| (&c.id, c)).collect(),
        problems: Vec::new(),
        named: HashSet::new(),
        created: HashMap::new(),
        deleted: HashSet::new(),
    };
    for action in &plan.actions {
        check.action(action);
    }
    check.duplicates_keep_one();
    check.creates_once();
    if let Some(problem) = delete_first_problem(plan, live.len(), cap) {
        check.problems.push(problem);
    }
    check.problems
}

/// One account's check in progress: what the actions seen so far named, create and delete.
struct AccountCheck<'a> {
    plan: &'a AccountPlan,
    live: &'a [LiveConversion],
    by_id: HashMap<&'a ConversionId, &'a LiveConversion>,
    problems: Vec<String>,
    /// Ids named by an action (each may be named once).
    named: HashSet<&'a ConversionId>,
    /// How many times each name is created (by a create or a replacement).
    created: HashMap<&'a str, usize>,
    deleted: HashSet<&'a ConversionId>,
}

impl<'a> AccountCheck<'a> {
    fn action(&mut self, action: &'a Action) {
        let what = describe(action);
        let target = self.target(action, &what);
        let mut found = Vec::new();
        let mut problem = |text: String| found.push(format!("{what}: {text}"));
        match action {
            Action::Create { name, after, .. } => {
                same_name(&mut problem, "after", &after.name, name);
                valid_state(&mut problem, after);
                *self.created.entry(name).or_default() += 1;
            }
            Action::Update { name, changes, .. } => {
                check_update(&mut problem, name, changes, target);
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
                forced_by_immutable(&mut problem, forced_by);
                if let Some(live) = target {
                    same_before(&mut problem, before, live);
                }
                *self.created.entry(name).or_default() += 1;
            }
            Action::Delete {
                id,
                name,
                reason,
                before,
                ..
            } => {
                self.deleted.insert(id);
                if let Some(live) = target {
                    check_delete(&mut problem, live, name, *reason, before.as_deref());
                }
            }
            Action::Retire {
                id,
                name,
                reason,
                retirement,
                before,
                ..
            } => {
                self.deleted.insert(id);
                valid_retirement(&mut problem, retirement);
                if let Some(live) = target {
                    check_delete(&mut problem, live, name, *reason, before.as_deref());
                    if live.retired_on().is_some() {
                        problem("the live conversion is retired already".into());
                    }
                }
            }
        }
        if let Action::Replace {
            retire_old: Some(retirement),
            ..
        } = action
        {
            valid_retirement(&mut problem, retirement);
        }
        self.problems.extend(found);
    }

    /// The live conversion an action names: none for a create, or when the id is not one of
    /// the account's live conversions (a problem, as is an id named twice).
    fn target(&mut self, action: &'a Action, what: &str) -> Option<&'a LiveConversion> {
        let id = action.id()?;
        if !self.named.insert(id) {
            self.problems.push(format!(
                "{what}: id {id} is named by another action of the plan too"
            ));
        }
        match self.by_id.get(id) {
            None => {
                self.problems.push(format!(
                    "{what}: id {id} is not one of {}'s conversions",
                    self.plan.account
                ));
                None
            }
            Some(c) if c.is_archived => {
                self.problems.push(format!("{what}: id {id} is archived"));
                None
            }
            Some(c) => Some(*c),
        }
    }

    /// A duplicate is deleted only while an exact twin of it stays: another live conversion
    /// equal in every field the API reported for both.
    fn duplicates_keep_one(&mut self) {
        for action in &self.plan.actions {
            let Action::Delete {
                id,
                name,
                reason: DeleteReason::Duplicate,
                ..
            } = action
            else {
                continue;
            };
            let copy = self.by_id.get(id).map(|c| ConversionState::from_live(c));
            let kept = self.live.iter().any(|c| {
                !c.is_archived
                    && &c.id != id
                    && c.name.as_deref() == Some(name.as_str())
                    && !self.deleted.contains(&c.id)
                    && copy
                        .as_ref()
                        .is_none_or(|copy| ConversionState::from_live(c).differing(copy).is_empty())
            });
            if !kept {
                self.problems.push(format!(
                    "{}: no other live conversion named {}, identical to it in every field, stays, so it is not a duplicate",
                    describe(action),
                    quoted(name)
                ));
            }
        }
    }

    /// No name is created twice (a second create would make a duplicate).
    fn creates_once(&mut self) {
        let mut twice: Vec<(&&str, &usize)> =
            self.created.iter().filter(|(_, n)| **n > 1).collect();
        twice.sort();
        for (name, n) in twice {
            self.problems.push(format!(
                "{}: the plan creates {} {n} times",
                self.plan.account,
                quoted(name)
            ));
        }
    }
}

/// An update changes something, only fields that can be updated, from what is live now.
fn check_update(
    problem: &mut impl FnMut(String),
    name: &str,
    changes: &[FieldChange],
    target: Option<&LiveConversion>,
) {
    if changes.is_empty() {
        problem("an update without changes".into());
    }
    for change in changes {
        valid_update(problem, change, name);
    }
    let Some(live) = target else { return };
    let have = ConversionState::from_live(live);
    for change in changes {
        let value = have.get(change.field);
        if value.as_ref() != Some(&change.before) {
            problem(format!(
                "its {} is {} live, the plan says {} (was the file edited?)",
                change.field,
                shown(value.as_ref()),
                change.before
            ));
        }
    }
    // (A pinned conversion may come back without a name: then it is unknown.)
    if !changes.iter().any(|c| c.field == Field::Name) {
        live_name(problem, live, name, false);
    }
}

/// A replacement is forced by fields that cannot be updated in place (else it is an update).
fn forced_by_immutable(problem: &mut impl FnMut(String), forced_by: &[Field]) {
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
}

/// A delete names the live conversion by its name and says what it deletes.
fn check_delete(
    problem: &mut impl FnMut(String),
    live: &LiveConversion,
    name: &str,
    reason: DeleteReason,
    before: Option<&ConversionState>,
) {
    // Prunes and duplicates are chosen by name: they need the live one's name.
    let by_name = matches!(reason, DeleteReason::Prune | DeleteReason::Duplicate);
    live_name(problem, live, name, by_name);
    match before {
        Some(before) => same_before(problem, before, live),
        None => problem(
            "it does not say what it deletes (`before`), as every plan convctl makes does".into(),
        ),
    }
}

/// What deletes first is what the diff plans: a delete or replacement that frees a rule only
/// when a create of the plan needs that rule, and `delete_before_create` for the cap exactly as
/// many times as the cap requires (see `diff::order_for_cap`).
fn delete_first_problem(plan: &AccountPlan, listed: usize, cap: usize) -> Option<String> {
    let rule_of = |state: &ConversionState| {
        state
            .rule
            .as_ref()
            .map(|r| r.to_value())
            .and_then(|v| Rule::from_value(&v).ok())
            .map(|r| r.meaning_key())
    };
    let created: Vec<(&str, Option<String>)> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { name, after, .. } => Some((name.as_str(), rule_of(after))),
            Action::Replace { name, after, .. } => Some((name.as_str(), rule_of(after))),
            _ => None,
        })
        .collect();
    let mut problems = Vec::new();
    let mut rule_firsts = 0;
    let mut cap_firsts = 0;
    for action in &plan.actions {
        let (freed, wanted_by) = match action {
            Action::Replace {
                order: ReplaceOrder::DeleteBeforeCreate,
                delete_first: Some(DeleteFirst::SameRule),
                before,
                ..
            } => (rule_of(before), None),
            Action::Replace {
                order: ReplaceOrder::DeleteBeforeCreate,
                ..
            } => {
                cap_firsts += 1;
                continue;
            }
            Action::Delete {
                frees_rule_for: Some(wanted_by),
                before,
                ..
            } => (
                before.as_deref().and_then(rule_of),
                Some(wanted_by.as_str()),
            ),
            _ => continue,
        };
        rule_firsts += 1;
        let needed = freed.is_some()
            && created
                .iter()
                .any(|(name, key)| *key == freed && wanted_by.is_none_or(|w| w == *name));
        if !needed {
            problems.push(format!(
                "{}: it deletes first to free a rule, but no create of the plan needs that rule (was the file edited?)",
                describe(action)
            ));
        }
    }
    let creates = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .count();
    let needed = created.len();
    let room = cap.saturating_sub(listed);
    let required = needed.saturating_sub(room + rule_firsts);
    if cap_firsts != required {
        problems.push(format!(
            "{}: {cap_firsts} replacement(s) delete first for room, but {} has {listed} of its {cap} conversions and the plan creates {} (room for {room}, {rule_firsts} delete(s) first to free a rule): {required} must, and only then; a replacement deletes first only at the limit (was the file edited?)",
            plan.account,
            plan.account,
            creates + (needed - creates)
        ));
    }
    (!problems.is_empty()).then(|| problems.join("; "))
}

/// `delete "D" (id 4)`, as the apply report names actions.
fn describe(action: &Action) -> String {
    let name = quoted(action.name());
    match action {
        Action::Create { .. } => format!("create {name}"),
        Action::Update { id, .. } => format!("update {name} (id {id})"),
        Action::Replace { id, .. } => format!("replace {name} (id {id})"),
        Action::Delete { id, .. } => format!("delete {name} (id {id})"),
        Action::Retire { id, .. } => format!("retire {name} (id {id})"),
    }
}

/// A retirement renames to a retired name (`[retired YYYY-MM-DD] ...`) the API takes, and
/// says why in the description.
fn valid_retirement(problem: &mut impl FnMut(String), retirement: &Retirement) {
    valid_name(problem, &retirement.name);
    if crate::model::retired::retired_on(&retirement.name).is_none() {
        problem(format!(
            "it retires under the name {}, which is not a retired name ([retired YYYY-MM-DD] ...)",
            quoted(&retirement.name)
        ));
    }
    if retirement.description.trim().is_empty() {
        problem("it retires without saying when and why (empty description)".into());
    }
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
    let differ: Vec<&str> = have.differing(before).iter().map(|f| f.as_str()).collect();
    if !differ.is_empty() {
        problem(format!(
            "its `before` differs from the live conversion {} in {} (was the file edited?)",
            live.id,
            differ.join(", ")
        ));
    }
}

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
            valid_value(problem, n.as_f64().unwrap_or(f64::NAN));
        }
        (field, value) => problem(format!("an update cannot set {field} to {value}")),
    }
}

#[cfg(test)]
mod tests;
