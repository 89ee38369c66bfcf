//! `renamed_from` (docs/manifest.md): an entry whose name no live conversion carries matches
//! the one live conversion with an earlier name, which the plan then renames in place (an
//! update), never a create and a delete that would lose its history. Two live conversions with
//! earlier names are an error naming both ids. (An earlier name that is also declared is
//! refused by the manifest loader.)

use super::error;
use crate::manifest::DesiredAccount;
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use crate::model::names;
use std::collections::HashSet;

/// For each entry not matched yet (no pin, no live conversion of its name) with earlier names:
/// the one unclaimed live conversion carrying one of them.
pub(super) fn match_earlier_names<'a>(
    desired: &DesiredAccount,
    active: &[&'a LiveConversion],
    matched: &mut [Option<&'a LiveConversion>],
    claimed: &mut HashSet<&'a ConversionId>,
    errors: &mut Vec<crate::manifest::Diagnostic>,
) {
    for (i, entry) in desired.conversions.iter().enumerate() {
        if entry.renamed_from.is_empty() || entry.id.is_some() || matched[i].is_some() {
            continue;
        }
        let candidates: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| {
                !claimed.contains(&c.id)
                    && c.name.as_deref().is_some_and(|n| {
                        entry
                            .renamed_from
                            .iter()
                            .any(|old| names::stored(old) == names::stored(n))
                    })
            })
            .collect();
        match candidates.as_slice() {
            [] => {}
            [only] => {
                claimed.insert(&only.id);
                matched[i] = Some(only);
            }
            many => {
                let found: Vec<String> = many
                    .iter()
                    .map(|c| {
                        format!(
                            "{} ({})",
                            names::quoted(c.name.as_deref().unwrap_or_default()),
                            c.id
                        )
                    })
                    .collect();
                errors.push(error(
                    entry,
                    format!(
                        "{} lists earlier names in `renamed_from`, and {} live conversions in {} carry them: {}; convctl cannot tell which one to rename",
                        names::quoted(&entry.name),
                        many.len(),
                        desired.account,
                        found.join(", ")
                    ),
                    format!(
                        "pin the one to keep with `id: \"{}\"` (in a set: `ids:` of the account's `use`), and delete or rename the others",
                        many[0].id
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diff::tests::{entry, live};
    use crate::diff::{DiffOptions, diff_account};
    use crate::manifest::DesiredAccount;
    use crate::model::ids::AdAccountId;
    use crate::plan::{Action, Field};

    const RULE: &str = r#"{"url":{"i_contains":"x"}}"#;

    fn account(conversions: Vec<crate::manifest::DesiredConversion>) -> DesiredAccount {
        DesiredAccount {
            account: AdAccountId::parse("act_1").unwrap(),
            location: entry("x", RULE).location,
            prune: true,
            token_env: None,
            safety: None,
            conversions,
            deletion: Default::default(),
        }
    }

    fn renamed(name: &str, from: &[&str]) -> crate::manifest::DesiredConversion {
        let mut e = entry(name, RULE);
        e.renamed_from = from.iter().map(|s| s.to_string()).collect();
        e
    }

    #[test]
    fn an_earlier_name_is_renamed_in_place() {
        let desired = account(vec![renamed("Lead (shop.example)", &["Lead"])]);
        let plan = diff_account(
            &desired,
            &[live("7", "Lead", RULE)],
            &DiffOptions::default(),
        )
        .unwrap();
        let [Action::Update { id, changes, .. }] = plan.actions.as_slice() else {
            panic!("one update, not a create and a delete: {:?}", plan.actions)
        };
        assert_eq!(id.as_str(), "7");
        assert_eq!(changes[0].field, Field::Name);
        assert_eq!(changes[0].after, "Lead (shop.example)");
    }

    #[test]
    fn the_current_name_wins_over_an_earlier_one() {
        let desired = account(vec![renamed("New", &["Old"])]);
        let plan = diff_account(
            &desired,
            &[live("1", "Old", RULE), live("2", "New", RULE)],
            &DiffOptions::default(),
        )
        .unwrap();
        // "New" is matched by name; "Old" is no entry's: pruned.
        assert!(
            matches!(plan.actions.as_slice(), [Action::Delete { id, .. }] if id.as_str() == "1"),
            "{:?}",
            plan.actions
        );
    }

    #[test]
    fn two_live_conversions_with_earlier_names_are_an_error() {
        let desired = account(vec![renamed("New", &["Old", "Older"])]);
        let errors = diff_account(
            &desired,
            &[live("1", "Old", RULE), live("2", "Older", RULE)],
            &DiffOptions::default(),
        )
        .unwrap_err();
        let text = errors[0].to_string();
        assert!(
            text.contains("\"Old\" (1), \"Older\" (2)") && text.contains("pin the one"),
            "{text}"
        );
    }
}
