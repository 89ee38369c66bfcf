//! The digest of a plan: what a reviewer reads before any diff. Each action as one headline
//! that says what changes and why (`~ update "High value purchase": description`, `-/+ replace
//! "Add to cart": rule (forces replacement)`, `- delete "Old campaign" (tombstone)`), the kind
//! in words as well as in its marker (readable without colour), every account's refusals and
//! warnings gathered in one place, and accounts whose changes read the same grouped, so that
//! 400 accounts making the same 100 creates are one list of 100 names, not 400.
//!
//! Shared by the markdown (the comment's named entries) and the text rendering (the grouped
//! plan shown before `apply`'s prompt). It presents; it decides nothing.

use crate::model::ids::AdAccountId;
use crate::plan::{
    AccountPlan, Action, DeleteFirst, DeleteReason, Field, PlanDocument, ReplaceOrder,
};
use std::collections::HashMap;

/// An action's marker and verb: `+ create`, `~ update`, `-/+ replace`, `- delete`.
pub(crate) fn marker_and_verb(action: &Action) -> (&'static str, &'static str) {
    match action {
        Action::Create { .. } => ("+", "create"),
        Action::Update { .. } => ("~", "update"),
        Action::Replace { .. } => ("-/+", "replace"),
        Action::Delete { .. } => ("-", "delete"),
        Action::Retire { .. } => ("~", "retire"),
    }
}

/// What the headline adds after the name: the fields an update changes (`: description`), the
/// fields that force a replacement (`: rule (forces replacement)`, then the other fields it
/// changes, and `; deletes first` at the account's limit), why a delete happens (`(prune)`).
pub(crate) fn detail(action: &Action) -> String {
    match action {
        Action::Create { .. } => String::new(),
        Action::Update { changes, .. } => {
            format!(": {}", fields(changes.iter().map(|c| c.field)))
        }
        Action::Replace {
            forced_by,
            changes,
            order,
            delete_first,
            retire_old,
            ..
        } => {
            let forces = if forced_by.len() == 1 {
                "forces replacement"
            } else {
                "force replacement"
            };
            let mut text = format!(": {} ({forces})", fields(forced_by.iter().copied()));
            let others: Vec<Field> = changes
                .iter()
                .map(|c| c.field)
                .filter(|f| !forced_by.contains(f))
                .collect();
            if !others.is_empty() {
                text.push_str(", ");
                text.push_str(&fields(others.into_iter()));
            }
            match (order, delete_first) {
                (ReplaceOrder::DeleteBeforeCreate, Some(DeleteFirst::SameRule)) => {
                    text.push_str("; deletes first (the new one keeps the rule)");
                }
                (ReplaceOrder::DeleteBeforeCreate, _) => {
                    text.push_str("; deletes first (account at its limit)");
                }
                (ReplaceOrder::CreateBeforeDelete, _) => {}
            }
            if retire_old.is_some() {
                text.push_str("; retires the old one (this app may not delete)");
            }
            text
        }
        Action::Delete {
            reason,
            frees_rule_for,
            ..
        } => match frees_rule_for {
            None => format!(" ({})", reason_word(*reason)),
            Some(_) => format!(" ({}; first: frees its rule)", reason_word(*reason)),
        },
        // The new name is user text: the diff shows it (the headline is convctl's own words).
        Action::Retire { reason, .. } => format!(
            " ({}): renamed [retired ...], not deleted",
            reason_word(*reason)
        ),
    }
}

/// A delete's reason in one word, as the manifest says it.
pub(crate) fn reason_word(reason: DeleteReason) -> &'static str {
    match reason {
        DeleteReason::Absent => "tombstone",
        DeleteReason::Prune => "prune",
        DeleteReason::Duplicate => "duplicate",
        DeleteReason::Replaced => "finishes a replacement",
    }
}

fn fields(fields: impl Iterator<Item = Field>) -> String {
    fields.map(Field::as_str).collect::<Vec<_>>().join(", ")
}

/// Every account's refusals, then every account's warnings, each with its account, in plan
/// order: the attention block under the totals.
pub(crate) struct Attention<'a> {
    pub(crate) refusals: Vec<(&'a AdAccountId, &'a str)>,
    pub(crate) warnings: Vec<(&'a AdAccountId, &'a str)>,
}

