//! The health report (`convctl report`): for every account and for the fleet, what `plan` would
//! do (drift), which conversions are not counting anything (never fired, stopped firing,
//! flagged by Meta) or are waiting to be cleaned up (archived, retired, unmanaged), and how full
//! each account is against its 100-conversion cap.
//!
//! Owns the report document (its JSON is what `--format json` prints, versioned by
//! [`REPORT_VERSION`]) and the judgement of each conversion ([`assess`]), the thresholds it is
//! judged by ([`thresholds`]) and the per-set view across accounts ([`sets`]). It is pure: the
//! clock, the live listing, the plan and the daily counts are given to it, so every rule is
//! tested without a server or today's date. It never renders (`render::report` does).

mod assess;
mod kind;
mod sets;
#[cfg(test)]
mod tests;
mod thresholds;

pub use assess::{AccountInput, assess_account, unreadable_account};
pub use kind::Kind;
pub use thresholds::Thresholds;

use crate::model::ConversionId;
use crate::model::ids::AdAccountId;
use crate::model::stats::{DailyCounts, StatsWindow};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The version of the JSON document's shape: scripts check it; a change that could break them
/// raises it.
pub const REPORT_VERSION: u32 = 1;

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthReport {
    pub version: u32,
    pub convctl_version: String,
    pub api_version: String,
    /// The instant the report judges against (RFC 3339, UTC).
    pub generated_at: String,
    /// The thresholds used where an entry sets none.
    pub thresholds: ThresholdsShown,
    /// The days the daily counts cover (`--stats`); absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats_window: Option<WindowShown>,
    pub summary: FleetSummary,
    /// Every finding of every account, problems first.
    pub findings: Vec<Finding>,
    /// Accounts with problems first (unreadable ones, then by findings and drift).
    pub accounts: Vec<AccountHealth>,
    /// Per set: which accounts lack an entry of it or differ from it.
    pub sets: Vec<SetView>,
}

/// The thresholds as the document shows them (`"7d"`, `"off"`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdsShown {
    pub never_fired: String,
    pub stopped_firing: String,
    /// `--expect-fire-within`, when it overrides every entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_by_flag: Option<String>,
}

/// The days the daily counts cover, as dates.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WindowShown {
    pub first_day: String,
    pub last_day: String,
    pub days: usize,
}

/// Counts over the fleet.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FleetSummary {
    pub accounts: usize,
    /// Accounts with at least one problem finding (never fired, stopped firing, flagged).
    pub accounts_with_problems: usize,
    /// Accounts with drift (anything `plan` would create, update, replace or delete).
    pub accounts_with_drift: usize,
    /// Accounts that could not be read.
    pub accounts_unreadable: usize,
    /// Live conversions, archived and retired ones included.
    pub conversions: usize,
    /// Conversions that fired within their threshold.
    pub firing: usize,
    /// Findings per kind, every kind named (0 too).
    pub findings: BTreeMap<Kind, usize>,
    /// What `plan` would do, over every account.
    pub drift: DriftCounts,
    /// Events counted over the window, every conversion (`--stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
}

/// One account.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountHealth {
    pub account: AdAccountId,
    /// The manifest file that declares it.
    pub source: String,
    /// Why the account could not be read (then nothing else is known of it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The sets it uses.
    pub sets: Vec<String>,
    pub cap: Cap,
    pub drift: Drift,
    /// Its live conversions, then the entries not live yet.
    pub conversions: Vec<ConversionHealth>,
    /// Findings per kind (0 too), for the fleet table.
    pub findings: BTreeMap<Kind, usize>,
    /// Events counted over the window (`--stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// The plan's warnings for this account.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AccountHealth {
    /// Problem findings (never fired, stopped firing, flagged).
    pub fn problems(&self) -> usize {
        self.findings
            .iter()
            .filter(|(k, _)| k.is_problem())
            .map(|(_, n)| n)
            .sum()
    }

    /// Every finding.
    pub fn finding_count(&self) -> usize {
        self.findings.values().sum()
    }

    /// Whether `plan` would change anything.
    pub fn has_drift(&self) -> bool {
        self.drift.counts.changes() > 0
    }
}

/// The account's conversions against the cap (archived and retired ones count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Cap {
    pub live: usize,
    pub archived: usize,
    pub retired: usize,
    pub limit: usize,
    pub headroom: usize,
}

/// What `plan` would do to the account.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Drift {
    pub counts: DriftCounts,
    pub entries: Vec<DriftEntry>,
}

/// Counts of a plan's actions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DriftCounts {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
}

impl DriftCounts {
    pub fn changes(&self) -> usize {
        self.create + self.update + self.replace + self.delete
    }

    fn add(&mut self, other: &DriftCounts) {
        self.create += other.create;
        self.update += other.update;
        self.replace += other.replace;
        self.delete += other.delete;
    }
}

/// One action `plan` would take.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DriftEntry {
    /// `create`, `update`, `replace` or `delete`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ConversionId>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The fields that differ (update, replace).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<&'static str>,
    /// Why a delete (`absent`, `prune`, `duplicate`, `replaced`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

impl DriftEntry {
    /// `update (description)`, `replace (rule)`, `delete (prune)`, `create`.
    pub fn describe(&self) -> String {
        match (&self.reason, self.fields.is_empty()) {
            (Some(reason), _) => format!("{} ({reason})", self.action),
            (None, false) => format!("{} ({})", self.action, self.fields.join(", ")),
            (None, true) => self.action.to_string(),
        }
    }
}

