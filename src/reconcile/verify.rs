//! After an apply: did the API store what was sent? ("inconsistent result after apply", spec
//! section 3.)
//!
//! Before the writes, [`Expectations::of`] notes what each action sends (the `after` of creates
//! and replacements, the changed fields of updates, the ids of deletes). After them,
//! [`verify`] lists the accounts written once more (batched: one round for many accounts) and
//! compares, field by field, with what the API now stores, the way the diff compares (rules by
//! meaning, numbers numerically, a field the answer does not carry is unknown and never a
//! difference). Anything else is an [`Inconsistency`]: a rule the API rewrote in a way convctl
//! does not know is equivalent, a value it rounded, a conversion that is not there. Reported,
//! it stops the silent loop where every apply replaces the same conversion again, losing its
//! history each time.
//!
//! Only actions the apply reports as done are checked; it never writes.

use crate::model::{AdAccountId, ConversionId, LiveConversion};
use crate::plan::{Action, ConversionState, Field, PlanDocument};
use crate::reconcile::LiveApi;
use crate::reconcile::apply::{ActionReport, ApplyReport, Status};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// What one action sent.
#[derive(Clone, Debug)]
enum Sent {
    /// A new conversion (a create, or the new half of a replacement of `old`).
    Created {
        old: Option<ConversionId>,
        after: ConversionState,
    },
    /// Changed fields of `id`.
    Updated {
        id: ConversionId,
        fields: Vec<(Field, Value)>,
    },
    /// `id` was deleted (or, where Meta refused, retired: see [`check`]).
    Deleted { id: ConversionId },
    /// `id` was renamed `name` (retired).
    Retired { id: ConversionId, name: String },
}

/// One expectation per action of the plan, in plan order (the order of the apply report).
#[derive(Clone, Debug)]
struct Expected {
    account: AdAccountId,
    name: String,
    sent: Sent,
}

/// What an apply is about to send, noted before the plan is handed to `execute`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expectations {
    items: Vec<Expected>,
}

/// One field the API stores differently from what was sent.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Inconsistency {
    pub(crate) account: AdAccountId,
    /// The conversion's name, and its id when one is known.
    pub(crate) name: String,
    pub(crate) id: Option<ConversionId>,
    /// `None`: the conversion as a whole (missing after a create, still there after a delete).
    pub(crate) field: Option<Field>,
    pub(crate) sent: Value,
    pub(crate) stored: Value,
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .id
            .as_ref()
            .map(|i| format!(" (id {i})"))
            .unwrap_or_default();
        let who = format!(
            "{}: {}{id}",
            self.account,
            crate::render::quoted(&self.name)
        );
        match self.field {
            Some(field) => write!(
                f,
                "{who}: {field}: sent {}, stored {}",
                compact(&self.sent),
                compact(&self.stored)
            ),
            None => write!(
                f,
                "{who}: sent {}, but the API now shows {}",
                text(&self.sent),
                text(&self.stored)
            ),
        }
    }
}

