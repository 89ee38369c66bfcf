//! One rule per account: Meta refuses to create a conversion whose rule an account already
//! holds (code 100, subcode 1760002), also after the holder was renamed, and (the less
//! convenient reading) after it was archived (reference: Custom conversions).
//!
//! For every conversion the plan creates (a create, the new half of a replacement), the live
//! conversions holding the same rule, by meaning, are found, and the plan is made to work or
//! refused before any write:
//! - a holder this plan deletes (the old half of a replacement, a tombstone, a prune, a
//!   duplicate) is deleted *before* the creates, and the plan says so: if the create then
//!   fails, the old one is already gone;
//! - a holder nothing convctl may do removes (archived, retired, flagged, another entry's, not
//!   declared, or only retired because this app may not delete) makes the entry an error
//!   saying what to do. A replacement that keeps its rule where deletes are refused is such an
//!   error: the old one must go first, and this app cannot delete it.
//!
//! Where the holder counts another event source than the entry declares, Meta may accept it:
//! a warning, not an error.

use super::removal::Removal;
use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, RuleSpec};
use crate::model::LiveConversion;
use crate::model::names::quoted;
use crate::plan::{Action, DeleteFirst, ReplaceOrder};
use crate::rule::{advanced_key, stored_rule_key};

/// How to get out of a replacement that keeps its rule where deletes are refused.
const KEEPS_RULE_HINT: &str = "keep the changed fields (custom_event_type, action_source_type, event_source_id) as they are live, or change the rule too: a replacement with a new rule creates the new conversion, then retires the old one";

/// What the rule check needs of the plan being made.
pub(super) struct RuleCheck<'p, 'a> {
    pub(super) desired: &'p DesiredAccount,
    pub(super) live: &'a [LiveConversion],
    /// Per entry, the live conversion it matched.
    pub(super) matched: &'p [Option<&'a LiveConversion>],
    pub(super) removal: &'p Removal,
    /// (action index, entry index) of every action that creates a conversion.
    pub(super) creates: &'p [(usize, usize)],
}

/// What the check found.
#[derive(Default)]
pub(super) struct RuleFindings {
    pub(super) warnings: Vec<String>,
    /// Errors for a plan (warnings for drift), like protect's.
    pub(super) refusals: Vec<Diagnostic>,
}

/// The key of an entry's rule (see `rule::stored_rule_key`).
fn desired_key(entry: &DesiredConversion) -> Option<String> {
    match entry.rule.as_ref()? {
        RuleSpec::Rule(rule) => Some(rule.meaning_key()),
        RuleSpec::Advanced(value) => Some(advanced_key(value)),
    }
}

/// Runs the check (see the module doc), reordering the plan's deletes that free a rule.
pub(super) fn check(ctx: RuleCheck<'_, '_>, actions: &mut [Action]) -> RuleFindings {
    let mut found = RuleFindings::default();
    let keys: Vec<Option<String>> = ctx
        .live
        .iter()
        .map(|c| stored_rule_key(c.rule.as_deref(), c.advanced_rule.as_deref()))
        .collect();
    for &(a, e) in ctx.creates {
        let entry = &ctx.desired.conversions[e];
        let Some(key) = desired_key(entry) else {
            continue;
        };
        for (holder, _) in ctx
            .live
            .iter()
            .zip(&keys)
            .filter(|(_, k)| k.as_deref() == Some(key.as_str()))
        {
            match fate(&ctx, actions, a, holder) {
                Fate::DeletedFirst(j) => {
                    let warning = delete_first(&mut actions[j], entry, holder);
                    found.warnings.push(warning);
                }
                Fate::Stays(why) => found.stays(&ctx, entry, holder, &why, None),
                Fate::KeepsRuleButMayNotDelete => {
                    let why = format!(
                        "is its own old half: that one must go first, and this app may not delete it ({})",
                        ctx.removal.why_refused()
                    );
                    found.stays(&ctx, entry, holder, &why, Some(KEEPS_RULE_HINT));
                }
            }
        }
    }
    found
}

/// What the plan does to a conversion that holds a rule the plan creates (action `a`).
enum Fate {
    /// Action `j` deletes it: made to run before the creates.
    DeletedFirst(usize),
    /// It stays, for this reason.
    Stays(String),
    /// It is the old half of the replacement `a` itself, and deletes are refused.
    KeepsRuleButMayNotDelete,
}

