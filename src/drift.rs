//! Comparing manifests with live state, read-only: the half of reconciling that `plan`,
//! `apply` and `drift` share. Lists every selected account (in parallel, through the client)
//! and diffs each; `drift` is this comparison reported as drift (exit 2 when anything
//! differs). It never writes to the API.

use crate::diff::{DiffOptions, diff_account};
use crate::exit;
use crate::graph::LiveConversion;
use crate::manifest::DesiredAccount;
use crate::plan::PlanDocument;
use crate::session::LiveApi;

/// The plan of the selected accounts, with the live conversions it was made from (in the same
/// order as `doc.accounts`).
#[derive(Debug)]
pub struct Comparison {
    pub doc: PlanDocument,
    pub live: Vec<Vec<LiveConversion>>,
}

impl Comparison {
    /// Non-archived live conversions of account `i` (what the mass-delete guard counts).
    pub fn active_count(&self, i: usize) -> usize {
        self.live[i].iter().filter(|c| !c.is_archived).count()
    }
}

/// Lists and diffs every account; every failure (listing, identity, protect, cap) is returned,
/// not just the first, each a complete message for stderr (`error: act_…: …`, or
/// `file:line:col: error: act_…: …` with its `help:`).
pub async fn compare<A: LiveApi>(
    api: &A,
    accounts: &[&DesiredAccount],
    api_version: &str,
    opts: &DiffOptions,
) -> Result<Comparison, Vec<String>> {
    let ids: Vec<_> = accounts.iter().map(|a| a.account.clone()).collect();
    let listed = api.list_many(&ids).await;
    let mut errors = Vec::new();
    let mut plans = Vec::new();
    let mut lives = Vec::new();
    for (desired, result) in accounts.iter().zip(listed) {
        match result {
            Err(e) => errors.push(format!(
                "error: {}: cannot list custom conversions: {e}",
                desired.account
            )),
            Ok(live) => match diff_account(desired, &live, opts) {
                Ok(plan) => {
                    plans.push(plan);
                    lives.push(live);
                }
                Err(diags) => errors.extend(diags.into_iter().map(|mut d| {
                    // `file:line:col: error: act_…: message`, as `validate` prints.
                    d.message = format!("{}: {}", desired.account, d.message);
                    d.to_string()
                })),
            },
        }
    }
    if errors.is_empty() {
        Ok(Comparison {
            doc: PlanDocument::new(api_version, plans),
            live: lives,
        })
    } else {
        Err(errors)
    }
}

/// `drift`'s exit code: 2 when live state differs from the manifests, 0 in sync.
pub fn exit_code(doc: &PlanDocument) -> i32 {
    if doc.has_changes() {
        exit::CHANGES
    } else {
        exit::SUCCESS
    }
}
