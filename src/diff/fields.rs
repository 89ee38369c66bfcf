//! Field by field comparison of one declared conversion with one live conversion.
//!
//! Owns the rules of docs/reconcile.md about *what* differs: rules by meaning, numbers by value,
//! a field the live answer did not carry is unknown (never a change), a field the manifest does
//! not declare is not managed. It never decides identity or order.

use crate::manifest::{DesiredConversion, RuleSpec};
use crate::model::LiveConversion;
use crate::model::names;
use crate::plan::{ConversionState, Field, FieldChange, live_json_value, live_rule_value};
use crate::rule::{Rule, canonical_json, number_value};
use serde_json::Value;

/// What differs between a declared conversion and the live one it matched.
#[derive(Debug, Default)]
pub(crate) struct FieldDiff {
    /// Every differing field, in plan order.
    pub(crate) changes: Vec<FieldChange>,
    /// Immutable fields among `changes`: a non-empty list means replacement.
    pub(crate) forced_by: Vec<Field>,
    /// Fields the live answer did not report (unknown, so not compared).
    pub(crate) unknown: Vec<Field>,
}

impl FieldDiff {
    pub(crate) fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// The plan's `after` for a declared conversion: rules in canonical form.
pub(crate) fn desired_state(d: &DesiredConversion) -> ConversionState {
    let (rule, advanced_rule) = match &d.rule {
        Some(RuleSpec::Rule(r)) => (Some(r.to_value().into()), None),
        Some(RuleSpec::Advanced(v)) => (None, Some(canonical_json(v).into())),
        None => (None, None),
    };
    ConversionState {
        name: d.name.clone(),
        description: Some(d.description.clone()),
        custom_event_type: d.custom_event_type.map(|t| t.as_str().to_string()),
        default_conversion_value: Some(d.default_conversion_value),
        event_source_id: d.event_source_id.as_ref().map(|id| id.as_str().to_string()),
        action_source_type: d.action_source_type.map(|t| t.as_str().to_string()),
        rule,
        advanced_rule,
    }
}

/// Two conversion values are equal when they are the same number (`12` == `12.0`), with a
/// tolerance for the float the API may round-trip.
fn same_value(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn change(c: &mut FieldDiff, field: Field, before: Value, after: Value) {
    if !field.is_mutable() {
        c.forced_by.push(field);
    }
    c.changes.push(FieldChange {
        field,
        before,
        after,
    });
}

/// An immutable text field: only a declared (`Some`) one is managed; an unknown live one is
/// noted, never changed.
fn text_field(c: &mut FieldDiff, field: Field, desired: Option<&str>, live: Option<&str>) {
    match (desired, live) {
        (None, _) => {}
        (Some(_), None) => c.unknown.push(field),
        (Some(want), Some(have)) if want != have => {
            change(c, field, have.to_string().into(), want.to_string().into());
        }
        _ => {}
    }
}

/// Compares a declared conversion with the live one it matched.
pub(crate) fn diff_fields(d: &DesiredConversion, live: &LiveConversion) -> FieldDiff {
    let mut c = FieldDiff::default();

    // Names as the API stores them: a live name with edge spaces is the declared name.
    match &live.name {
        Some(name) if names::stored(name) != names::stored(&d.name) => change(
            &mut c,
            Field::Name,
            name.clone().into(),
            d.name.clone().into(),
        ),
        Some(_) => {}
        None => c.unknown.push(Field::Name),
    }
    match &live.description {
        Some(desc) if *desc != d.description => change(
            &mut c,
            Field::Description,
            desc.clone().into(),
            d.description.clone().into(),
        ),
        Some(_) => {}
        None => c.unknown.push(Field::Description),
    }

    text_field(
        &mut c,
        Field::CustomEventType,
        d.custom_event_type.map(|t| t.as_str()),
        live.custom_event_type.as_deref(),
    );

    match live.default_conversion_value {
        Some(v) if !same_value(v, d.default_conversion_value) => change(
            &mut c,
            Field::DefaultConversionValue,
            number_value(v),
            number_value(d.default_conversion_value),
        ),
        Some(_) => {}
        None => c.unknown.push(Field::DefaultConversionValue),
    }

    text_field(
        &mut c,
        Field::EventSourceId,
        d.event_source_id.as_ref().map(|id| id.as_str()),
        live.event_source_id.as_deref(),
    );
    text_field(
        &mut c,
        Field::ActionSourceType,
        d.action_source_type.map(|t| t.as_str()),
        live.action_source_type.as_deref(),
    );

    match &d.rule {
        None => {}
        Some(RuleSpec::Rule(want)) => match (&live.rule, &live.advanced_rule) {
            (Some(text), _) => {
                let same = Rule::from_json_str(text).is_ok_and(|have| have == *want);
                if !same {
                    change(&mut c, Field::Rule, live_rule_value(text), want.to_value());
                }
            }
            // The live one counts with an advanced rule: switching to a rule replaces it.
            (None, Some(_)) => change(&mut c, Field::Rule, Value::Null, want.to_value()),
            (None, None) => c.unknown.push(Field::Rule),
        },
        Some(RuleSpec::Advanced(want)) => {
            let want = canonical_json(want);
            match (&live.advanced_rule, &live.rule) {
                (Some(text), _) => {
                    let have = live_json_value(text);
                    if have != want {
                        change(&mut c, Field::AdvancedRule, have, want);
                    }
                }
                (None, Some(_)) => change(&mut c, Field::AdvancedRule, Value::Null, want),
                (None, None) => c.unknown.push(Field::AdvancedRule),
            }
        }
    }
    c
}
