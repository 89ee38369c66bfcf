//! The diff engine: one declared account × its live conversions → the account's plan
//! (docs/reconcile.md).
//!
//! Owns identity (pinned ids, names, duplicate-name errors, recovering a half-finished
//! replacement, a replaced pinned conversion), the choice between update and replacement,
//! tombstones, prune, the unmanaged list, how conversions go (deleted, or retired where this
//! app may not delete: [`removal`]), one rule per account ([`rules`]), ordering at the account
//! cap and the safety rules (`protect`, last-fired and flagged warnings, the mass-delete
//! warning). It is pure: no I/O, the clock is passed in, so every rule is unit-tested here.
//!
//! Conversions convctl retired (`[retired YYYY-MM-DD] ...`) are its own leftovers: never
//! matched, updated, pruned or deleted again, listed for a person to archive, and counted
//! toward the cap. Archived ones are no longer tracked by Meta and never edited (Meta refuses):
//! where one holds a declared name or rule, the plan says so. A flagged one (`is_unavailable`)
//! gets no update and no replacement (Meta refuses every edit), only a warning on its entry.

mod fields;
mod identity;
mod pins;
mod protect;
mod removal;
mod renames;
mod rules;
mod safety;
mod twins;

pub(crate) use fields::{desired_state, diff_fields};
pub use safety::{MassDelete, fired_recently, mass_delete};