fn compact(value: &Value) -> String {
    value.to_string()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The hint printed with inconsistencies.
pub(crate) const HINT: &str = "the API stored these differently from what convctl sent. If the stored form means the same, \
write it in the manifest as stored (so the next plan shows no change); otherwise report it \
(attach a --trace FILE of the apply). Until then every apply would change them again";

impl Expectations {
    /// Notes what every action of `doc` sends.
    pub(crate) fn of(doc: &PlanDocument) -> Expectations {
        let mut items = Vec::new();
        for account in &doc.accounts {
            for action in &account.actions {
                let sent = match action {
                    Action::Create { after, .. } => Sent::Created {
                        old: None,
                        after: after.clone(),
                    },
                    Action::Replace { id, after, .. } => Sent::Created {
                        old: Some(id.clone()),
                        after: (**after).clone(),
                    },
                    Action::Update { id, changes, .. } => Sent::Updated {
                        id: id.clone(),
                        fields: changes.iter().map(|c| (c.field, c.after.clone())).collect(),
                    },
                    Action::Delete { id, .. } => Sent::Deleted { id: id.clone() },
                    Action::Retire { id, retirement, .. } => Sent::Retired {
                        id: id.clone(),
                        name: retirement.name.clone(),
                    },
                };
                items.push(Expected {
                    account: account.account.clone(),
                    name: action.name().to_string(),
                    sent,
                });
            }
        }
        Expectations { items }
    }
}

/// Why the check itself could not be made.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VerifyError(pub String);

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lists the accounts the done actions wrote (once, batched) and compares. Inconsistencies in
/// plan order; an error when an account could not be listed (nothing is then claimed).
pub(crate) async fn verify<A: LiveApi>(
    api: &A,
    expected: &Expectations,
    report: &ApplyReport,
) -> Result<Vec<Inconsistency>, VerifyError> {
    // Only what the apply reports as done; the report is in plan order.
    let done: Vec<(&Expected, &ActionReport)> = expected
        .items
        .iter()
        .zip(&report.actions)
        .filter(|(e, a)| a.account == e.account.to_string())
        .filter(|(_, a)| matches!(a.status, Status::Done(_)))
        .collect();
    let accounts: Vec<AdAccountId> = done
        .iter()
        .map(|(e, _)| e.account.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let listed = api.list_many(&accounts).await;
    let mut live: HashMap<&AdAccountId, Vec<LiveConversion>> = HashMap::new();
    for (account, result) in accounts.iter().zip(listed) {
        match result {
            Ok(conversions) => {
                live.insert(
                    account,
                    conversions.into_iter().filter(|c| !c.is_archived).collect(),
                );
            }
            Err(e) => {
                return Err(VerifyError(format!(
                    "could not list {account} again to check what the API stored: {e}"
                )));
            }
        }
    }
    let mut found = Vec::new();
    for (expected, done) in done {
        let conversions = &live[&expected.account];
        found.extend(check(expected, done, conversions));
    }
    Ok(found)
}

/// What the API stores for one done action, against what it was sent. A delete Meta refused
/// and convctl retired instead (`done.retired_as`) is checked as the rename it was.
fn check(expected: &Expected, done: &ActionReport, live: &[LiveConversion]) -> Vec<Inconsistency> {
    let created_id = done.new_id.as_ref();
    let inconsistency = |id: Option<&ConversionId>, field, sent, stored| Inconsistency {
        account: expected.account.clone(),
        name: expected.name.clone(),
        id: id.cloned(),
        field,
        sent,
        stored,
    };
    match &expected.sent {
        Sent::Created { old, after } => {
            let found = created_id
                .and_then(|id| live.iter().find(|c| &c.id == id))
                .or_else(|| {
                    // By name, never the old half of a replacement; the closest match first.
                    live.iter()
                        .filter(|c| {
                            c.name.as_deref() == Some(after.name.as_str())
                                && Some(&c.id) != old.as_ref()
                        })
                        .min_by_key(|c| differences(after, c).len())
                });
            let Some(stored) = found else {
                return vec![inconsistency(
                    created_id,
                    None,
                    Value::String("a create".into()),
                    Value::String(format!(
                        "no conversion named {}",
                        crate::model::names::quoted(&after.name)
                    )),
                )];
            };
            differences(after, stored)
                .into_iter()
                .map(|(field, sent, stored_value)| {
                    inconsistency(Some(&stored.id), Some(field), sent, stored_value)
                })
                .collect()
        }
        Sent::Updated { id, fields } => {
            let Some(stored) = live.iter().find(|c| &c.id == id) else {
                return vec![inconsistency(
                    Some(id),
                    None,
                    Value::String("an update".into()),
                    Value::String("no conversion with that id".into()),
                )];
            };
            let state = ConversionState::from_live(stored);
            fields
                .iter()
                .filter_map(|(field, sent)| {
                    let stored_value = state.get(*field)?;
                    (!same(*field, sent, &stored_value))
                        .then(|| inconsistency(Some(id), Some(*field), sent.clone(), stored_value))
                })
                .collect()
        }
        Sent::Deleted { id } if done.retired_as.is_some() => {
            let name = done.retired_as.clone().unwrap_or_default();
            check_retired(id, &name, live, inconsistency)
        }
        Sent::Retired { id, name } => check_retired(id, name, live, inconsistency),
        Sent::Deleted { id } => match live.iter().find(|c| &c.id == id) {
            Some(_) => vec![inconsistency(
                Some(id),
                None,
                Value::String("a delete".into()),
                Value::String("the conversion still listed (not archived)".into()),
            )],
            None => Vec::new(),
        },
    }
}

/// A retired conversion is listed under its retired name.
fn check_retired(
    id: &ConversionId,
    name: &str,
    live: &[LiveConversion],
    inconsistency: impl Fn(Option<&ConversionId>, Option<Field>, Value, Value) -> Inconsistency,
) -> Vec<Inconsistency> {
    match live.iter().find(|c| &c.id == id) {
        None => vec![inconsistency(
            Some(id),
            None,
            Value::String(format!("a retirement (renamed {name:?})")),
            Value::String("no conversion with that id".into()),
        )],
        Some(stored) => match stored.name.as_deref() {
            Some(have) if have != name => vec![inconsistency(
                Some(id),
                Some(Field::Name),
                Value::String(name.to_string()),
                Value::String(have.to_string()),
            )],
            _ => Vec::new(),
        },
    }
}

/// Every field `after` declares that `live` reports differently, as (field, sent, stored).
fn differences(after: &ConversionState, live: &LiveConversion) -> Vec<(Field, Value, Value)> {
    let stored = ConversionState::from_live(live);
    ALL_FIELDS
        .iter()
        .filter_map(|&field| {
            let sent = after.get(field)?;
            let stored = stored.get(field)?;
            (!same(field, &sent, &stored)).then_some((field, sent, stored))
        })
        .collect()
}

const ALL_FIELDS: &[Field] = &[
    Field::Name,
    Field::Description,
    Field::CustomEventType,
    Field::DefaultConversionValue,
    Field::EventSourceId,
    Field::ActionSourceType,
    Field::Rule,
    Field::AdvancedRule,
];

/// Equal as the diff sees it: numbers numerically, everything else (rules already in canonical
/// form on both sides) as JSON values. A description left empty reads as absent.
fn same(field: Field, sent: &Value, stored: &Value) -> bool {
    match (sent, stored) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .is_some_and(|(a, b)| (a - b).abs() < 1e-9),
        (Value::String(a), Value::String(b)) if field == Field::Description => a.trim() == b.trim(),
        _ => sent == stored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::CompactJson;
    use serde_json::json;

    fn live(id: &str, name: &str, rule: &str, value: f64) -> LiveConversion {
        LiveConversion {
            id: ConversionId::parse(id).unwrap(),
            name: Some(name.into()),
            description: Some(String::new()),
            rule: Some(rule.into()),
            advanced_rule: None,
            custom_event_type: Some("PURCHASE".into()),
            event_source_id: Some("55".into()),
            action_source_type: None,
            default_conversion_value: Some(value),
            is_archived: false,
            is_unavailable: false,
            creation_time: None,
            first_fired_time: None,
            last_fired_time: None,
        }
    }

    /// Rules compare by meaning (both sides canonical), values numerically; a field the live
    /// answer does not carry is unknown, never a difference.
    #[test]
    fn differences_are_by_meaning_and_unknown_is_not_one() {
        let after = ConversionState {
            name: "A".into(),
            default_conversion_value: Some(12.0),
            rule: Some(CompactJson::new(&json!({"url": {"i_contains": "x"}}))),
            action_source_type: Some("website".into()),
            ..ConversionState::default()
        };
        let same_rule = live("1", "A", r#"{ "url" : {"i_contains":"x"} }"#, 12.0);
        assert!(
            differences(&after, &same_rule).is_empty(),
            "unknown action source, same rule"
        );
        let rewritten = live("1", "A", r#"{"url":{"i_contains":"X"}}"#, 12.5);
        let found = differences(&after, &rewritten);
        let fields: Vec<Field> = found.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(fields, [Field::DefaultConversionValue, Field::Rule]);
        assert_eq!(found[1].2, json!({"url": {"i_contains": "X"}}));
    }
}