/// How a conversion stands, in one word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Fired within its threshold.
    Firing,
    /// Not fired yet, still within its first-fire threshold.
    Waiting,
    /// Not fired within its threshold (never, or not lately).
    Silent,
    /// `expect_fire_within: off`: not judged by its events.
    NotChecked,
    /// Flagged by Meta (`is_unavailable`): it matches nothing.
    Flagged,
    Archived,
    Retired,
    /// Declared, not live: `plan` would create it.
    Missing,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Firing => "firing",
            State::Waiting => "waiting",
            State::Silent => "silent",
            State::NotChecked => "not checked",
            State::Flagged => "flagged",
            State::Archived => "archived",
            State::Retired => "retired",
            State::Missing => "missing",
        }
    }
}

/// One conversion of an account (a live one, or an entry `plan` would create).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversionHealth {
    /// `None` for an entry that is not live.
    pub id: Option<ConversionId>,
    /// The live name (the entry's name when it is not live or the API did not report it).
    pub name: String,
    /// Whether an entry of the manifests declares it.
    pub managed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    pub state: State,
    pub findings: Vec<Kind>,
    pub creation_time: Option<String>,
    pub first_fired_time: Option<String>,
    pub last_fired_time: Option<String>,
    /// The threshold it is judged by (`"2d"`, `"off"`, or the defaults `"7d/30d"`).
    pub expect_fire_within: String,
    /// Daily counts over the window (`--stats`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<StatsShown>,
    /// What `plan` would do to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<String>,
}

/// A conversion's daily counts and their total.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatsShown {
    pub total: u64,
    pub daily: Vec<u64>,
}

/// One finding: what is wrong with which conversion, and the evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub account: AdAccountId,
    pub id: ConversionId,
    pub name: String,
    pub kind: Kind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The facts it is based on.
    pub evidence: Evidence,
    /// One sentence for a person.
    pub message: String,
}

/// The times (and flags) a finding is based on, as the API reported them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub creation_time: Option<String>,
    pub first_fired_time: Option<String>,
    pub last_fired_time: Option<String>,
    /// The threshold crossed (fire findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    /// Whole days since the time the finding counts from (fire findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    /// The day it was retired, from its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_on: Option<String>,
    pub is_unavailable: bool,
    pub is_archived: bool,
}

impl HealthReport {
    /// The report over assessed accounts. Accounts are ordered problems first, and the
    /// findings likewise (kinds by severity, then account and name).
    pub fn new(
        api_version: &str,
        now: jiff::Timestamp,
        thresholds: &Thresholds,
        window: Option<StatsWindow>,
        mut accounts: Vec<(AccountHealth, Vec<Finding>)>,
        set_inputs: Vec<SetUse>,
    ) -> HealthReport {
        accounts.sort_by(|(a, _), (b, _)| {
            (
                b.error.is_some(),
                b.problems(),
                b.has_drift(),
                b.finding_count(),
            )
                .cmp(&(
                    a.error.is_some(),
                    a.problems(),
                    a.has_drift(),
                    a.finding_count(),
                ))
                .then_with(|| a.account.cmp(&b.account))
        });
        let mut summary = FleetSummary {
            findings: Kind::ALL.iter().map(|k| (*k, 0)).collect(),
            ..FleetSummary::default()
        };
        let mut findings = Vec::new();
        let mut out = Vec::with_capacity(accounts.len());
        for (account, mut fs) in accounts {
            summary.accounts += 1;
            summary.accounts_unreadable += usize::from(account.error.is_some());
            summary.accounts_with_problems += usize::from(account.problems() > 0);
            summary.accounts_with_drift += usize::from(account.has_drift());
            summary.conversions += account.cap.live;
            summary.firing += account
                .conversions
                .iter()
                .filter(|c| c.state == State::Firing)
                .count();
            for (kind, n) in &account.findings {
                *summary.findings.entry(*kind).or_default() += n;
            }
            summary.drift.add(&account.drift.counts);
            if let Some(events) = account.events {
                *summary.events.get_or_insert(0) += events;
            }
            findings.append(&mut fs);
            out.push(account);
        }
        findings.sort_by(|a, b| {
            (a.kind, &a.account, &a.name, &a.id).cmp(&(b.kind, &b.account, &b.name, &b.id))
        });
        HealthReport {
            version: REPORT_VERSION,
            convctl_version: env!("CARGO_PKG_VERSION").to_string(),
            api_version: api_version.to_string(),
            generated_at: now.round(jiff::Unit::Second).unwrap_or(now).to_string(),
            thresholds: thresholds.shown(),
            stats_window: window.map(|w| WindowShown {
                first_day: w.first.to_string(),
                last_day: w.last.to_string(),
                days: w.len(),
            }),
            summary,
            findings,
            accounts: out,
            sets: sets::set_views(set_inputs),
        }
    }

    /// Whether any finding of these kinds is present, or drift when `drift` is asked.
    pub fn fails_on(&self, kinds: &[Kind], drift: bool) -> bool {
        (drift && self.summary.drift.changes() > 0)
            || kinds
                .iter()
                .any(|k| self.summary.findings.get(k).copied().unwrap_or(0) > 0)
    }

    /// Pretty JSON, newline-terminated, written as it is serialised.
    pub fn write_json(&self, out: &mut (impl std::io::Write + ?Sized)) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

/// Fills in the daily counts of the conversions they were read for (`--stats`), and each
/// account's total.
pub fn attach_stats(
    accounts: &mut [(AccountHealth, Vec<Finding>)],
    counts: &HashMap<ConversionId, DailyCounts>,
) {
    for (account, _) in accounts {
        let mut total = 0;
        for row in &mut account.conversions {
            if let Some(c) = row.id.as_ref().and_then(|id| counts.get(id)) {
                total += c.total();
                row.stats = Some(StatsShown {
                    total: c.total(),
                    daily: c.daily.clone(),
                });
            }
        }
        account.events = Some(total);
    }
}

pub use sets::{SetUse, SetView};
