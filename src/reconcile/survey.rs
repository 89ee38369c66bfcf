//! Surveying the selected accounts, read-only: the half of reconciling that `plan`, `apply`
//! and `drift` share. Lists every selected account (in parallel, through the client) and diffs
//! each with its manifest; `drift` is this survey reported as drift (exit 2 when anything
//! differs). It never writes to the API.

use crate::diff::{DiffOptions, diff_account_matched};
use crate::graph::GraphError;
use crate::manifest::{DesiredAccount, Diagnostic};
use crate::model::AdAccountId;
use crate::model::{ConversionId, LiveConversion};
use crate::plan::{AccountPlan, PlanDocument};
use crate::reconcile::LiveApi;

/// The plan of the selected accounts, with how many live conversions each had (in the same
/// order as `doc.accounts`). The live listings themselves are not kept: at agency scale they
/// are tens of MB that nothing needs after the diff.
#[derive(Debug)]
pub struct Survey {
    pub doc: PlanDocument,
    /// Non-archived live conversions of each account.
    active: Vec<usize>,
}

impl Survey {
    /// Non-archived live conversions of account `i` (what the mass-delete guard counts).
    pub(crate) fn active_count(&self, i: usize) -> usize {
        self.active[i]
    }
}

fn active(live: &[LiveConversion]) -> usize {
    live.iter().filter(|c| !c.is_archived).count()
}

/// Lists and diffs every account; every failure (listing, identity, protect, cap) is returned,
/// not just the first, each a complete message for stderr (`error: act_…: …`, or
/// `file:line:col: error: act_…: …` with its `help:`).
pub async fn survey<A: LiveApi>(
    api: &A,
    accounts: &[&DesiredAccount],
    api_version: &str,
    opts: &DiffOptions,
) -> Result<Survey, Vec<SurveyError>> {
    let outcomes = survey_each(api, accounts, opts, |_, live, _, _| active(live)).await;
    let mut errors = Vec::new();
    let mut plans = Vec::new();
    let mut active_counts = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok((plan, active)) => {
                plans.push(plan);
                active_counts.push(active);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Survey {
            doc: PlanDocument::new(api_version, plans),
            active: active_counts,
        })
    } else {
        Err(errors)
    }
}

/// Lists and diffs every account (one read, the same round trips as [`survey`]), and gives
/// each account's manifest, live conversions, matches (which live conversion each entry
/// means) and plan to `observe` while the listing is at hand: per account, the plan and what
/// `observe` kept, or that account's errors. `report` judges each account's conversions here,
/// so that the listings are still freed one by one.
pub async fn survey_each<A: LiveApi, T>(
    api: &A,
    accounts: &[&DesiredAccount],
    opts: &DiffOptions,
    mut observe: impl FnMut(
        &DesiredAccount,
        &[LiveConversion],
        &[Option<ConversionId>],
        &AccountPlan,
    ) -> T,
) -> Vec<Result<(AccountPlan, T), Vec<SurveyError>>> {
    let ids: Vec<_> = accounts.iter().map(|a| a.account.clone()).collect();
    let listed = api.list_many(&ids).await;
    accounts
        .iter()
        .zip(listed)
        .map(|(desired, result)| match result {
            Err(e) => Err(vec![SurveyError::Unlisted(cannot_list_with(
                &desired.account,
                desired.token_env.as_deref(),
                &e,
            ))]),
            Ok(live) => match diff_account_matched(desired, &live, opts) {
                Ok((plan, matches)) => {
                    let kept = observe(desired, &live, &matches, &plan);
                    Ok((plan, kept))
                }
                Err(diags) => Err(diags
                    .into_iter()
                    .map(|mut d| {
                        // `file:line:col: error: act_…: message`, as `validate` prints.
                        d.message = format!("{}: {}", desired.account, d.message);
                        SurveyError::Invalid(d)
                    })
                    .collect()),
            },
        })
        .collect()
}

/// What kept one account out of the plan.
#[derive(Debug)]
pub enum SurveyError {
    /// Its conversions could not be listed (`act_…: cannot list custom conversions: <why>`).
    Unlisted(String),
    /// Its manifest cannot be reconciled with what is live (a pinned id that is gone, a
    /// protected conversion a plan would replace, ...), at the entry's place.
    Invalid(Diagnostic),
}

impl std::fmt::Display for SurveyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SurveyError::Unlisted(why) => write!(f, "error: {why}"),
            SurveyError::Invalid(d) => d.fmt(f),
        }
    }
}

/// The one way a failed listing is told: `act_…: cannot list custom conversions: <why>`.
pub(crate) fn cannot_list(account: &AdAccountId, error: &GraphError) -> String {
    cannot_list_with(account, None, error)
}

/// [`cannot_list`], naming the variable the account's own token came from (`token_env`).
pub(crate) fn cannot_list_with(
    account: &AdAccountId,
    token_env: Option<&str>,
    error: &GraphError,
) -> String {
    let token = token_env
        .map(|v| format!(" with the token from {v} (its `token_env`)"))
        .unwrap_or_default();
    let error = match error.account() {
        Some(named) if named == account => error.clone().without_account(),
        _ => error.clone(),
    };
    format!("{account}: cannot list custom conversions{token}: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ErrorKind;

    /// The line names the account once, whether or not the error carries it.
    #[test]
    fn a_failed_listing_names_its_account_once() {
        let account = AdAccountId::parse("act_1").unwrap();
        let carried =
            GraphError::new(ErrorKind::Transient, "the API failed").with_account(Some(&account));
        assert_eq!(
            cannot_list(&account, &carried),
            "act_1: cannot list custom conversions: the API failed"
        );
        let other = AdAccountId::parse("act_2").unwrap();
        let elsewhere =
            GraphError::new(ErrorKind::Transient, "the API failed").with_account(Some(&other));
        assert!(cannot_list(&account, &elsewhere).contains("act_2"));
    }
}
