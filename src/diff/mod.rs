//! The diff engine: one declared account × its live conversions → the account's plan
//! (spec section 2).
//!
//! Owns identity (pinned ids, names, duplicate-name errors, recovering a half-finished
//! replacement, a replaced pinned conversion), the choice between update and replacement,
//! tombstones, prune, the unmanaged list, ordering at the account cap and the safety rules
//! (`protect`, last-fired and unavailable warnings, the mass-delete warning). It is pure: no
//! I/O, the clock is passed in, so every rule is unit-tested here.

mod compare;
mod safety;

pub use compare::{Comparison, compare, desired_state};
pub use safety::{MassDelete, fired_recently, mass_delete};

use crate::graph::LiveConversion;
use crate::ids::ConversionId;
use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure, Severity};
use crate::plan::{
    AccountPlan, Action, ConversionState, DeleteReason, ReplaceOrder, Unmanaged, live_fingerprint,
};
use std::collections::{HashMap, HashSet};

/// What the diff needs from outside: the clock (for last-fired warnings) and the account cap.
#[derive(Clone, Copy, Debug)]
pub struct DiffOptions {
    pub now: jiff::Timestamp,
    pub cap: usize,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            now: jiff::Timestamp::now(),
            cap: crate::ACCOUNT_CAP,
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

    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut claimed: HashSet<&ConversionId> = HashSet::new();
    let mut matched: Vec<Option<&LiveConversion>> = vec![None; desired.conversions.len()];
    // Old halves of interrupted replacements, keyed by the entry that finishes them.
    let mut leftovers: HashMap<usize, &LiveConversion> = HashMap::new();

