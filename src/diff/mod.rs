//! The diff engine: one declared account × its live conversions → the account's plan
//! (spec section 2).
//!
//! Owns identity (pinned ids, names, duplicate-name errors, recovering a half-finished
//! replacement, a replaced pinned conversion), the choice between update and replacement,
//! tombstones, prune, the unmanaged list, ordering at the account cap and the safety rules
//! (`protect`, last-fired and unavailable warnings, the mass-delete warning). It is pure: no
//! I/O, the clock is passed in, so every rule is unit-tested here.

mod fields;
mod identity;
mod pins;
mod protect;
mod renames;
mod safety;
mod twins;

pub(crate) use fields::{desired_state, diff_fields};
pub use safety::{MassDelete, fired_recently, mass_delete};

use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure, Severity};
use crate::model::LiveConversion;
use crate::model::ids::{AdAccountId, ConversionId};
use crate::model::names::{self, quoted};
use crate::plan::{
    AccountPlan, Action, ConversionState, DeleteReason, ReplaceOrder, Unmanaged, seal,
};
use identity::Matching;
use protect::{Guard, protect_error};
use std::collections::{HashMap, HashSet};

/// What the diff needs from outside: the clock (for last-fired warnings), the account cap, and
/// whether the plan is only reported (`drift`).
#[derive(Clone, Copy, Debug)]
pub struct DiffOptions {
    pub now: jiff::Timestamp,
    pub(crate) cap: usize,
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
///
/// The steps, in order: match entries to live conversions ([`identity`]), plan each entry's
/// action in manifest order, then what no entry declares (prune or unmanaged), order the
/// replacements for the cap, settle what apply would refuse (errors, or warnings for drift),
/// and warn about what the plan destroys.
pub fn diff_account(
    desired: &DesiredAccount,
    live: &[LiveConversion],
    opts: &DiffOptions,
) -> Result<AccountPlan, Vec<Diagnostic>> {
    diff_account_matched(desired, live, opts).map(|(plan, _)| plan)
}

/// [`diff_account`], and which live conversion each entry means (in manifest order; `None`
/// for an entry nothing live matches): what `report` needs to judge each conversion by its
/// entry's expectations.
pub fn diff_account_matched(
    desired: &DesiredAccount,
    live: &[LiveConversion],
    opts: &DiffOptions,
) -> Result<(AccountPlan, Vec<Option<ConversionId>>), Vec<Diagnostic>> {
    // Archived conversions are gone as far as convctl is concerned (reference: Custom conversions).
    let active: Vec<&LiveConversion> = live.iter().filter(|c| !c.is_archived).collect();
    let by_id: HashMap<&ConversionId, &LiveConversion> =
        active.iter().map(|c| (&c.id, *c)).collect();

    let Matching {
        matched,
        leftovers,
        duplicates,
        claimed,
        warnings,
        mut errors,
    } = identity::match_entries(desired, &active, &by_id);
    let entry_ids: Vec<Option<ConversionId>> =
        matched.iter().map(|m| m.map(|c| c.id.clone())).collect();
    let mut planner = Planner {
        desired,
        guard: Guard::new(desired, &active, &matched),
        actions: Vec::new(),
        warnings,
        notes: Vec::new(),
        refusals: Vec::new(),
    };
    planner.plan_entries(&matched, &leftovers, &duplicates);
    let unmanaged = planner.plan_undeclared(&active, &claimed);
    planner.make_room(live.len(), live.len() - active.len(), opts.cap);
    let Planner {
        mut actions,
        mut warnings,
        notes,
        refusals,
        ..
    } = planner;
    let drift_refusals = settle_refusals(refusals, opts.report_only, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    destruction_warnings(&actions, &active, &by_id, opts.now, &mut warnings);
    lookalike_warnings(desired, &active, &mut warnings);
    // Plans of many accounts live until apply is done: no spare capacity (a Vec grown to 128
    // slots for 100 actions wastes a fifth of the largest part of the plan).
    actions.shrink_to_fit();
    let mut plan = AccountPlan {
        account: desired.account.clone(),
        source: desired.location.file.display().to_string(),
        live_fingerprint: String::new(),
        digest: None,
        actions,
        unmanaged,
        warnings,
        refusals: drift_refusals,
        safety: desired.safety,
        token_env: desired.token_env.clone(),
        notes,
    };
    if let Some(mass) = mass_delete(&plan, active.len()) {
        plan.refusals.push(format!(
            "{mass}; apply refuses it without --allow-mass-delete"
        ));
    }
    seal(&mut plan, live);
    Ok((plan, entry_ids))
}

/// The account's plan while it is being made.
struct Planner<'d, 'a> {
    desired: &'d DesiredAccount,
    /// What protected entries guard: no other entry, and no prune, may destroy it.
    guard: Guard<'a>,
    actions: Vec<Action>,
    warnings: Vec<String>,
    /// Verbose-only remarks (unknown fields).
    notes: Vec<String>,
    /// What apply refuses (protect, no room at the cap): errors for a plan, warnings for drift.
    refusals: Vec<Diagnostic>,
}

impl<'a> Planner<'_, 'a> {
    /// Each entry's action(s), in manifest order: the old half of an interrupted replacement it
    /// finishes and the duplicates of its conversion, then its own delete, create, update or
    /// replacement.
    fn plan_entries(
        &mut self,
        matched: &[Option<&LiveConversion>],
        leftovers: &HashMap<usize, &LiveConversion>,
        duplicates: &HashMap<usize, Vec<&LiveConversion>>,
    ) {
        let desired = self.desired;
        for (i, entry) in desired.conversions.iter().enumerate() {
            if let Some(old) = leftovers.get(&i) {
                self.guarded(Some(i), old, "delete");
                self.finish_replacement(entry, old);
            }
            for copy in duplicates.get(&i).into_iter().flatten() {
                self.guarded(Some(i), copy, "delete");
                self.delete_duplicate(entry, copy);
            }
            match (entry.ensure, matched[i]) {
                (Ensure::Absent, None) => {}
                (Ensure::Absent, Some(live)) => {
                    self.guarded(Some(i), live, "delete");
                    self.tombstone(entry, live);
                }
                (Ensure::Present, None) => self.actions.push(Action::Create {
                    name: entry.name.clone(),
                    set: set_of(entry),
                    set_entry: set_entry_of(entry),
                    after: desired_state(entry),
                }),
                (Ensure::Present, Some(live)) => self.change(i, live),
            }
        }
    }

    /// A refusal when `actor` (an entry, or prune) would `verb` a conversion another entry
    /// protects.
    fn guarded(&mut self, actor: Option<usize>, live: &LiveConversion, verb: &str) {
        if let Some(refusal) = self.guard.refusal(self.desired, actor, live, verb) {
            self.refusals.push(refusal);
        }
    }

    fn finish_replacement(&mut self, entry: &DesiredConversion, old: &LiveConversion) {
        if entry.protect {
            self.refusals.push(protect_error(
                entry,
                "delete the old half of its interrupted replacement",
            ));
        }
        self.actions.push(Action::Delete {
            id: old.id.clone(),
            // A pinned old half may have come back without a name: the entry's is shown.
            name: old.name.clone().unwrap_or_else(|| entry.name.clone()),
            set: set_of(entry),
            set_entry: set_entry_of(entry),
            reason: DeleteReason::Replaced,
            before: Some(Box::new(ConversionState::from_live(old))),
        });
    }

    /// An extra copy of the entry's conversion (same name, same immutable fields): deleted,
    /// the oldest being kept. `protect` blocks it like any delete.
    fn delete_duplicate(&mut self, entry: &DesiredConversion, copy: &LiveConversion) {
        if entry.protect {
            self.refusals.push(protect_error(
                entry,
                &format!("delete its duplicate {}", copy.id),
            ));
        }
        self.actions.push(Action::Delete {
            id: copy.id.clone(),
            name: entry.name.clone(),
            set: set_of(entry),
            set_entry: set_entry_of(entry),
            reason: DeleteReason::Duplicate,
            before: Some(Box::new(ConversionState::from_live(copy))),
        });
    }

    fn tombstone(&mut self, entry: &DesiredConversion, live: &LiveConversion) {
        if entry.protect {
            self.refusals
                .push(protect_error(entry, "delete it (ensure: absent)"));
        }
        self.actions.push(Action::Delete {
            id: live.id.clone(),
            // Matched by name, or by its pin (then perhaps without a reported name).
            name: live.name.clone().unwrap_or_else(|| entry.name.clone()),
            set: set_of(entry),
            set_entry: set_entry_of(entry),
            reason: DeleteReason::Absent,
            before: Some(Box::new(ConversionState::from_live(live))),
        });
    }

    /// A present entry matched to a live conversion: nothing, an update or a replacement.
    fn change(&mut self, i: usize, live: &LiveConversion) {
        let entry = &self.desired.conversions[i];
        let cmp = diff_fields(entry, live);
        if !cmp.unknown.is_empty() {
            let fields: Vec<&str> = cmp.unknown.iter().map(|f| f.as_str()).collect();
            self.notes.push(format!(
                "{} ({}): the API did not report {}; unknown fields are not compared",
                quoted(&entry.name),
                live.id,
                fields.join(", ")
            ));
        }
        if !cmp.forced_by.is_empty() {
            self.guarded(Some(i), live, "replace");
            if entry.protect {
                let fields: Vec<&str> = cmp.forced_by.iter().map(|f| f.as_str()).collect();
                self.refusals.push(protect_error(
                    entry,
                    &format!("replace it ({} changed)", fields.join(", ")),
                ));
            }
            self.actions.push(Action::Replace {
                id: live.id.clone(),
                name: entry.name.clone(),
                set: set_of(entry),
                set_entry: set_entry_of(entry),
                forced_by: cmp.forced_by,
                order: ReplaceOrder::CreateBeforeDelete,
                changes: cmp.changes,
                before: Box::new(ConversionState::from_live(live)),
                after: Box::new(desired_state(entry)),
                pinned_at: entry.id.as_ref().map(|_| entry.location.to_string()),
            });
        } else if !cmp.is_empty() {
            self.actions.push(Action::Update {
                id: live.id.clone(),
                name: entry.name.clone(),
                set: set_of(entry),
                set_entry: set_entry_of(entry),
                changes: cmp.changes,
            });
        }
    }

    /// What no entry declares: deleted with prune, listed as unmanaged otherwise (returned).
    /// One whose name the API did not report is neither: it is never pruned (nothing proves
    /// it is not an entry's), and a warning says so.
    fn plan_undeclared(
        &mut self,
        active: &[&LiveConversion],
        claimed: &HashSet<&ConversionId>,
    ) -> Vec<Unmanaged> {
        let mut unmanaged = Vec::new();
        let mut undeclared: Vec<(&String, &LiveConversion)> = Vec::new();
        for live in active.iter().copied().filter(|c| !claimed.contains(&c.id)) {
            match &live.name {
                Some(name) => undeclared.push((name, live)),
                None => self.warnings.push(format!(
                    "conversion {} of {} came back without a name: convctl does not match it by name, list it as unmanaged or prune it; pin its id on an entry to manage it",
                    live.id, self.desired.account
                )),
            }
        }
        undeclared.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        for (name, live) in undeclared {
            if self.desired.prune {
                self.guarded(None, live, "delete");
                self.actions.push(Action::Delete {
                    id: live.id.clone(),
                    name: name.clone(),
                    set: None,
                    set_entry: None,
                    reason: DeleteReason::Prune,
                    before: Some(Box::new(ConversionState::from_live(live))),
                });
            } else {
                unmanaged.push(Unmanaged {
                    id: live.id.clone(),
                    name: name.clone(),
                });
            }
        }
        unmanaged
    }

    /// Room at the cap: replacements delete first only when they must (see [`order_for_cap`]);
    /// no room even then is a refusal.
    fn make_room(&mut self, listed: usize, archived: usize, cap: usize) {
        let desired = self.desired;
        if let Err(no_room) = order_for_cap(
            &mut self.actions,
            (listed, archived),
            cap,
            &mut self.warnings,
            desired,
        ) {
            self.refusals.push(Diagnostic {
                severity: Severity::Error,
                location: Some(desired.location.clone()),
                message: no_room.to_string(),
                hint: Some(
                    "apply the deletes first (in a separate change), then add the new conversions"
                        .into(),
                ),
            });
        }
    }
}

/// What apply refuses: errors for a plan; for drift (`report_only`), the account's refusals,
/// so that the drift is reported (and marked as what apply refuses) rather than hidden.
fn settle_refusals(
    refusals: Vec<Diagnostic>,
    report_only: bool,
    errors: &mut Vec<Diagnostic>,
) -> Vec<String> {
    if report_only {
        refusals
            .into_iter()
            .map(|d| {
                format!(
                    "{}: {}; apply refuses this until it is resolved",
                    d.location
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    d.message
                )
            })
            .collect()
    } else {
        errors.extend(refusals);
        Vec::new()
    }
}

/// Warnings about what the plan destroys (fired recently) or what is unusable (unavailable).
fn destruction_warnings(
    actions: &[Action],
    active: &[&LiveConversion],
    by_id: &HashMap<&ConversionId, &LiveConversion>,
    now: jiff::Timestamp,
    warnings: &mut Vec<String>,
) {
    for action in actions {
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
                .and_then(|t| fired_recently(t, now))
        {
            warnings.push(format!(
                "{} ({id}) last fired {ago}: {verb} it loses its history; reports and ads optimising for it stay with the old id",
                shown_name(live)
            ));
        }
    }
    for live in active {
        if live.is_unavailable {
            warnings.push(format!(
                "{} ({}) is unavailable: Meta flagged its name as suggesting health or financial status, and it cannot be used in new campaigns",
                shown_name(live),
                live.id
            ));
        }
    }
}

/// A declared name that equals a live conversion's name once both are in NFC without the
/// characters nobody sees (`Cafe\u0301` and `Café`, `Pur\u200bchase` and `Purchase`): the API
/// takes them for different names, a reader cannot tell them apart, so the plan says so.
fn lookalike_warnings(
    desired: &DesiredAccount,
    active: &[&LiveConversion],
    warnings: &mut Vec<String>,
) {
    let mut live_keys: HashMap<String, Vec<&LiveConversion>> = HashMap::new();
    for live in active {
        if let Some(name) = &live.name {
            live_keys
                .entry(names::lookalike_key(name))
                .or_default()
                .push(live);
        }
    }
    for entry in &desired.conversions {
        let Some(alike) = live_keys.get(&names::lookalike_key(&entry.name)) else {
            continue;
        };
        for live in alike {
            let name = live.name.as_deref().unwrap_or_default();
            if names::stored(name) != names::stored(&entry.name) {
                warnings.push(format!(
                    "{} differs from the live {} ({}) only in characters that look alike or cannot be seen: the API takes them for two names; retype the one that is wrong",
                    quoted(&entry.name),
                    quoted(name),
                    live.id
                ));
            }
        }
    }
}

/// A live conversion's name for messages: quoted, or that the API did not report it.
fn shown_name(live: &LiveConversion) -> String {
    live.name
        .as_deref()
        .map_or_else(|| "(name not reported)".to_string(), quoted)
}

/// An account at its cap that has no room for a plan's creates, even with every replacement
/// deleting first.
#[derive(Debug, thiserror::Error)]
#[error(
    "{account} has {listed} of its {cap} custom conversions; this plan creates {creates} and there is room for {room}, because its deletes run after its creates"
)]
struct NoRoom {
    account: AdAccountId,
    listed: usize,
    cap: usize,
    creates: usize,
    room: usize,
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
) -> Result<(), NoRoom> {
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
        return Err(NoRoom {
            account: desired.account.clone(),
            listed,
            cap,
            creates,
            room,
        });
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
                "{} is replaced delete-before-create: {} is at its {cap}-conversion limit; it is missing until the new one is created",
                quoted(name),
                desired.account
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests;

/// The name of the set an entry comes from (plans say it on every action).
fn set_of(entry: &DesiredConversion) -> Option<String> {
    entry.set.as_ref().map(|s| s.name.clone())
}

/// The entry's name as its set writes it (`Lead (${domain})`), for grouping across accounts.
fn set_entry_of(entry: &DesiredConversion) -> Option<String> {
    entry.set.as_ref().map(|s| s.entry.clone())
}
