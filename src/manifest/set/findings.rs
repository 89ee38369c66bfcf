//! Findings inside a set's entries, merged across the accounts that use the set: a finding
//! that is the same (place, message) in many accounts is reported once, naming them.

use crate::manifest::desired::{Diagnostic, Location};
use std::collections::HashMap;

/// A finding of a set's expansion, before findings that are the same in several accounts are
/// merged into one (see [`merge_findings`]).
#[derive(Debug, Clone)]
pub(crate) struct SetFinding {
    pub(crate) diag: Diagnostic,
    pub(crate) set: String,
    /// `act_1 at a.yaml:7:5`.
    pub(crate) user: String,
}

/// What makes two findings the same: place, message, hint and set.
type FindingKey = (Option<Location>, String, Option<String>, String);

/// Findings of set expansions that are the same (place, message) in several accounts become
/// one, naming the accounts; each names its set and the `use` that hit it.
pub(crate) fn merge_findings(findings: Vec<SetFinding>, diags: &mut Vec<Diagnostic>) {
    let mut order: Vec<(Diagnostic, String)> = Vec::new();
    let mut users: HashMap<FindingKey, (usize, Vec<String>)> = HashMap::new();
    for f in findings {
        let key = (
            f.diag.location.clone(),
            f.diag.message.clone(),
            f.diag.hint.clone(),
            f.set.clone(),
        );
        match users.get_mut(&key) {
            Some((_, list)) => list.push(f.user),
            None => {
                users.insert(key, (order.len(), vec![f.user]));
                order.push((f.diag, f.set));
            }
        }
    }
    let mut by_index: Vec<Vec<String>> = vec![Vec::new(); order.len()];
    for (_, (i, list)) in users {
        by_index[i] = list;
    }
    for ((mut d, set), list) in order.into_iter().zip(by_index) {
        let who = match list.as_slice() {
            [one] => format!("used by {one}"),
            many => {
                let shown: Vec<&str> = many.iter().take(3).map(String::as_str).collect();
                let more = many.len().saturating_sub(3);
                format!(
                    "used by {} accounts: {}{}",
                    many.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        };
        d.message = format!("{} (set {set}, {who})", d.message);
        diags.push(d);
    }
}