    // 1. Pins that exist claim their conversion first, so that names never steal them.
    for (i, entry) in desired.conversions.iter().enumerate() {
        let Some(id) = &entry.id else { continue };
        if let Some(live) = by_id.get(id) {
            if !claimed.insert(&live.id) {
                errors.push(error(
                    entry,
                    format!(
                        "id {id} of \"{}\" is pinned by another entry of {account} too",
                        entry.name
                    ),
                    "an id may be pinned by one entry only; remove the duplicate pin",
                ));
            }
            matched[i] = Some(live);
        }
    }
    // 1b. A pinned replacement cut off half way: the pinned id still exists with the old
    //     immutable fields, and one unclaimed conversion of that name matches the manifest in
    //     every field: that one is the new half; the pinned one is finished off.
    for (i, entry) in desired.conversions.iter().enumerate() {
        let (Some(old), Ensure::Present) = (matched[i], entry.ensure) else {
            continue;
        };
        if compare(entry, old).forced_by.is_empty() {
            continue;
        }
        let finished: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| {
                c.name == entry.name && !claimed.contains(&c.id) && compare(entry, c).is_empty()
            })
            .collect();
        if let [new] = finished.as_slice() {
            claimed.insert(&new.id);
            matched[i] = Some(new);
            leftovers.insert(i, old);
            warnings.push(format!(
                "\"{}\": finishing an interrupted replacement: {} matches the manifest, the pinned old id {} will be deleted. Update the pin at {} to id: \"{}\"",
                entry.name, new.id, old.id, entry.location, new.id
            ));
        }
    }
    // 2. Pins that do not exist: gone for a tombstone; for a present entry, the replaced-pin
    //    exception (one live conversion with that name and the declared immutable fields).
    for (i, entry) in desired.conversions.iter().enumerate() {
        let Some(id) = &entry.id else { continue };
        if matched[i].is_some() || entry.ensure == Ensure::Absent {
            continue;
        }
        let candidates: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| c.name == entry.name && !claimed.contains(&c.id))
            .filter(|c| compare(entry, c).forced_by.is_empty())
            .collect();
        if let [only] = candidates.as_slice() {
            claimed.insert(&only.id);
            matched[i] = Some(only);
            warnings.push(format!(
                "\"{}\" is pinned to id {id}, which no longer exists; {} (same name and declared fields) is taken as its replacement. Update the pin at {} to id: \"{}\"",
                entry.name, only.id, entry.location, only.id
            ));
        } else {
            errors.push(error(
                entry,
                format!("\"{}\" is pinned to id {id}, which does not exist in {account} (or is archived)", entry.name),
                "check the id (`convctl import` lists live ids), or remove the `id:` line to match by name",
            ));
        }
    }
    // 3. Everything else by name, among the conversions no pin claimed.
    for (i, entry) in desired.conversions.iter().enumerate() {
        if entry.id.is_some() {
            continue;
        }
        let candidates: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| c.name == entry.name && !claimed.contains(&c.id))
            .collect();
        match candidates.as_slice() {
            [] => {}
            [only] => {
                claimed.insert(&only.id);
                matched[i] = Some(only);
            }
            many => {
                if let Some((new, old)) = interrupted_replacement(entry, many) {
                    claimed.insert(&new.id);
                    claimed.insert(&old.id);
                    matched[i] = Some(new);
                    leftovers.insert(i, old);
                    warnings.push(format!(
                        "\"{}\": finishing an interrupted replacement: {} matches the manifest, the old {} will be deleted",
                        entry.name, new.id, old.id
                    ));
                } else {
                    let ids: Vec<String> = many.iter().map(|c| c.id.to_string()).collect();
                    errors.push(error(
                        entry,
                        format!(
                            "{} live conversions in {account} are named \"{}\" (ids {}); convctl cannot tell which one this entry means",
                            many.len(),
                            entry.name,
                            ids.join(", ")
                        ),
                        format!("pin the one to manage with `id: \"{}\"` on this entry (and delete or rename the others)", ids[0]),
                    ));
                }
            }
        }
    }

    // 4. Actions, in manifest order.
    let mut actions = Vec::new();
    for (i, entry) in desired.conversions.iter().enumerate() {
        let live = matched[i];
        if let Some(old) = leftovers.get(&i) {
            if entry.protect {
                errors.push(protect_error(
                    entry,
                    "delete the old half of its interrupted replacement",
                ));
            }
            actions.push(Action::Delete {
                id: old.id.clone(),
                name: old.name.clone(),
                reason: DeleteReason::Replaced,
            });
        }
        match (entry.ensure, live) {
            (Ensure::Absent, None) => {}
            (Ensure::Absent, Some(live)) => {
                if entry.protect {
                    errors.push(protect_error(entry, "delete it (ensure: absent)"));
                }
                actions.push(Action::Delete {
                    id: live.id.clone(),
                    name: live.name.clone(),
                    reason: DeleteReason::Absent,
                });
            }
            (Ensure::Present, None) => {
                actions.push(Action::Create {
                    name: entry.name.clone(),
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
                        errors.push(protect_error(
                            entry,
                            &format!("replace it ({} changed)", fields.join(", ")),
                        ));
                    }
                    actions.push(Action::Replace {
                        id: live.id.clone(),
                        name: entry.name.clone(),
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
                reason: DeleteReason::Prune,
            });
        } else {
            unmanaged.push(Unmanaged {
                id: live.id.clone(),
                name: live.name.clone(),
            });
        }
    }

    // 6. Room at the cap: replacements delete first only when they must.
    if let Err(message) = order_for_cap(&mut actions, live.len(), opts.cap, &mut warnings, desired)
    {
        errors.push(Diagnostic {
            severity: Severity::Error,
            location: Some(desired.location.clone()),
            message,
            hint: Some(
                "apply the deletes first (in a separate change), then add the new conversions"
                    .into(),
            ),
        });
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
    let mut plan = AccountPlan {
        account: account.clone(),
        source: desired.location.file.display().to_string(),
        live_fingerprint: live_fingerprint(live),
        actions,
        unmanaged,
        warnings,
        notes,
    };
    if let Some(mass) = mass_delete(&plan, active.len()) {
        plan.warnings.push(format!(
            "{mass}; apply refuses it without --allow-mass-delete"
        ));
    }
    Ok(plan)
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

/// Two (or more) live conversions carry the entry's name: a replacement cut off after its
/// create left the new one (matching the manifest in every field) and the old one (differing
/// in a field that forces replacement). Anything else is ambiguous.
fn interrupted_replacement<'a>(
    entry: &DesiredConversion,
    candidates: &[&'a LiveConversion],
) -> Option<(&'a LiveConversion, &'a LiveConversion)> {
    if entry.ensure != Ensure::Present || candidates.len() != 2 {
        return None;
    }
    let (a, b) = (candidates[0], candidates[1]);
    let (ca, cb) = (compare(entry, a), compare(entry, b));
    match (ca.is_empty(), cb.is_empty()) {
        (true, false) if !cb.forced_by.is_empty() => Some((a, b)),
        (false, true) if !ca.forced_by.is_empty() => Some((b, a)),
        _ => None,
    }
}

/// Apply creates (new conversions and the new halves of replacements) before it deletes. At the
/// cap there may be no room: then as many replacements as needed delete first (the plan says
/// so); if even that is not enough, the plan fails.
fn order_for_cap(
    actions: &mut [Action],
    listed: usize,
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
