//! Is a plan still true? Before a saved plan (`apply --plan`) or an approved one (after the
//! prompt) is executed, its accounts are listed again: every live fingerprint must be what the
//! plan was made from, and every action must agree with the live conversion it names
//! ([`check_account`]: id, name, `before`, offline-valid `after`, delete-first only at the cap,
//! no duplicate creates). Otherwise nothing is done. Generic over [`LiveApi`], so fakes test it
//! without a server.

use super::LiveApi;
use super::survey::cannot_list;
use crate::model::LiveConversion;
use crate::plan::check::check_account;
use crate::plan::{AccountPlan, PlanDocument};

/// Why a plan may not be executed.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) problems: Vec<String>,
    /// Some action disagrees with the live conversion it names (not only: live state moved).
    pub(crate) edited: bool,
}

/// `Ok` with each account's count of non-archived live conversions (what the mass-delete
/// guard counts) when the plan is still true, else every reason it is not.
pub(crate) async fn still_true<A: LiveApi>(
    api: &A,
    doc: &PlanDocument,
) -> Result<Vec<usize>, Refusal> {
    let ids: Vec<_> = doc.accounts.iter().map(|a| a.account.clone()).collect();
    let listed = api.list_many(&ids).await;
    let mut problems = Vec::new();
    let mut edited = false;
    let mut active = Vec::new();
    for (account, result) in doc.accounts.iter().zip(listed) {
        match result {
            Err(e) => problems.push(cannot_list(&account.account, &e)),
            Ok(live) => {
                let wrong = account_problems(account, &live);
                edited |= wrong.edited;
                problems.extend(wrong.problems);
                active.push(live.iter().filter(|c| !c.is_archived).count());
            }
        }
    }
    if problems.is_empty() {
        Ok(active)
    } else {
        Err(Refusal { problems, edited })
    }
}

/// Why one account's plan no longer holds (nothing when it does).
fn account_problems(account: &AccountPlan, live: &[LiveConversion]) -> Refusal {
    if crate::plan::live_fingerprint(live) != account.live_fingerprint {
        return Refusal {
            problems: vec![format!(
                "{}: live conversions changed since the plan was made",
                account.account
            )],
            edited: false,
        };
    }
    // The fingerprint covers live state, not the file's actions: an edited or damaged plan
    // could otherwise delete a kept conversion under another's name, reach another account's
    // conversion, or write what no manifest could say.
    let problems: Vec<String> = check_account(account, live, crate::ACCOUNT_CAP)
        .into_iter()
        .map(|p| format!("{}: {p}", account.account))
        .collect();
    Refusal {
        edited: !problems.is_empty(),
        problems,
    }
}
