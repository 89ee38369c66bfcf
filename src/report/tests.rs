//! Unit tests of the judgement: one test per kind and threshold rule, on a fixed clock.

use super::*;
use crate::diff::tests::{entry, live};
use crate::diff::{DiffOptions, diff_account_matched};
use crate::manifest::{DesiredAccount, DesiredConversion, FireExpectation, Location, SetOrigin};
use crate::model::LiveConversion;
use std::time::Duration;

const NOW: &str = "2026-12-06T08:00:00Z";
const DAY: i64 = 86_400;
const R1: &str = r#"{"url":{"i_contains":"thankyou"}}"#;
const R2: &str = r#"{"url":{"i_contains":"confirmation"}}"#;
const R3: &str = r#"{"url":{"i_contains":"cart"}}"#;

fn now() -> jiff::Timestamp {
    NOW.parse().unwrap()
}

/// Unix seconds `days` before the clock.
fn ago(days: i64) -> String {
    (now().as_second() - days * DAY).to_string()
}

fn account(conversions: Vec<DesiredConversion>) -> DesiredAccount {
    DesiredAccount {
        account: AdAccountId::parse("act_1").unwrap(),
        location: Location {
            file: "conversions/shop.yaml".into(),
            line: 2,
            column: 1,
        },
        prune: false,
        token_env: None,
        safety: None,
        conversions,
    }
}

/// A live conversion created `created` days ago, first and last fired those days ago.
fn conv(
    id: &str,
    name: &str,
    rule: &str,
    created: i64,
    fired: Option<(i64, i64)>,
) -> LiveConversion {
    let mut c = live(id, name, rule);
    c.creation_time = Some(ago(created));
    if let Some((first, last)) = fired {
        c.first_fired_time = Some(ago(first));
        c.last_fired_time = Some(ago(last));
    }
    c
}

fn judge(
    desired: &DesiredAccount,
    live: &[LiveConversion],
    thresholds: &Thresholds,
) -> (AccountHealth, Vec<Finding>, SetUse) {
    let opts = DiffOptions {
        now: now(),
        report_only: true,
        ..DiffOptions::default()
    };
    let (plan, ids) = diff_account_matched(desired, live, &opts).unwrap();
    assess_account(
        &AccountInput {
            desired,
            live,
            entry_ids: &ids,
            plan: &plan,
        },
        now(),
        thresholds,
    )
}

fn kinds(findings: &[Finding]) -> Vec<(String, Kind)> {
    findings.iter().map(|f| (f.name.clone(), f.kind)).collect()
}

fn state(health: &AccountHealth, name: &str) -> State {
    health
        .conversions
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no row {name}"))
        .state
}

#[test]
fn never_fired_counts_from_creation_with_a_week_by_default() {
    let d = account(vec![entry("Old", R1), entry("New", R2)]);
    let l = [
        conv("1", "Old", R1, 10, None),
        conv("2", "New", R2, 2, None),
    ];
    let (health, findings, _) = judge(&d, &l, &Thresholds::default());
    assert_eq!(kinds(&findings), [("Old".to_string(), Kind::NeverFired)]);
    let f = &findings[0];
    assert_eq!(f.evidence.days, Some(10));
    assert_eq!(f.evidence.threshold.as_deref(), Some("7d"));
    assert_eq!(f.evidence.first_fired_time, None);
    assert_eq!(
        f.evidence.creation_time.as_deref(),
        Some("2026-11-26T08:00:00Z")
    );
    assert_eq!(
        f.message,
        "never fired since it was created on 2026-11-26 (10 days ago; expected within 7d)"
    );
    assert_eq!(state(&health, "Old"), State::Silent);
    assert_eq!(state(&health, "New"), State::Waiting);
}

#[test]
fn stopped_firing_counts_from_the_last_event_with_30_days_by_default() {
    let d = account(vec![entry("Quiet", R1), entry("Busy", R2)]);
    let l = [
        conv("1", "Quiet", R1, 90, Some((80, 40))),
        conv("2", "Busy", R2, 90, Some((80, 20))),
    ];
    let (health, findings, _) = judge(&d, &l, &Thresholds::default());
    assert_eq!(
        kinds(&findings),
        [("Quiet".to_string(), Kind::StoppedFiring)]
    );
    assert_eq!(findings[0].evidence.days, Some(40));
    assert_eq!(findings[0].evidence.threshold.as_deref(), Some("30d"));
    assert_eq!(
        findings[0].message,
        "last fired on 2026-10-27 (40 days ago; expected within 30d)"
    );
    assert_eq!(state(&health, "Busy"), State::Firing);
}

