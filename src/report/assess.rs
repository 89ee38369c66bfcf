//! One account judged: each live conversion's state and findings, the entries not live yet,
//! the drift as counts and entries, and the cap.

use super::sets::SetUse;
use super::thresholds::Thresholds;
use super::{
    AccountHealth, Cap, ConversionHealth, Drift, DriftEntry, Evidence, Finding, Kind, State,
};
use crate::manifest::DesiredAccount;
use crate::model::parse_api_time as parse_time;
use crate::model::{ConversionId, LiveConversion};
use crate::plan::{AccountPlan, Action, DeleteReason};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What one account's judgement is made of: its manifest, its live conversions, which live
/// conversion each entry means (`diff::diff_account_matched`) and its plan.
pub struct AccountInput<'a> {
    pub desired: &'a DesiredAccount,
    pub live: &'a [LiveConversion],
    pub entry_ids: &'a [Option<ConversionId>],
    pub plan: &'a AccountPlan,
}

/// The account judged at `now`: its health, its findings, and its use of sets.
pub fn assess_account(
    input: &AccountInput,
    now: jiff::Timestamp,
    thresholds: &Thresholds,
) -> (AccountHealth, Vec<Finding>, SetUse) {
    let AccountInput {
        desired,
        live,
        entry_ids,
        plan,
    } = input;
    let entry_of: HashMap<&ConversionId, usize> = entry_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| id.as_ref().map(|id| (id, i)))
        .collect();
    let mut unmanaged: HashSet<&ConversionId> = plan.unmanaged.iter().map(|u| &u.id).collect();
    let (drift, drift_of) = drift_of(plan);
    for action in &plan.actions {
        if let Action::Delete {
            id,
            reason: DeleteReason::Prune,
            ..
        } = action
        {
            unmanaged.insert(id);
        }
    }
    let mut rows = Vec::with_capacity(live.len() + drift.counts.create);
    let mut findings = Vec::new();
    for conversion in live.iter() {
        let entry = entry_of
            .get(&conversion.id)
            .map(|&i| &desired.conversions[i]);
        let judged = judge(
            conversion,
            entry.and_then(|e| e.expect_fire_within),
            unmanaged.contains(&conversion.id),
            now,
            thresholds,
        );
        let name = conversion
            .name
            .clone()
            .or_else(|| entry.map(|e| e.name.clone()))
            .unwrap_or_else(|| "(name not reported)".to_string());
        let set = entry.and_then(|e| e.set.as_ref().map(|s| s.name.clone()));
        for (kind, evidence, message) in judged.findings.iter().cloned() {
            findings.push(Finding {
                account: desired.account.clone(),
                id: conversion.id.clone(),
                name: name.clone(),
                kind,
                set: set.clone(),
                evidence,
                message,
            });
        }
        rows.push(ConversionHealth {
            id: Some(conversion.id.clone()),
            name,
            managed: entry.is_some(),
            set,
            state: judged.state,
            findings: judged.findings.iter().map(|(k, _, _)| *k).collect(),
            creation_time: shown_time(conversion.creation_time.as_deref()),
            first_fired_time: shown_time(conversion.first_fired_time.as_deref()),
            last_fired_time: shown_time(conversion.last_fired_time.as_deref()),
            expect_fire_within: judged.threshold,
            stats: None,
            drift: drift_of.get(&conversion.id).cloned(),
        });
    }
    for (i, entry) in desired.conversions.iter().enumerate() {
        let planned_create = entry_ids.get(i).is_some_and(Option::is_none)
            && plan
                .actions
                .iter()
                .any(|a| matches!(a, Action::Create { name, .. } if *name == entry.name));
        if planned_create {
            rows.push(ConversionHealth {
                id: None,
                name: entry.name.clone(),
                managed: true,
                set: entry.set.as_ref().map(|s| s.name.clone()),
                state: State::Missing,
                findings: Vec::new(),
                creation_time: None,
                first_fired_time: None,
                last_fired_time: None,
                expect_fire_within: thresholds.effective(entry.expect_fire_within).label(),
                stats: None,
                drift: Some("create".to_string()),
            });
        }
    }
    rows.sort_by(|a, b| (row_rank(a), &a.name, &a.id).cmp(&(row_rank(b), &b.name, &b.id)));
    let mut counts: BTreeMap<Kind, usize> = Kind::ALL.iter().map(|k| (*k, 0)).collect();
    for f in &findings {
        *counts.entry(f.kind).or_default() += 1;
    }
    let archived = live.iter().filter(|c| c.is_archived).count();
    let retired = live
        .iter()
        .filter(|c| !c.is_archived && c.retired_on().is_some())
        .count();
    let health = AccountHealth {
        account: desired.account.clone(),
        source: plan.source.clone(),
        error: None,
        sets: sets_of(desired),
        cap: Cap {
            live: live.len(),
            archived,
            retired,
            limit: crate::ACCOUNT_CAP,
            headroom: crate::ACCOUNT_CAP.saturating_sub(live.len()),
        },
        drift,
        conversions: rows,
        findings: counts,
        events: None,
        warnings: plan.warnings.clone(),
    };
    (health, findings, set_use(desired, plan))
}

