//! The diff engine: one declared account × its live conversions → the account's plan
//! (spec section 2).
//!
//! Owns identity (pinned ids, names, duplicate-name errors, recovering a half-finished
//! replacement, a replaced pinned conversion), the choice between update and replacement,
//! tombstones, prune, the unmanaged list, ordering at the account cap and the safety rules
//! (`protect`, last-fired and unavailable warnings, the mass-delete warning). It is pure: no
//! I/O, the clock is passed in, so every rule is unit-tested here.

mod compare;
mod identity;
mod renames;
mod safety;

pub use compare::{Comparison, compare, desired_state};
pub use safety::{MassDelete, fired_recently, mass_delete};

use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure, Severity};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use crate::plan::{
    AccountPlan, Action, ConversionState, DeleteReason, ReplaceOrder, Unmanaged, live_fingerprint,
};
use identity::Matching;
use std::collections::HashMap;

/// What the diff needs from outside: the clock (for last-fired warnings), the account cap, and
/// whether the plan is only reported (`drift`).
#[derive(Clone, Copy, Debug)]
pub struct DiffOptions {
    pub now: jiff::Timestamp,
    pub cap: usize,
    /// `drift`: what `apply` would refuse (a protected conversion to destroy, no room at the
    /// cap) is drift to report, with a warning, not an error that hides it.
    pub report_only: bool,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            now: jiff::Timestamp::now(),
            cap: crate::ACCOUNT_CAP,
            report_only: false,
        }
    }
}

fn error(entry: &DesiredConversion, message: String, hint: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        location: Some(entry.location.clone()),
        message,
        hint: Some(hint.into()),
    }
}

