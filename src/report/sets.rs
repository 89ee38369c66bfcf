//! The per-set view: for each set, the accounts that use it and lack one of its entries (live
//! or in their manifest) or differ from it.

use crate::model::ids::AdAccountId;
use serde::Serialize;
use std::collections::BTreeMap;

/// One account's use of sets: per entry of a set it takes, `(set, entry as the set names it,
/// what plan would do: None in line, "missing", "update", "replace", "delete")`.
#[derive(Clone, Debug, PartialEq)]
pub struct SetUse {
    pub account: AdAccountId,
    pub entries: Vec<(String, String, Option<String>)>,
}

/// One set across the accounts that use it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetView {
    pub set: String,
    /// Its entries, as the set names them (in the order first met).
    pub entries: Vec<String>,
    /// Accounts that use it.
    pub uses: usize,
    /// Of which every entry is live and as the set says.
    pub in_line: usize,
    /// The others, with what is off.
    pub accounts: Vec<SetAccount>,
}

/// An account that is not in line with a set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetAccount {
    pub account: AdAccountId,
    /// Entries not live (plan would create them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Entries live but different (plan would update, replace or delete them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs: Vec<SetDifference>,
    /// Entries the account leaves out (`exclude:`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetDifference {
    pub entry: String,
    pub action: String,
}

/// An account and, per entry of one set it takes, what plan would do.
type AccountEntries = (AdAccountId, Vec<(String, Option<String>)>);

/// Every set's view, by set name.
pub(crate) fn set_views(uses: Vec<SetUse>) -> Vec<SetView> {
    let mut sets: BTreeMap<String, (Vec<String>, Vec<AccountEntries>)> = BTreeMap::new();
    for SetUse { account, entries } in uses {
        let mut by_set: BTreeMap<String, Vec<(String, Option<String>)>> = BTreeMap::new();
        for (set, entry, status) in entries {
            let (names, _) = sets.entry(set.clone()).or_default();
            if !names.contains(&entry) {
                names.push(entry.clone());
            }
            by_set.entry(set).or_default().push((entry, status));
        }
        for (set, entries) in by_set {
            sets.entry(set)
                .or_default()
                .1
                .push((account.clone(), entries));
        }
    }
    sets.into_iter()
        .map(|(set, (names, accounts))| {
            let uses = accounts.len();
            let mut off = Vec::new();
            for (account, entries) in accounts {
                let mut a = SetAccount {
                    account,
                    missing: Vec::new(),
                    differs: Vec::new(),
                    excluded: names
                        .iter()
                        .filter(|n| !entries.iter().any(|(e, _)| e == *n))
                        .cloned()
                        .collect(),
                };
                for (entry, status) in entries {
                    match status.as_deref() {
                        None => {}
                        Some("missing") => a.missing.push(entry),
                        Some(action) => a.differs.push(SetDifference {
                            entry,
                            action: action.to_string(),
                        }),
                    }
                }
                if !(a.missing.is_empty() && a.differs.is_empty() && a.excluded.is_empty()) {
                    off.push(a);
                }
            }
            off.sort_by(|a, b| {
                (b.missing.len() + b.differs.len(), &a.account)
                    .cmp(&(a.missing.len() + a.differs.len(), &b.account))
            });
            SetView {
                set,
                entries: names,
                uses,
                in_line: uses - off.len(),
                accounts: off,
            }
        })
        .collect()
}