/// An account that could not be read: named on top of the report with why.
pub fn unreadable_account(desired: &DesiredAccount, error: String) -> AccountHealth {
    AccountHealth {
        account: desired.account.clone(),
        source: desired.location.file.display().to_string(),
        error: Some(error),
        sets: sets_of(desired),
        cap: Cap {
            limit: crate::ACCOUNT_CAP,
            ..Cap::default()
        },
        drift: Drift::default(),
        conversions: Vec::new(),
        findings: Kind::ALL.iter().map(|k| (*k, 0)).collect(),
        events: None,
        warnings: Vec::new(),
    }
}

/// The sets an account uses, in the order it uses them.
fn sets_of(desired: &DesiredAccount) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for origin in desired.conversions.iter().filter_map(|c| c.set.as_ref()) {
        if !out.contains(&origin.name) {
            out.push(origin.name.clone());
        }
    }
    out
}

/// Which entries of which sets the account has, and which of them the plan would change.
fn set_use(desired: &DesiredAccount, plan: &AccountPlan) -> SetUse {
    let mut entries: Vec<(String, String, Option<String>)> = Vec::new();
    let changed: HashMap<(&str, &str), String> = plan
        .actions
        .iter()
        .filter_map(|a| {
            let set = a.set()?;
            let entry = a.set_entry()?;
            let word = match a {
                Action::Create { .. } => "missing",
                Action::Update { .. } => "update",
                Action::Replace { .. } => "replace",
                Action::Delete { .. } => "delete",
            };
            Some(((set, entry), word.to_string()))
        })
        .collect();
    for origin in desired.conversions.iter().filter_map(|c| c.set.as_ref()) {
        let status = changed
            .get(&(origin.name.as_str(), origin.entry.as_str()))
            .cloned();
        entries.push((origin.name.clone(), origin.entry.clone(), status));
    }
    SetUse {
        account: desired.account.clone(),
        entries,
    }
}

/// Rows with problems first, then housekeeping, then the rest; by name within.
fn row_rank(row: &ConversionHealth) -> u8 {
    match row.findings.iter().min() {
        Some(k) if k.is_problem() => 0,
        _ if row.state == State::Missing => 1,
        Some(_) => 2,
        None if row.drift.is_some() => 3,
        None => 4,
    }
}

/// What `plan` would do, as counts and entries, and per live id the words for its row.
fn drift_of(plan: &AccountPlan) -> (Drift, HashMap<ConversionId, String>) {
    let mut drift = Drift::default();
    let mut by_id = HashMap::new();
    for action in &plan.actions {
        let entry = match action {
            Action::Create { name, set, .. } => {
                drift.counts.create += 1;
                DriftEntry {
                    action: "create",
                    id: None,
                    name: name.clone(),
                    set: set.clone(),
                    fields: Vec::new(),
                    reason: None,
                }
            }
            Action::Update {
                id,
                name,
                set,
                changes,
                ..
            } => {
                drift.counts.update += 1;
                DriftEntry {
                    action: "update",
                    id: Some(id.clone()),
                    name: name.clone(),
                    set: set.clone(),
                    fields: changes.iter().map(|c| c.field.as_str()).collect(),
                    reason: None,
                }
            }
            Action::Replace {
                id,
                name,
                set,
                forced_by,
                ..
            } => {
                drift.counts.replace += 1;
                DriftEntry {
                    action: "replace",
                    id: Some(id.clone()),
                    name: name.clone(),
                    set: set.clone(),
                    fields: forced_by.iter().map(|f| f.as_str()).collect(),
                    reason: None,
                }
            }
            Action::Delete {
                id,
                name,
                set,
                reason,
                ..
            } => {
                drift.counts.delete += 1;
                DriftEntry {
                    action: "delete",
                    id: Some(id.clone()),
                    name: name.clone(),
                    set: set.clone(),
                    fields: Vec::new(),
                    reason: Some(match reason {
                        DeleteReason::Absent => "absent",
                        DeleteReason::Prune => "prune",
                        DeleteReason::Replaced => "replaced",
                        DeleteReason::Duplicate => "duplicate",
                    }),
                }
            }
        };
        if let Some(id) = &entry.id {
            by_id.insert(id.clone(), entry.describe());
        }
        drift.entries.push(entry);
    }
    (drift, by_id)
}