fn fate(ctx: &RuleCheck<'_, '_>, actions: &[Action], a: usize, holder: &LiveConversion) -> Fate {
    let acting = actions
        .iter()
        .position(|action| action.id() == Some(&holder.id));
    match acting.map(|j| (j, &actions[j])) {
        Some((j, Action::Replace { retire_old, .. })) if j == a => match retire_old {
            None => Fate::DeletedFirst(j),
            Some(_) => Fate::KeepsRuleButMayNotDelete,
        },
        Some((
            j,
            Action::Replace {
                retire_old: None, ..
            }
            | Action::Delete { .. },
        )) => Fate::DeletedFirst(j),
        Some((_, Action::Replace { name, .. })) => Fate::Stays(format!(
            "is the old half of {}'s replacement, which this plan retires rather than deletes ({})",
            quoted(name),
            ctx.removal.why_refused()
        )),
        Some((_, Action::Retire { .. })) => Fate::Stays(format!(
            "this plan retires rather than deletes ({}), and a retired conversion keeps its rule",
            ctx.removal.why_refused()
        )),
        Some((_, Action::Update { name, .. })) => {
            Fate::Stays(format!("is {}'s, which this plan keeps", quoted(name)))
        }
        Some((_, Action::Create { .. })) | None => Fate::Stays(why_it_stays(ctx, holder)),
    }
}

/// Why a conversion no action of the plan touches keeps its rule.
fn why_it_stays(ctx: &RuleCheck<'_, '_>, holder: &LiveConversion) -> String {
    if holder.is_archived {
        return "is archived (Meta keeps archived conversions listed, and their rules held)"
            .to_string();
    }
    if let Some(on) = holder.retired_on() {
        return format!(
            "was retired by convctl on {on} and waits to be archived in Events Manager (a retired conversion keeps its rule)"
        );
    }
    if holder.is_unavailable {
        return "is flagged by Meta, and convctl can neither delete nor rename it here".to_string();
    }
    let owner = ctx
        .matched
        .iter()
        .position(|m| m.is_some_and(|c| c.id == holder.id));
    match owner {
        Some(i) => format!(
            "is {}'s (declared at {}), which this plan keeps",
            quoted(&ctx.desired.conversions[i].name),
            ctx.desired.conversions[i].place()
        ),
        None => "is not declared in the manifest, so convctl leaves it (with `prune: true` it would be deleted first)".to_string(),
    }
}

/// Makes action `j` (which deletes `holder`) run before the creates; the warning saying so.
fn delete_first(action: &mut Action, entry: &DesiredConversion, holder: &LiveConversion) -> String {
    let risk = "if that create then fails, the old one is already gone: run apply again to create it (or restore the old one by hand)";
    match action {
        Action::Replace {
            order,
            delete_first,
            name,
            ..
        } => {
            *order = ReplaceOrder::DeleteBeforeCreate;
            *delete_first = Some(DeleteFirst::SameRule);
            if *name == entry.name {
                format!(
                    "{} is replaced delete-before-create: the new one keeps the rule of the old one ({}), and Meta refuses a second conversion with a rule the account holds; {risk}",
                    quoted(name),
                    holder.id
                )
            } else {
                format!(
                    "the old half of {}'s replacement ({}) is deleted before {} is created: it holds that rule, and Meta refuses a second conversion with a rule the account holds; {risk}",
                    quoted(name),
                    holder.id,
                    quoted(&entry.name)
                )
            }
        }
        Action::Delete {
            name,
            frees_rule_for,
            ..
        } => {
            *frees_rule_for = Some(entry.name.clone());
            format!(
                "{} ({}) is deleted before {} is created: it holds that rule, and Meta refuses a second conversion with a rule the account holds; {risk}",
                quoted(name),
                holder.id,
                quoted(&entry.name)
            )
        }
        _ => unreachable!("only replacements and deletes are made to delete first"),
    }
}

impl RuleFindings {
    /// `holder` keeps the rule `entry` would create: an error, or a warning where the two
    /// count different event sources.
    fn stays(
        &mut self,
        ctx: &RuleCheck<'_, '_>,
        entry: &DesiredConversion,
        holder: &LiveConversion,
        why: &str,
        hint: Option<&str>,
    ) {
        let holder_text = format!("{} ({})", super::shown_name(holder), holder.id);
        let sources = (
            entry.event_source_id.as_ref().map(|s| s.as_str()),
            holder.event_source_id.as_deref(),
        );
        if let (Some(want), Some(have)) = sources
            && want != have
        {
            self.warnings.push(format!(
                "{}: {} has the rule of {holder_text}, which {why}; they count different event sources ({want} and {have}), which Meta may accept, but it may also refuse the create (code 100, subcode 1760002)",
                entry.location,
                quoted(&entry.name)
            ));
            return;
        }
        self.refusals.push(super::error(
            entry,
            format!(
                "{} would be created with the rule of {holder_text} in {}, which {why}: Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002)",
                quoted(&entry.name),
                ctx.desired.account
            ),
            hint.map_or_else(
                || format!(
                    "change this entry's rule, or remove {holder_text} in Events Manager (if Meta keeps holding an archived conversion's rule, only a new rule works)"
                ),
                str::to_string,
            ),
        ));
    }
}