#[test]
fn an_entry_sets_its_own_threshold_or_turns_it_off() {
    let mut checkout = entry("Checkout", R1);
    checkout.expect_fire_within = Some(FireExpectation::Within(Duration::from_secs(2 * 86_400)));
    let mut seasonal = entry("Black Friday", R2);
    seasonal.expect_fire_within = Some(FireExpectation::Off);
    let d = account(vec![checkout, seasonal]);
    let l = [
        conv("1", "Checkout", R1, 90, Some((80, 3))),
        conv("2", "Black Friday", R2, 300, Some((290, 280))),
    ];
    let (health, findings, _) = judge(&d, &l, &Thresholds::default());
    assert_eq!(
        kinds(&findings),
        [("Checkout".to_string(), Kind::StoppedFiring)]
    );
    assert_eq!(findings[0].evidence.threshold.as_deref(), Some("2d"));
    assert_eq!(state(&health, "Black Friday"), State::NotChecked);
    let row = |name: &str| {
        health
            .conversions
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .expect_fire_within
            .clone()
    };
    assert_eq!(row("Checkout"), "2d");
    assert_eq!(row("Black Friday"), "off");

    // The flag overrides every entry, `off` ones included.
    let flag = Thresholds {
        overridden: Some(FireExpectation::Within(Duration::from_secs(86_400 * 365))),
        ..Thresholds::default()
    };
    let (_, findings, _) = judge(&d, &l, &flag);
    assert!(findings.is_empty(), "{findings:?}");
    let flag = Thresholds {
        overridden: Some(FireExpectation::Within(Duration::from_secs(86_400))),
        ..Thresholds::default()
    };
    let (_, findings, _) = judge(&d, &l, &flag);
    assert_eq!(findings.len(), 2, "{findings:?}");
}

#[test]
fn flagged_archived_retired_and_unmanaged_are_said_once_each() {
    let d = account(vec![entry("Flagged", R1)]);
    let mut flagged = conv("1", "Flagged", R1, 90, None);
    flagged.is_unavailable = true;
    let mut archived = conv("2", "Gone", R2, 90, None);
    archived.is_archived = true;
    let retired = conv("3", "[retired 2026-12-01] Old cart", R3, 90, Some((80, 70)));
    let stray = conv(
        "4",
        "Made by hand",
        r#"{"url":{"i_contains":"x"}}"#,
        90,
        Some((1, 1)),
    );
    let l = [flagged, archived, retired, stray];
    let (health, findings, _) = judge(&d, &l, &Thresholds::default());
    let mut got = kinds(&findings);
    got.sort();
    assert_eq!(
        got,
        [
            ("Flagged".to_string(), Kind::Flagged),
            ("Gone".to_string(), Kind::Archived),
            ("Made by hand".to_string(), Kind::Unmanaged),
            ("[retired 2026-12-01] Old cart".to_string(), Kind::Retired),
        ]
    );
    let retired = findings.iter().find(|f| f.kind == Kind::Retired).unwrap();
    assert_eq!(retired.evidence.retired_on.as_deref(), Some("2026-12-01"));
    assert!(
        findings
            .iter()
            .find(|f| f.kind == Kind::Flagged)
            .unwrap()
            .evidence
            .is_unavailable
    );
    assert_eq!(state(&health, "Made by hand"), State::Firing);
    assert_eq!(
        health.cap,
        Cap {
            live: 4,
            archived: 1,
            retired: 1,
            limit: 100,
            headroom: 96
        }
    );
    assert_eq!(health.problems(), 1);
}