/// Plans one account. Errors (unknown pins, ambiguous names, protected conversions the plan
/// would destroy, no room at the cap) name the entry's file:line:col and how to fix them.
pub fn diff_account(
    desired: &DesiredAccount,
    live: &[LiveConversion],
    opts: &DiffOptions,
) -> Result<AccountPlan, Vec<Diagnostic>> {
    let account = &desired.account;
    // Archived conversions are gone as far as convctl is concerned (reference: Custom conversions).
    let active: Vec<&LiveConversion> = live.iter().filter(|c| !c.is_archived).collect();
    let by_id: HashMap<&ConversionId, &LiveConversion> =
        active.iter().map(|c| (&c.id, *c)).collect();

    let Matching {
        matched,
        leftovers,
        claimed,
        mut warnings,
        mut errors,
    } = identity::match_entries(desired, &active, &by_id);
    let mut notes = Vec::new();
    // What apply refuses (protect, no room at the cap): errors for a plan, warnings for drift.
    let mut refusals: Vec<Diagnostic> = Vec::new();

    // 4. Actions, in manifest order.
    let mut actions = Vec::new();
    for (i, entry) in desired.conversions.iter().enumerate() {
        let live = matched[i];
        if let Some(old) = leftovers.get(&i) {
            if entry.protect {
                refusals.push(protect_error(
                    entry,
                    "delete the old half of its interrupted replacement",
                ));
            }
            actions.push(Action::Delete {
                id: old.id.clone(),
                name: old.name.clone(),
                set: set_of(entry),
                set_entry: entry.set.as_ref().map(|s| s.entry.clone()),
                reason: DeleteReason::Replaced,
                before: Some(Box::new(ConversionState::from_live(old))),
            });
        }
        match (entry.ensure, live) {
            (Ensure::Absent, None) => {}
            (Ensure::Absent, Some(live)) => {
                if entry.protect {
                    refusals.push(protect_error(entry, "delete it (ensure: absent)"));
                }
                actions.push(Action::Delete {
                    id: live.id.clone(),
                    name: live.name.clone(),
                    set: set_of(entry),
                    set_entry: entry.set.as_ref().map(|s| s.entry.clone()),
                    reason: DeleteReason::Absent,
                    before: Some(Box::new(ConversionState::from_live(live))),
                });
            }
            (Ensure::Present, None) => {
                actions.push(Action::Create {
                    name: entry.name.clone(),
                    set: set_of(entry),
                    set_entry: entry.set.as_ref().map(|s| s.entry.clone()),
                    after: desired_state(entry),
                });
            }
            (Ensure::Present, Some(live)) => {
                let cmp = compare(entry, live);
                if !cmp.unknown.is_empty() {
                    let fields: Vec<&str> = cmp.unknown.iter().map(|f| f.as_str()).collect();
                    notes.push(format!(
                        "\"{}\" ({}): the API did not report {}; unknown fields are not compared",
                        entry.name,
                        live.id,
                        fields.join(", ")
                    ));
                }
                if !cmp.forced_by.is_empty() {
                    if entry.protect {
                        let fields: Vec<&str> = cmp.forced_by.iter().map(|f| f.as_str()).collect();
                        refusals.push(protect_error(
                            entry,
                            &format!("replace it ({} changed)", fields.join(", ")),
                        ));
                    }
                    actions.push(Action::Replace {
                        id: live.id.clone(),
                        name: entry.name.clone(),
                        set: set_of(entry),
                        set_entry: entry.set.as_ref().map(|s| s.entry.clone()),
                        forced_by: cmp.forced_by,
                        order: ReplaceOrder::CreateBeforeDelete,
                        changes: cmp.changes,
                        before: Box::new(ConversionState::from_live(live)),
                        after: Box::new(desired_state(entry)),
                        pinned_at: entry.id.as_ref().map(|_| entry.location.to_string()),
                    });
                } else if !cmp.is_empty() {
                    actions.push(Action::Update {
                        id: live.id.clone(),
                        name: entry.name.clone(),
                        set: set_of(entry),
                        set_entry: entry.set.as_ref().map(|s| s.entry.clone()),
                        changes: cmp.changes,
                    });
                }
            }
        }
    }

    // 5. What no entry declares: deleted with prune, listed otherwise.
    let mut unmanaged = Vec::new();
    let mut undeclared: Vec<&LiveConversion> = active
        .iter()
        .copied()
        .filter(|c| !claimed.contains(&c.id))
        .collect();
    undeclared.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    for live in undeclared {
        if desired.prune {
            actions.push(Action::Delete {
                id: live.id.clone(),
                name: live.name.clone(),
                set: None,
                set_entry: None,
                reason: DeleteReason::Prune,
                before: Some(Box::new(ConversionState::from_live(live))),
            });
        } else {
            unmanaged.push(Unmanaged {
                id: live.id.clone(),
                name: live.name.clone(),
            });
        }
    }

    // 6. Room at the cap: replacements delete first only when they must.
    let archived = live.len() - active.len();
    if let Err(message) = order_for_cap(
        &mut actions,
        (live.len(), archived),
        opts.cap,
        &mut warnings,
        desired,
    ) {
        refusals.push(Diagnostic {
            severity: Severity::Error,
            location: Some(desired.location.clone()),
            message,
            hint: Some(
                "apply the deletes first (in a separate change), then add the new conversions"
                    .into(),
            ),
        });
    }

    if opts.report_only {
        warnings.extend(refusals.into_iter().map(|d| {
            format!(
                "{}: {}; apply refuses this until it is resolved",
                d.location
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                d.message
            )
        }));
    } else {
        errors.extend(refusals);
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // 7. Warnings about what the plan destroys or what is unusable.
    for action in &actions {
        let (Some(id), verb) = (
            action.id(),
            match action {
                Action::Replace { .. } => "replacing",
                Action::Delete { .. } => "deleting",
                _ => continue,
            },
        ) else {
            continue;
        };
        if let Some(live) = by_id.get(id)
            && let Some(ago) = live
                .last_fired_time
                .as_deref()
                .and_then(|t| fired_recently(t, opts.now))
        {
            warnings.push(format!(
                "\"{}\" ({id}) last fired {ago}: {verb} it loses its history; reports and ads optimising for it stay with the old id",
                live.name
            ));
        }
    }
    for live in &active {
        if live.is_unavailable {
            warnings.push(format!(
                "\"{}\" ({}) is unavailable: Meta flagged its name as suggesting health or financial status, and it cannot be used in new campaigns",
                live.name, live.id
            ));
        }
    }
    // Plans of many accounts live until apply is done: no spare capacity (a Vec grown to 128
    // slots for 100 actions wastes a fifth of the largest part of the plan).
    actions.shrink_to_fit();
    let mut plan = AccountPlan {
        account: account.clone(),
        source: desired.location.file.display().to_string(),
        live_fingerprint: live_fingerprint(live),
        actions,
        unmanaged,
        warnings,
        safety: desired.safety,
        token_env: desired.token_env.clone(),
        notes,
    };
    if let Some(mass) = mass_delete(&plan, active.len()) {
        plan.warnings.push(format!(
            "{mass}; apply refuses it without --allow-mass-delete"
        ));
    }
    Ok(plan)
}

/// The name of the set an entry comes from (plans say it on every action).
fn set_of(entry: &DesiredConversion) -> Option<String> {
    entry.set.as_ref().map(|s| s.name.clone())
}

fn protect_error(entry: &DesiredConversion, what: &str) -> Diagnostic {
    error(
        entry,
        format!(
            "\"{}\" is protected (protect: true), but the plan would {what}",
            entry.name
        ),
        "revert the change, or remove `protect: true` from this entry if you really mean it",
    )
}

/// Apply creates (new conversions and the new halves of replacements) before it deletes. At the
/// cap there may be no room: then as many replacements as needed delete first (the plan says
/// so); if even that is not enough, the plan fails.
fn order_for_cap(
    actions: &mut [Action],
    (listed, archived): (usize, usize),
    cap: usize,
    warnings: &mut Vec<String>,
    desired: &DesiredAccount,
) -> Result<(), String> {
    let creates = actions
        .iter()
        .filter(|a| matches!(a, Action::Create { .. }))
        .count();
    let replaces = actions
        .iter()
        .filter(|a| matches!(a, Action::Replace { .. }))
        .count();
    let room = cap.saturating_sub(listed);
    let needed = creates + replaces;
    if needed <= room {
        return Ok(());
    }
    let must_delete_first = needed - room;
    if must_delete_first > replaces {
        return Err(format!(
            "{} has {listed} of its {cap} custom conversions; this plan creates {creates} and there is room for {room}, because its deletes run after its creates",
            desired.account
        ));
    }
    if archived > 0 {
        // Where DELETE only archives, deleting first makes no room; apply checks after the
        // first delete and stops there.
        warnings.push(format!(
            "{} counts {archived} archived conversion(s) toward its {cap} limit: if deleting only archives on this account, deleting first makes no room, and apply stops after the first such delete",
            desired.account
        ));
    }
    let mut switched = 0;
    for action in actions.iter_mut() {
        if switched == must_delete_first {
            break;
        }
        if let Action::Replace { order, name, .. } = action {
            *order = ReplaceOrder::DeleteBeforeCreate;
            switched += 1;
            warnings.push(format!(
                "\"{name}\" is replaced delete-before-create: {} is at its {cap}-conversion limit; it is missing until the new one is created",
                desired.account
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