use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure, Severity};
use crate::model::LiveConversion;
use crate::model::ids::{AdAccountId, ConversionId};
use crate::model::names::{self, quoted};
use crate::plan::{
    AccountPlan, Action, ConversionState, DeleteFirst, DeleteReason, ReplaceOrder, Unmanaged,
    flagged_warning, seal,
};
use identity::Matching;
use protect::{Guard, protect_error};
use removal::{Removal, Target};
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
/// would destroy, a rule Meta would refuse to create twice, no room at the cap) name the
/// entry's file:line:col and how to fix them.
///
/// The steps, in order: match entries to live conversions ([`identity`]), plan each entry's
/// action in manifest order, then what no entry declares (prune or unmanaged), settle rules the
/// account would hold twice ([`rules`]), order the replacements for the cap, settle what apply
/// would refuse (errors, or warnings for drift), and warn about what the plan destroys.
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
    // Archived conversions are gone as far as convctl is concerned (reference: Custom
    // conversions); retired ones are convctl's own leftovers, for Events Manager.
    let active: Vec<&LiveConversion> = live
        .iter()
        .filter(|c| !c.is_archived && c.retired_on().is_none())
        .collect();
    // Pins reach retired ones too: a tombstone may pin one to delete it.
    let by_id: HashMap<&ConversionId, &LiveConversion> = live
        .iter()
        .filter(|c| !c.is_archived)
        .map(|c| (&c.id, c))
        .collect();
    let removal = Removal::of(desired, live, opts.now);

    let Matching {
        matched,
        leftovers,
        duplicates,
        claimed,
        warnings,
        mut errors,
    } = identity::match_entries(desired, &active, &by_id, live);
    let entry_ids: Vec<Option<ConversionId>> =
        matched.iter().map(|m| m.map(|c| c.id.clone())).collect();
    let mut planner = Planner {
        desired,
        guard: Guard::new(desired, &active, &matched),
        removal: &removal,
        actions: Vec::new(),
        warnings,
        notes: Vec::new(),
        refusals: Vec::new(),
        creates: Vec::new(),
        flagged_warned: HashSet::new(),
    };
    planner.plan_entries(&matched, &leftovers, &duplicates);
    let unmanaged = planner.plan_undeclared(&active, &claimed);
    planner.settle_rules(live, &matched);
    planner.make_room(
        live.len(),
        live.iter().filter(|c| c.is_archived).count(),
        opts.cap,
    );
    let Planner {
        mut actions,
        mut warnings,
        notes,
        refusals,
        flagged_warned,
        ..
    } = planner;
    let drift_refusals = settle_refusals(refusals, opts.report_only, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    destruction_warnings(&actions, &by_id, opts.now, &mut warnings);
    lookalike_warnings(desired, &active, &mut warnings);
    flagged_warnings(&active, &flagged_warned, &mut warnings);
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
        retired: retired_list(live),
        warnings,
        refusals: drift_refusals,
        info: information(desired, live, &removal),
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

/// The conversions convctl retired that are still listed (not archived yet), by name.
fn retired_list(live: &[LiveConversion]) -> Vec<Unmanaged> {
    let mut retired: Vec<Unmanaged> = live
        .iter()
        .filter(|c| !c.is_archived && c.retired_on().is_some())
        .map(|c| Unmanaged {
            id: c.id.clone(),
            name: c.name.clone().unwrap_or_default(),
        })
        .collect();
    retired.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    retired
}

/// What the user should know: that deletes are refused here (and how convctl knows), and each
/// archived conversion that holds a declared name or rule (Meta keeps it listed and frozen).
fn information(
    desired: &DesiredAccount,
    live: &[LiveConversion],
    removal: &Removal,
) -> Vec<String> {
    let mut info = Vec::new();
    match removal.retire {
        Some(crate::plan::RetireWhy::Setting) => info.push(format!(
            "{} retires instead of deleting (deletion: retire): each conversion it removes is renamed \"[retired YYYY-MM-DD] ...\" for you to archive in Events Manager",
            desired.account
        )),
        Some(crate::plan::RetireWhy::Refused) => info.push(format!(
            "{}: {}, so this plan retires instead of deleting: each conversion it removes is renamed \"[retired YYYY-MM-DD] ...\" for you to archive in Events Manager",
            desired.account,
            removal.why_refused()
        )),
        None => {}
    }
    for archived in live.iter().filter(|c| c.is_archived) {
        let key = crate::rule::stored_rule_key(
            archived.rule.as_deref(),
            archived.advanced_rule.as_deref(),
        );
        for entry in desired
            .conversions
            .iter()
            .filter(|e| e.ensure == Ensure::Present)
        {
            let same_name = archived.name.as_deref() == Some(entry.name.as_str());
            let same_rule = key.is_some() && key == rules_key_of(entry);
            let what = match (same_name, same_rule) {
                (true, true) => "the name and the rule",
                (true, false) => "the name",
                (false, true) => "the rule",
                (false, false) => continue,
            };
            info.push(format!(
                "{} ({}) is archived: Meta keeps it listed and frozen (convctl never edits it); it holds {what} of {} ({})",
                shown_name(archived),
                archived.id,
                quoted(&entry.name),
                entry.place()
            ));
        }
    }
    info
}

/// An entry's rule key (see `rule::stored_rule_key`).
fn rules_key_of(entry: &DesiredConversion) -> Option<String> {
    match entry.rule.as_ref()? {
        crate::manifest::RuleSpec::Rule(rule) => Some(rule.meaning_key()),
        crate::manifest::RuleSpec::Advanced(value) => Some(crate::rule::advanced_key(value)),
    }
}

/// The account's plan while it is being made.
struct Planner<'d, 'a> {
    desired: &'d DesiredAccount,
    /// What protected entries guard: no other entry, and no prune, may destroy it.
    guard: Guard<'a>,
    removal: &'d Removal,
    actions: Vec<Action>,
    warnings: Vec<String>,
    /// Verbose-only remarks (unknown fields).
    notes: Vec<String>,
    /// What apply refuses (protect, no room at the cap, a rule held twice): errors for a plan,
    /// warnings for drift.
    refusals: Vec<Diagnostic>,
    /// (action index, entry index) of every action that creates a conversion.
    creates: Vec<(usize, usize)>,
    /// Flagged conversions already warned about on their entry.
    flagged_warned: HashSet<ConversionId>,
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
                (Ensure::Present, None) => {
                    self.creates.push((self.actions.len(), i));
                    self.actions.push(Action::Create {
                        name: entry.name.clone(),
                        set: set_of(entry),
                        set_entry: set_entry_of(entry),
                        after: desired_state(entry),
                    });
                }
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

    /// Removes `live` for `entry` (deleted or retired, see [`removal`]); `what` says what
    /// for the warning when it cannot be removed.
    fn remove(
        &mut self,
        entry: &DesiredConversion,
        live: &LiveConversion,
        reason: DeleteReason,
        what: &str,
    ) {
        let target = Target {
            live,
            // A pinned conversion may have come back without a name: the entry's is shown.
            name: live.name.clone().unwrap_or_else(|| entry.name.clone()),
            reason,
            set: set_of(entry),
            set_entry: set_entry_of(entry),
        };
        match self.removal.action(target) {
            Some(action) => self.actions.push(action),
            None => self.warnings.push(self.removal.cannot_remove(live, what)),
        }
    }

    fn finish_replacement(&mut self, entry: &DesiredConversion, old: &LiveConversion) {
        if entry.protect {
            self.refusals.push(protect_error(
                entry,
                "delete the old half of its interrupted replacement",
            ));
        }
        self.remove(
            entry,
            old,
            DeleteReason::Replaced,
            "finish the interrupted replacement",
        );
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
        let target = Target {
            live: copy,
            name: entry.name.clone(),
            reason: DeleteReason::Duplicate,
            set: set_of(entry),
            set_entry: set_entry_of(entry),
        };
        match self.removal.action(target) {
            Some(action) => self.actions.push(action),
            None => self
                .warnings
                .push(self.removal.cannot_remove(copy, "remove this duplicate")),
        }
    }

    fn tombstone(&mut self, entry: &DesiredConversion, live: &LiveConversion) {
        if entry.protect {
            self.refusals
                .push(protect_error(entry, "delete it (ensure: absent)"));
        }
        if live.retired_on().is_some() && self.removal.deletes_refused() {
            // Retired already, and this app may not delete: nothing more to send.
            return;
        }
        self.remove(
            entry,
            live,
            DeleteReason::Absent,
            "remove it (ensure: absent)",
        );
    }

    /// A present entry matched to a live conversion: nothing, an update or a replacement (none
    /// for a flagged one: Meta refuses every edit).
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
        if live.is_unavailable {
            self.flagged_warned.insert(live.id.clone());
            let unsent = match cmp.changes.as_slice() {
                [] => String::new(),
                changes => {
                    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
                    format!(
                        "; convctl sends it no change (its {} {} from the manifest): to count these events again, declare a new conversion with another name and rule",
                        and_list(&fields),
                        if fields.len() == 1 {
                            "differs"
                        } else {
                            "differ"
                        }
                    )
                }
            };
            self.warnings.push(format!(
                "{}: {}{unsent}",
                entry.location,
                flagged_warning(&quoted(&entry.name), &live.id)
            ));
            return;
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
            self.creates.push((self.actions.len(), i));
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
                delete_first: None,
                retire_old: self.removal.retire_old(live),
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
    /// it is not an entry's), and a warning says so. A flagged one that cannot be removed
    /// stays listed as unmanaged.
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
            }
            let pruned = self.desired.prune
                && match self.removal.action(Target {
                    live,
                    name: name.clone(),
                    reason: DeleteReason::Prune,
                    set: None,
                    set_entry: None,
                }) {
                    Some(action) => {
                        self.actions.push(action);
                        true
                    }
                    None => {
                        self.warnings
                            .push(self.removal.cannot_remove(live, "prune it"));
                        false
                    }
                };
            if !pruned {
                unmanaged.push(Unmanaged {
                    id: live.id.clone(),
                    name: name.clone(),
                });
            }
        }
        unmanaged
    }

    /// One rule per account (see [`rules`]): deletes that free a rule a create needs run
    /// first; a rule nothing convctl may do frees is a refusal.
    fn settle_rules<'l>(
        &mut self,
        live: &'l [LiveConversion],
        matched: &[Option<&'l LiveConversion>],
    ) {
        let found = rules::check(
            rules::RuleCheck {
                desired: self.desired,
                live,
                matched,
                removal: self.removal,
                creates: &self.creates,
            },
            &mut self.actions,
        );
        self.warnings.extend(found.warnings);
        self.refusals.extend(found.refusals);
    }

    /// Room at the cap: replacements delete first only when they must (see [`order_for_cap`]);
    /// no room even then is a refusal.
    fn make_room(&mut self, listed: usize, archived: usize, cap: usize) {
        let desired = self.desired;
        let can_delete = (!self.removal.deletes_refused()).then_some(());
        if let Err(no_room) = order_for_cap(
            &mut self.actions,
            (listed, archived),
            cap,
            &mut self.warnings,
            desired,
            can_delete.is_some(),
        ) {
            let hint = if self.removal.deletes_refused() {
                format!(
                    "retiring makes no room ({}): make room in Events Manager (deleting there archives; if archived conversions still count toward the limit, Meta support is the only way), or declare fewer conversions",
                    self.removal.why_refused()
                )
            } else {
                "apply the deletes first (in a separate change), then add the new conversions"
                    .to_string()
            };
            self.refusals.push(Diagnostic {
                severity: Severity::Error,
                location: Some(desired.location.clone()),
                message: no_room.to_string(),
                hint: Some(hint),
            });
        }
    }
}