#[test]
fn drift_is_counted_and_each_change_named_on_its_row() {
    let mut described = entry("Described", R1);
    described.description = "new words".into();
    let d = account(vec![described, entry("Replaced", R3), entry("Missing", R2)]);
    let l = [
        conv("1", "Described", R1, 9, Some((1, 1))),
        conv("2", "Replaced", R1, 9, Some((1, 1))),
    ];
    let (health, _, _) = judge(&d, &l, &Thresholds::default());
    assert_eq!(
        health.drift.counts,
        DriftCounts {
            create: 1,
            update: 1,
            replace: 1,
            delete: 0
        }
    );
    let drift = |name: &str| {
        health
            .conversions
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .drift
            .clone()
    };
    assert_eq!(drift("Described").as_deref(), Some("update (description)"));
    assert_eq!(drift("Replaced").as_deref(), Some("replace (rule)"));
    assert_eq!(drift("Missing").as_deref(), Some("create"));
    assert_eq!(state(&health, "Missing"), State::Missing);
}

#[test]
fn the_fleet_puts_problems_first_and_fails_only_on_the_kinds_asked() {
    let thresholds = Thresholds::default();
    let quiet = account(vec![entry("Fine", R1)]);
    let (fine, f1, s1) = judge(
        &quiet,
        &[conv("1", "Fine", R1, 9, Some((1, 1)))],
        &thresholds,
    );
    let mut loud = account(vec![entry("Dead", R1)]);
    loud.account = AdAccountId::parse("act_2").unwrap();
    let (dead, f2, s2) = judge(&loud, &[conv("5", "Dead", R1, 9, None)], &thresholds);
    let report = HealthReport::new(
        "v26.0",
        now(),
        &thresholds,
        None,
        vec![(fine, f1), (dead, f2)],
        vec![s1, s2],
    );
    assert_eq!(report.accounts[0].account.as_str(), "act_2");
    assert_eq!(report.summary.accounts_with_problems, 1);
    assert_eq!(report.summary.findings[&Kind::NeverFired], 1);
    assert_eq!(report.summary.firing, 1);
    assert!(report.fails_on(&[Kind::NeverFired], false));
    assert!(!report.fails_on(&[Kind::Flagged, Kind::Archived], false));
    assert!(!report.fails_on(&[], true), "no drift");
    assert_eq!(report.generated_at, NOW);
}

#[test]
fn the_set_view_names_accounts_that_lack_or_differ_from_an_entry() {
    let from_set = |name: &str, rule: &str, account_line: usize| {
        let mut e = entry(name, rule);
        e.set = Some(SetOrigin {
            name: "ecommerce".into(),
            entry: name.into(),
            used_at: Location {
                file: "conversions/a.yaml".into(),
                line: account_line,
                column: 5,
            },
        });
        e
    };
    let thresholds = Thresholds::default();
    let a = account(vec![from_set("Purchase", R1, 3), from_set("Lead", R2, 3)]);
    let (_, _, use_a) = judge(
        &a,
        &[
            conv("1", "Purchase", R1, 9, Some((1, 1))),
            conv("2", "Lead", R2, 9, Some((1, 1))),
        ],
        &thresholds,
    );
    let mut b = account(vec![from_set("Purchase", R3, 9)]);
    b.account = AdAccountId::parse("act_2").unwrap();
    let (_, _, use_b) = judge(&b, &[], &thresholds);
    let views = sets::set_views(vec![use_a, use_b]);
    assert_eq!(views.len(), 1);
    let v = &views[0];
    assert_eq!((v.uses, v.in_line), (2, 1));
    assert_eq!(v.entries, ["Purchase", "Lead"]);
    assert_eq!(v.accounts[0].account.as_str(), "act_2");
    assert_eq!(v.accounts[0].missing, ["Purchase"]);
    assert_eq!(v.accounts[0].excluded, ["Lead"]);
}

#[test]
fn daily_counts_fill_rows_and_account_totals() {
    let d = account(vec![entry("A", R1)]);
    let l = [conv("1", "A", R1, 9, Some((1, 1)))];
    let (health, findings, _) = judge(&d, &l, &Thresholds::default());
    let mut judged = vec![(health, findings)];
    let counts = HashMap::from([(
        ConversionId::parse("1").unwrap(),
        DailyCounts {
            daily: vec![1, 0, 3],
        },
    )]);
    attach_stats(&mut judged, &counts);
    assert_eq!(judged[0].0.events, Some(4));
    assert_eq!(
        judged[0].0.conversions[0].stats,
        Some(StatsShown {
            total: 4,
            daily: vec![1, 0, 3]
        })
    );
}
