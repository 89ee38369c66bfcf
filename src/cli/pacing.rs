//! What Meta's ad-account limit means for a plan's writes, told before any write: at the
//! development access tier (about 20 writes per 5 minutes per account) the time each account's
//! writes take, as `plan` and `apply` see it from the usage headers of the listing; and apply's
//! refusal, before any write, when that outlasts what is left of `--timeout`.
//!
//! The client paces the writes itself (`graph::limiter`); this only says how long it will
//! take, so that nobody learns it from a `--timeout` after half the writes.

use crate::cli::failure::Failure;
use crate::cli::session::Session;
use crate::graph::{Pacing, describe_duration};
use crate::model::access_tier::AccessTier;
use crate::model::ids::AdAccountId;
use crate::plan::PlanDocument;
use std::time::Duration;
use tokio::time::Instant;

/// An account whose writes the development tier's limit spreads over time.
pub(crate) struct Paced {
    pub(crate) account: AdAccountId,
    pub(crate) writes: usize,
    pub(crate) pacing: Pacing,
}

impl Paced {
    /// `act_1: 100 writes take about 20m 5s at Meta's ad-account limit, development access
    /// tier: about 20 writes per 5 minutes (Standard access lifts it: see
    /// docs/troubleshooting.md)`.
    pub(crate) fn notice(&self) -> String {
        format!(
            "{}: {} take about {} at Meta's ad-account limit, {} (Standard access lifts it: see docs/troubleshooting.md)",
            self.account,
            writes(self.writes),
            rounded(self.pacing.duration),
            self.pacing.limit
        )
    }
}

/// The accounts of `doc` at the development tier whose writes must wait for their score (the
/// usage headers of the listing tell the tier; an account never listed is not known).
pub(crate) fn paced_accounts(session: &Session, doc: &PlanDocument) -> Vec<Paced> {
    doc.accounts
        .iter()
        .filter(|a| a.writes() > 0)
        .filter_map(|a| {
            let pacing = session.client().pacing(&a.account, a.writes())?;
            (pacing.tier == AccessTier::Development && !pacing.duration.is_zero()).then(|| Paced {
                account: a.account.clone(),
                writes: a.writes(),
                pacing,
            })
        })
        .collect()
}

/// Refuses, before any write, accounts whose paced writes need longer than the time the
/// command's `--timeout` leaves them (unlimited: nothing to refuse). `restarts`: the budget
/// starts again before the writes (after apply's prompt), so they get all of it.
pub(crate) fn refuse_beyond_timeout(
    session: &Session,
    paced: &[Paced],
    restarts: bool,
) -> Result<(), Failure> {
    let budget = session.budget();
    let left = match (budget.deadline(), budget.length()) {
        (Some(_), Some(length)) if restarts => length,
        (Some(deadline), _) => deadline.saturating_duration_since(Instant::now()),
        _ => return Ok(()),
    };
    let over: Vec<&Paced> = paced.iter().filter(|p| p.pacing.duration > left).collect();
    let Some(longest) = over.iter().map(|p| p.pacing.duration).max() else {
        return Ok(());
    };
    let details = over
        .iter()
        .map(|p| {
            format!(
                "error: {}: {} need about {} at Meta's ad-account limit, {}",
                p.account,
                writes(p.writes),
                rounded(p.pacing.duration),
                p.pacing.limit
            )
        })
        .collect();
    let accounts: Vec<String> = over.iter().map(|p| p.account.to_string()).collect();
    Err(Failure::with_details(
        details,
        format!(
            "the writes would outlast the --timeout of {} ({} left); nothing was done",
            budget.describe(),
            rounded(left),
        ),
    )
    .with_help(format!(
        "pass --timeout {} or more (0: no limit), or leave {} out with --account and apply {} on {} own with a longer --timeout",
        suggested_timeout(longest),
        accounts.join(", "),
        if accounts.len() == 1 { "it" } else { "them" },
        if accounts.len() == 1 { "its" } else { "their" },
    )))
}

/// A `--timeout` that leaves room: the need and a tenth, plus a minute, in whole minutes.
fn suggested_timeout(need: Duration) -> String {
    let minutes = ((need.as_secs_f64() * 1.1 + 60.0) / 60.0).ceil() as u64;
    describe_duration(Duration::from_secs(minutes * 60))
}

/// A duration for a person, in whole seconds (`20m 5s`).
fn rounded(d: Duration) -> String {
    describe_duration(Duration::from_secs(d.as_secs_f64().ceil() as u64))
}

fn writes(n: usize) -> String {
    match n {
        1 => "1 write".to_string(),
        n => format!("{n} writes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_and_the_suggested_timeout() {
        let paced = Paced {
            account: AdAccountId::parse("act_1").unwrap(),
            writes: 100,
            pacing: Pacing {
                tier: AccessTier::Development,
                duration: Duration::from_secs_f64(1204.2),
                limit: "development access tier: about 20 writes per 5 minutes".to_string(),
            },
        };
        assert_eq!(
            paced.notice(),
            "act_1: 100 writes take about 20m 5s at Meta's ad-account limit, development access tier: about 20 writes per 5 minutes (Standard access lifts it: see docs/troubleshooting.md)"
        );
        assert_eq!(suggested_timeout(Duration::from_secs(1205)), "24m");
        assert_eq!(suggested_timeout(Duration::from_secs(8)), "2m");
    }
}
