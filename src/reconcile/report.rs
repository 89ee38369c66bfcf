//! `report`: one read of the selected accounts (the survey `plan` and `drift` make, no more
//! round trips), each account judged while its listing is at hand, and, with `--stats`, the
//! daily counts of every live conversion from the `stats` edge (batched like the listings).
//!
//! An account that cannot be read does not hide the others: it is named on top of the report
//! with why, and the error is returned besides, so the command still exits 1. It never writes.

use super::LiveApi;
use super::survey::{SurveyError, survey_each};
use crate::diff::DiffOptions;
use crate::graph::{GraphClient, GraphError, StatsTarget};
use crate::manifest::DesiredAccount;
use crate::model::stats::{DailyCounts, StatsWindow};
use crate::model::{AdAccountId, ConversionId};
use crate::report::{
    AccountHealth, AccountInput, Finding, HealthReport, SetUse, Thresholds, assess_account,
    attach_stats, unreadable_account,
};
use std::collections::{BTreeMap, HashMap};

/// Daily counts of conversions (the `stats` edge): the Graph client, or a fake in tests.
#[allow(async_fn_in_trait)]
pub trait StatsApi {
    /// Each conversion's counts over `window`, in the order asked.
    async fn daily_counts(
        &self,
        targets: &[StatsTarget],
        window: StatsWindow,
    ) -> Vec<Result<DailyCounts, GraphError>>;
}

impl StatsApi for GraphClient {
    async fn daily_counts(
        &self,
        targets: &[StatsTarget],
        window: StatsWindow,
    ) -> Vec<Result<DailyCounts, GraphError>> {
        GraphClient::daily_counts(self, targets, window).await
    }
}

/// What the report is judged by.
#[derive(Clone, Copy, Debug)]
pub struct ReportOptions<'a> {
    pub api_version: &'a str,
    /// The report's clock: every age is counted to it.
    pub now: jiff::Timestamp,
    pub thresholds: Thresholds,
    /// Read the daily counts (`--stats`); without it no call is made beyond the listings.
    pub stats: bool,
}

/// The report, and every error met making it (accounts that could not be read, counts that
/// could not be had), each a complete message for stderr.
pub struct ReportOutcome {
    pub report: HealthReport,
    pub errors: Vec<String>,
}

/// Reads, judges and (with `stats`) counts the selected accounts.
pub async fn report<A: LiveApi + StatsApi>(
    api: &A,
    accounts: &[&DesiredAccount],
    options: &ReportOptions<'_>,
) -> ReportOutcome {
    let diff_options = DiffOptions {
        now: options.now,
        report_only: true,
        ..DiffOptions::default()
    };
    let outcomes = survey_each(
        api,
        accounts,
        &diff_options,
        |desired, live, matches, plan| {
            let input = AccountInput {
                desired,
                live,
                entry_ids: matches,
                plan,
            };
            let judged = assess_account(&input, options.now, &options.thresholds);
            let targets: Vec<ConversionId> = live
                .iter()
                .filter(|c| !c.is_archived)
                .map(|c| c.id.clone())
                .collect();
            (judged, targets)
        },
    )
    .await;
    let mut errors = Vec::new();
    let mut judged: Vec<(AccountHealth, Vec<Finding>)> = Vec::with_capacity(accounts.len());
    let mut set_uses: Vec<SetUse> = Vec::new();
    let mut targets: Vec<StatsTarget> = Vec::new();
    for (desired, outcome) in accounts.iter().zip(outcomes) {
        match outcome {
            Ok((_plan, ((health, findings, set_use), ids))) => {
                targets.extend(ids.into_iter().map(|id| (desired.account.clone(), id)));
                judged.push((health, findings));
                set_uses.push(set_use);
            }
            Err(survey_errors) => {
                let why = survey_errors
                    .iter()
                    .map(|e| match e {
                        SurveyError::Unlisted(why) => why.clone(),
                        SurveyError::Invalid(d) => d.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                judged.push((unreadable_account(desired, why), Vec::new()));
                errors.extend(survey_errors.iter().map(ToString::to_string));
            }
        }
    }
    let window = options.stats.then(|| StatsWindow::ending_at(options.now));
    if let Some(window) = window {
        let counts = api.daily_counts(&targets, window).await;
        let mut by_id: HashMap<ConversionId, DailyCounts> = HashMap::with_capacity(targets.len());
        let mut failed: BTreeMap<AdAccountId, (usize, GraphError)> = BTreeMap::new();
        for ((account, id), result) in targets.into_iter().zip(counts) {
            match result {
                Ok(c) => {
                    by_id.insert(id, c);
                }
                Err(e) => {
                    failed.entry(account).or_insert((0, e)).0 += 1;
                }
            }
        }
        attach_stats(&mut judged, &by_id);
        for (account, (n, error)) in failed {
            errors.push(format!(
                "error: {account}: cannot read the daily counts of {n} conversion(s) (the `stats` edge): {error}"
            ));
            if let Some((health, _)) = judged.iter_mut().find(|(h, _)| h.account == account) {
                health.warnings.push(format!(
                    "the daily counts of {n} conversion(s) could not be read: {error}"
                ));
            }
        }
    }
    ReportOutcome {
        report: HealthReport::new(
            options.api_version,
            options.now,
            &options.thresholds,
            window,
            judged,
            set_uses,
        ),
        errors,
    }
}
