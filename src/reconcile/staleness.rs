//! Is a plan still true? Before a saved plan (`apply --plan`) or an approved one (after the
//! prompt) is executed, its accounts are listed again: every account's seal must hold (its
//! actions are those sealed, and the account and its live state those the plan was made for
//! and from: `plan::check_seal`), and every action must agree with the live conversion it
//! names ([`check_account`]: id, name, `before`, offline-valid `after`, delete-first only at
//! the cap, no duplicate creates). Otherwise nothing is done. Generic over [`LiveApi`], so fakes test it
//! without a server.

use super::LiveApi;
use super::survey::cannot_list;
use crate::model::LiveConversion;
use crate::plan::check::check_account;
use crate::plan::{AccountPlan, PlanDocument, Unsealed, check_seal};

/// Why a plan may not be executed.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) problems: Vec<String>,
    pub(crate) kind: RefusalKind,
}

/// What is wrong with a refused plan, worst first (a plan with several accounts is as wrong as
/// its worst one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum RefusalKind {
    /// Made by a convctl that did not seal its actions: make it again.
    Older,
    /// Its actions are not what was sealed, or disagree with the live conversions they name.
    Edited,
    /// Live state moved since it was made (or it was made for another account).
    Stale,
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
    let mut kind: Option<RefusalKind> = None;
    let mut active = Vec::new();
    for (account, result) in doc.accounts.iter().zip(listed) {
        match result {
            Err(e) => {
                problems.push(cannot_list(&account.account, &e));
                kind = Some(worst(kind, RefusalKind::Stale));
            }
            Ok(live) => {
                if let Some(wrong) = account_problems(account, &live) {
                    kind = Some(worst(kind, wrong.kind));
                    problems.extend(wrong.problems);
                }
                active.push(live.iter().filter(|c| !c.is_archived).count());
            }
        }
    }
    match kind {
        None => Ok(active),
        Some(kind) => Err(Refusal { problems, kind }),
    }
}

fn worst(so_far: Option<RefusalKind>, kind: RefusalKind) -> RefusalKind {
    so_far.map_or(kind, |k| k.min(kind))
}

/// Why one account's plan no longer holds (`None` when it does): its seal first (the account,
/// its actions and its live state are what the plan was made for and from), then every action
/// against the live conversion it names.
fn account_problems(account: &AccountPlan, live: &[LiveConversion]) -> Option<Refusal> {
    let id = &account.account;
    let checked = || -> Vec<String> {
        check_account(account, live, crate::ACCOUNT_CAP)
            .into_iter()
            .map(|p| format!("{id}: {p}"))
            .collect()
    };
    let (kind, mut problems) = match check_seal(account, live) {
        Err(Unsealed::Older) => (
            RefusalKind::Older,
            vec![format!(
                "{id}: the plan was made by an older convctl, whose fingerprint covered neither the account nor its actions: make the plan again with this one"
            )],
        ),
        Err(Unsealed::Edited) => (
            RefusalKind::Edited,
            vec![format!(
                "{id}: its actions (or `safety`, `token_env`) are not those convctl sealed when it made the plan"
            )],
        ),
        Err(Unsealed::Moved) => {
            return Some(Refusal {
                problems: vec![format!(
                    "{id}: its live conversions are not those the plan was made from: they changed since, or the plan was made for another account"
                )],
                kind: RefusalKind::Stale,
            });
        }
        Ok(()) => (RefusalKind::Edited, Vec::new()),
    };
    if kind == RefusalKind::Edited {
        // What exactly disagrees with the live conversions it names (a sealed plan that still
        // does came from a manifest that could say it: refused all the same).
        problems.extend(checked());
    }
    (!problems.is_empty()).then_some(Refusal { problems, kind })
}