/// A warning for each flagged conversion not already warned about on its entry.
fn flagged_warnings(
    active: &[&LiveConversion],
    warned: &HashSet<ConversionId>,
    warnings: &mut Vec<String>,
) {
    for live in active {
        if live.is_unavailable && !warned.contains(&live.id) {
            warnings.push(flagged_warning(&shown_name(live), &live.id));
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

/// Warnings about what the plan destroys (fired recently).
fn destruction_warnings(
    actions: &[Action],
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
                Action::Retire { .. } => "retiring",
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
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => only.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
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
/// deleting first (or where this app may not delete, so nothing makes room).
#[derive(Debug, thiserror::Error)]
#[error(
    "{account} has {listed} of its {cap} custom conversions; this plan creates {creates} and there is room for {room}, {}",
    if *retiring { "and this app may not delete here: retiring a conversion frees no place" } else { "because its deletes run after its creates" }
)]
struct NoRoom {
    account: AdAccountId,
    listed: usize,
    cap: usize,
    creates: usize,
    room: usize,
    retiring: bool,
}

/// Apply creates (new conversions and the new halves of replacements) before it deletes. At the
/// cap there may be no room: then as many replacements as needed delete first (the plan says
/// so); deletes already running first (to free a rule) make room too. If even that is not
/// enough, or this app may not delete (`can_delete` false: retiring frees no place), the plan
/// fails.
fn order_for_cap(
    actions: &mut [Action],
    (listed, archived): (usize, usize),
    cap: usize,
    warnings: &mut Vec<String>,
    desired: &DesiredAccount,
    can_delete: bool,
) -> Result<(), NoRoom> {
    let count = |f: fn(&Action) -> bool| actions.iter().filter(|a| f(a)).count();
    let creates = count(|a| matches!(a, Action::Create { .. }));
    let replaces = count(|a| matches!(a, Action::Replace { .. }));
    let first = count(Action::runs_before_creates);
    let switchable = count(|a| {
        matches!(
            a,
            Action::Replace {
                order: ReplaceOrder::CreateBeforeDelete,
                retire_old: None,
                ..
            }
        )
    });
    let room = cap.saturating_sub(listed);
    let needed = creates + replaces;
    if needed <= room {
        return Ok(());
    }
    let no_room = |retiring| NoRoom {
        account: desired.account.clone(),
        listed,
        cap,
        creates,
        room,
        retiring,
    };
    if !can_delete {
        return Err(no_room(true));
    }
    let must_delete_first = needed.saturating_sub(room + first);
    if must_delete_first > switchable {
        return Err(no_room(false));
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
        if let Action::Replace {
            order: order @ ReplaceOrder::CreateBeforeDelete,
            retire_old: None,
            delete_first,
            name,
            ..
        } = action
        {
            *order = ReplaceOrder::DeleteBeforeCreate;
            *delete_first = Some(DeleteFirst::Cap);
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
