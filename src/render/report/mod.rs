//! Renderings of the health report (`convctl report`): `text` for a terminal, `markdown` for a
//! CI step summary or an issue (bounded), `html` a self-contained page for a browser; the JSON
//! is the document itself (`HealthReport::write_json`).
//!
//! Every string from the manifests or the API (names, sets, messages) is hostile input: the
//! text quotes names as JSON strings, markdown escapes what would format or break a table,
//! HTML escapes everything.

pub mod html;
pub mod markdown;
mod sparkline;
pub mod text;

use crate::report::{ConversionHealth, DriftCounts, FleetSummary, HealthReport, Kind};

/// `1 flagged by Meta, 2 never fired, …` (kinds with none left out; `no findings`).
pub(crate) fn kind_counts(counts: &std::collections::BTreeMap<Kind, usize>) -> String {
    let parts: Vec<String> = Kind::ALL
        .iter()
        .filter_map(|k| {
            let n = counts.get(k).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", k.label()))
        })
        .collect();
    if parts.is_empty() {
        "no findings".to_string()
    } else {
        parts.join(", ")
    }
}

/// The changes `plan` would make, only those there are: `1 to create, 2 to update`.
pub(crate) fn drift_short(d: &DriftCounts) -> String {
    let parts: Vec<String> = [
        (d.create, "to create"),
        (d.update, "to update"),
        (d.replace, "to replace"),
        (d.delete, "to delete"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// What a finding says after the conversion's name: the times it is based on.
pub(crate) fn finding_detail(kind: Kind, row: &ConversionHealth) -> String {
    let events = row
        .stats
        .as_ref()
        .map(|s| format!("; {} event(s) in the window", s.total))
        .unwrap_or_default();
    let threshold = threshold_for(kind, &row.expect_fire_within);
    match kind {
        Kind::NeverFired => format!(
            "created {}, never fired (expected within {threshold})",
            day(row.creation_time.as_deref())
        ),
        Kind::StoppedFiring => format!(
            "last fired {} (expected within {threshold}){events}",
            day(row.last_fired_time.as_deref())
        ),
        Kind::Flagged => format!(
            "is_unavailable: it matches no events; last fired {}",
            day(row.last_fired_time.as_deref())
        ),
        Kind::Unmanaged => format!(
            "no entry declares it; last fired {}{events}",
            day(row.last_fired_time.as_deref())
        ),
        Kind::Retired => "retired by convctl: archive it in Events Manager".to_string(),
        Kind::Archived => "archived: counts nothing, still counts toward the cap".to_string(),
    }
}

/// The threshold a finding crossed, from a row's `7d/30d`-style label.
fn threshold_for(kind: Kind, label: &str) -> String {
    match (kind, label.split_once('/')) {
        (Kind::NeverFired, Some((first, _))) => first.to_string(),
        (_, Some((_, last))) => last.to_string(),
        (_, None) => label.to_string(),
    }
}

/// Each finding of an account, kinds by severity, rows in the report's order.
pub(crate) fn findings_of(
    account: &crate::report::AccountHealth,
) -> impl Iterator<Item = (Kind, &ConversionHealth)> {
    Kind::ALL.into_iter().flat_map(move |kind| {
        account
            .conversions
            .iter()
            .filter(move |row| row.findings.contains(&kind))
            .map(move |row| (kind, row))
    })
}

/// `1 to create, 2 to update, 0 to replace, 0 to delete`.
pub(crate) fn drift_words(d: &DriftCounts) -> String {
    format!(
        "{} to create, {} to update, {} to replace, {} to delete",
        d.create, d.update, d.replace, d.delete
    )
}

/// The fleet's one-line headline: accounts, conversions firing, events.
pub(crate) fn headline(report: &HealthReport) -> String {
    let FleetSummary {
        accounts,
        conversions,
        firing,
        ..
    } = &report.summary;
    let mut line = format!(
        "{} account(s), {} live conversion(s), {} firing",
        thousands(*accounts as u64),
        thousands(*conversions as u64),
        thousands(*firing as u64)
    );
    if let (Some(events), Some(window)) = (report.summary.events, &report.stats_window) {
        line.push_str(&format!(
            "; {} event(s) in {} days",
            thousands(events),
            window.days
        ));
    }
    line
}

/// `61282848` as `61,282,848`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `never fired after 7d, stopped firing after 30d` (or the override).
pub(crate) fn thresholds_words(report: &HealthReport) -> String {
    let t = &report.thresholds;
    match &t.overridden_by_flag {
        Some(o) => format!("every conversion expected to fire within {o} (--expect-fire-within)"),
        None => format!(
            "never fired after {}, stopped firing after {}, unless an entry sets expect_fire_within",
            t.never_fired, t.stopped_firing
        ),
    }
}

/// The report's time, `2026-12-06 08:00 UTC`.
pub(crate) fn shown_time(report: &HealthReport) -> String {
    let t = &report.generated_at;
    match (t.get(..10), t.get(11..16)) {
        (Some(day), Some(hm)) => format!("{day} {hm} UTC"),
        _ => t.clone(),
    }
}

/// A time as a day, `2026-11-20` (the text as given when it is not a time).
pub(crate) fn day(time: Option<&str>) -> String {
    match time {
        None => "never".to_string(),
        Some(t) => t.get(..10).unwrap_or(t).to_string(),
    }
}