/// One conversion's judgement.
struct Judged {
    state: State,
    findings: Vec<(Kind, Evidence, String)>,
    threshold: String,
}

/// Archived, retired and flagged conversions are what they are (they count nothing, by
/// design or by Meta's hand); every other one is judged by its events, unless its threshold is
/// `off`. Unmanaged is said besides.
fn judge(
    c: &LiveConversion,
    expectation: Option<crate::manifest::FireExpectation>,
    unmanaged: bool,
    now: jiff::Timestamp,
    thresholds: &Thresholds,
) -> Judged {
    let effective = thresholds.effective(expectation);
    let evidence = |threshold: Option<String>, days: Option<i64>| Evidence {
        creation_time: shown_time(c.creation_time.as_deref()),
        first_fired_time: shown_time(c.first_fired_time.as_deref()),
        last_fired_time: shown_time(c.last_fired_time.as_deref()),
        threshold,
        days,
        retired_on: c.retired_on().map(|d| d.to_string()),
        is_unavailable: c.is_unavailable,
        is_archived: c.is_archived,
    };
    let mut findings = Vec::new();
    let state = if c.is_archived {
        findings.push((
            Kind::Archived,
            evidence(None, None),
            "archived: it counts nothing and still takes a place under the 100-conversion cap"
                .to_string(),
        ));
        State::Archived
    } else if let Some(day) = c.retired_on() {
        findings.push((
            Kind::Retired,
            evidence(None, None),
            format!("retired by convctl on {day}: archive it in Events Manager to free its place under the cap"),
        ));
        State::Retired
    } else if c.is_unavailable {
        findings.push((
            Kind::Flagged,
            evidence(None, None),
            "flagged by Meta (is_unavailable): it matches no events and cannot be used in new campaigns".to_string(),
        ));
        State::Flagged
    } else {
        judge_events(c, &effective, now, &mut findings, &evidence)
    };
    if unmanaged && !matches!(state, State::Archived | State::Retired) {
        findings.push((
            Kind::Unmanaged,
            evidence(None, None),
            "no entry of the manifests declares it: add one (`convctl import` writes it) or let `prune: true` delete it".to_string(),
        ));
    }
    Judged {
        state,
        findings,
        threshold: effective.label(),
    }
}

/// Never fired (counted from creation), stopped firing (from the last event), or fine.
fn judge_events(
    c: &LiveConversion,
    effective: &super::thresholds::Effective,
    now: jiff::Timestamp,
    findings: &mut Vec<(Kind, Evidence, String)>,
    evidence: &dyn Fn(Option<String>, Option<i64>) -> Evidence,
) -> State {
    let (Some(first_window), Some(last_window)) = (effective.never_fired, effective.stopped_firing)
    else {
        return State::NotChecked;
    };
    let days_since = |t: jiff::Timestamp| (now.as_second() - t.as_second()).div_euclid(86_400);
    let seconds_since = |t: jiff::Timestamp| now.as_second() - t.as_second();
    let first = c.first_fired_time.as_deref().and_then(parse_time);
    let last = c.last_fired_time.as_deref().and_then(parse_time).or(first);
    let label = |d: std::time::Duration| crate::model::duration::duration_text(d);
    match last {
        None => {
            let created = c.creation_time.as_deref().and_then(parse_time);
            let over = created.is_none_or(|t| seconds_since(t) > first_window.as_secs() as i64);
            if !over {
                return State::Waiting;
            }
            let days = created.map(days_since);
            let since = match (created, days) {
                (Some(t), Some(d)) => format!("since it was created on {} ({d} days ago", day(t)),
                _ => "and its creation time was not reported (".to_string(),
            };
            findings.push((
                Kind::NeverFired,
                evidence(Some(label(first_window)), days),
                format!(
                    "never fired {since}; expected within {})",
                    label(first_window)
                ),
            ));
            State::Silent
        }
        Some(last) if seconds_since(last) > last_window.as_secs() as i64 => {
            let days = days_since(last);
            findings.push((
                Kind::StoppedFiring,
                evidence(Some(label(last_window)), Some(days)),
                format!(
                    "last fired on {} ({days} days ago; expected within {})",
                    day(last),
                    label(last_window)
                ),
            ));
            State::Silent
        }
        Some(_) => State::Firing,
    }
}

/// The UTC day of a time, `2026-11-20`.
fn day(t: jiff::Timestamp) -> String {
    crate::model::stats::utc_day(t.as_second()).to_string()
}

/// A time as the report shows it: RFC 3339 in UTC when it can be read, else as reported.
fn shown_time(text: Option<&str>) -> Option<String> {
    let text = text?;
    Some(parse_time(text).map_or_else(|| text.to_string(), |t| t.to_string()))
}