impl<'a> Attention<'a> {
    pub(crate) fn of(doc: &'a PlanDocument) -> Attention<'a> {
        let gather = |pick: fn(&AccountPlan) -> &Vec<String>| {
            doc.accounts
                .iter()
                .flat_map(|a| pick(a).iter().map(move |w| (&a.account, w.as_str())))
                .collect()
        };
        Attention {
            refusals: gather(|a| &a.refusals),
            warnings: gather(|a| &a.warnings),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.refusals.is_empty() && self.warnings.is_empty()
    }

    /// How many distinct accounts a list names.
    pub(crate) fn accounts(list: &[(&AdAccountId, &str)]) -> usize {
        let mut seen: Vec<&AdAccountId> = list.iter().map(|(a, _)| *a).collect();
        seen.dedup();
        seen.len()
    }
}

/// Accounts whose own changes read the same (same kinds, names and headlines, same number of
/// unmanaged conversions), and that carry no warning or refusal: one section, one table row.
/// Accounts with warnings always keep their own row, so the row that is marked is the one
/// the warning names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AccountGroups {
    /// Each group's account indexes in plan order; a lone account is a group of one. In order
    /// of each group's first account.
    pub(crate) groups: Vec<Vec<usize>>,
}

impl AccountGroups {
    /// One group per account.
    pub(crate) fn each(accounts: impl Iterator<Item = usize>) -> AccountGroups {
        AccountGroups {
            groups: accounts.map(|a| vec![a]).collect(),
        }
    }

    /// Groups `accounts` (indexes into `doc`) by their headlines; `own(a, i)` says whether
    /// action `i` of account `a` is the account's to show (not shown once in a set group).
    pub(crate) fn by_headlines(
        doc: &PlanDocument,
        accounts: impl Iterator<Item = usize>,
        own: impl Fn(usize, usize) -> bool,
    ) -> AccountGroups {
        let mut index: HashMap<Signature, usize> = HashMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for a in accounts {
            let account = &doc.accounts[a];
            if !account.warnings.is_empty()
                || !account.refusals.is_empty()
                || !account.info.is_empty()
                || !account.retired.is_empty()
            {
                groups.push(vec![a]);
                continue;
            }
            let signature = Signature {
                actions: account
                    .actions
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| own(a, *i))
                    .map(|(_, action)| {
                        (
                            marker_and_verb(action).1,
                            action.name().to_string(),
                            detail(action),
                        )
                    })
                    .collect(),
                unmanaged: account.unmanaged.len(),
            };
            match index.get(&signature) {
                Some(&g) => groups[g].push(a),
                None => {
                    index.insert(signature, groups.len());
                    groups.push(vec![a]);
                }
            }
        }
        AccountGroups { groups }
    }
}

#[derive(PartialEq, Eq, Hash)]
struct Signature {
    actions: Vec<(&'static str, String, String)>,
    unmanaged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::sample;

    #[test]
    fn headlines_say_what_changes_and_why() {
        let doc = sample();
        let lines: Vec<String> = doc.accounts[0]
            .actions
            .iter()
            .map(|a| {
                let (marker, verb) = marker_and_verb(a);
                format!("{marker} {verb} {}{}", a.name(), detail(a))
            })
            .collect();
        assert_eq!(
            lines,
            [
                "+ create High value purchase",
                "~ update Thank you page: description",
                "-/+ replace Checkout: custom_event_type, rule (force replacement)",
                "~ retire Autumn (prune): renamed [retired ...], not deleted",
                "- delete Old spring campaign (tombstone)",
            ]
        );
    }

    #[test]
    fn accounts_that_read_the_same_are_one_group_unless_warned() {
        let mut doc = sample();
        let mut twin = doc.accounts[0].clone();
        twin.account = AdAccountId::parse("act_3").unwrap();
        twin.warnings.clear();
        // Retired conversions and notes are the account's own, like warnings.
        twin.retired.clear();
        twin.info.clear();
        let mut other = twin.clone();
        other.account = AdAccountId::parse("act_4").unwrap();
        doc.accounts.push(twin);
        doc.accounts.push(other);
        let groups = AccountGroups::by_headlines(&doc, 0..doc.accounts.len(), |_, _| true);
        // act_1 has a warning: alone; act_2 (no changes) alone; act_3 and act_4 together.
        assert_eq!(groups.groups, vec![vec![0], vec![1], vec![2, 3]]);
        // A retired conversion to archive is an account's own: it keeps its own row.
        doc.accounts[3].retired = doc.accounts[0].retired.clone();
        let groups = AccountGroups::by_headlines(&doc, 0..doc.accounts.len(), |_, _| true);
        assert_eq!(groups.groups, vec![vec![0], vec![1], vec![2], vec![3]]);
    }
}
