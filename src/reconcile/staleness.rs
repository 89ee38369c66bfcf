//! Is a plan still true? Before a saved plan (`apply --plan`) or an approved one (after the
//! prompt) is executed, its accounts are listed again: every live fingerprint must be what the
//! plan was made from, and every id an action names must be one of that account's conversions.
//! Otherwise nothing is done. Generic over [`LiveApi`], so fakes test it without a server.

use super::LiveApi;
use super::compare::cannot_list;
use crate::model::LiveConversion;
use crate::plan::{AccountPlan, Action, PlanDocument};

/// `Ok` with each account's count of non-archived live conversions (what the mass-delete
/// guard counts) when the plan is still true, else every reason it is not.
pub async fn still_true<A: LiveApi>(
    api: &A,
    doc: &PlanDocument,
) -> Result<Vec<usize>, Vec<String>> {
    let ids: Vec<_> = doc.accounts.iter().map(|a| a.account.clone()).collect();
    let listed = api.list_many(&ids).await;
    let mut problems = Vec::new();
    let mut active = Vec::new();
    for (account, result) in doc.accounts.iter().zip(listed) {
        match result {
            Err(e) => problems.push(cannot_list(&account.account, &e)),
            Ok(live) => {
                problems.extend(account_problem(account, &live));
                active.push(live.iter().filter(|c| !c.is_archived).count());
            }
        }
    }
    if problems.is_empty() {
        Ok(active)
    } else {
        Err(problems)
    }
}

/// Why one account's plan no longer holds, if it does not.
fn account_problem(account: &AccountPlan, live: &[LiveConversion]) -> Option<String> {
    if crate::plan::live_fingerprint(live) != account.live_fingerprint {
        return Some(format!(
            "{}: live conversions changed since the plan was made",
            account.account
        ));
    }
    // The fingerprint covers live state, not the file's actions: an edited or damaged plan
    // could otherwise update or delete another account's conversion.
    let stray = account
        .actions
        .iter()
        .filter_map(Action::id)
        .find(|id| !live.iter().any(|c| &c.id == *id))?;
    Some(format!(
        "{}: the plan names conversion {stray}, which is not one of this account's conversions (was the file edited?)",
        account.account
    ))
}
