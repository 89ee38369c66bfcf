//! The report for a terminal: the fleet's counts, then each account with something to say
//! (unreadable ones first, then problems, drift and housekeeping), one line per finding and per
//! change; accounts with nothing to say are one line each at the end.

use super::{
    drift_words, finding_detail, findings_of, headline, kind_counts, shown_time, thresholds_words,
};
use crate::model::names;
use crate::render::quoted;
use crate::render::text::Painter;
use crate::report::{AccountHealth, HealthReport};
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

/// The whole report as text.
pub fn render(report: &HealthReport, color: bool) -> String {
    let mut out = Vec::new();
    render_to(&mut out, report, color).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the report is UTF-8")
}

/// Writes the report to `out`, account by account.
pub fn render_to(out: &mut impl Write, report: &HealthReport, color: bool) -> io::Result<()> {
    let p = Painter(color);
    let bold = Style::new().bold();
    writeln!(
        out,
        "{}",
        p.paint(bold, &format!("Conversion health, {}", shown_time(report)))
    )?;
    writeln!(out, "{}", headline(report))?;
    writeln!(out, "Findings: {}", kind_counts(&report.summary.findings))?;
    let s = &report.summary;
    if s.drift.changes() > 0 {
        writeln!(
            out,
            "Drift: {} of {} account(s); to converge: {}",
            s.accounts_with_drift,
            s.accounts,
            drift_words(&s.drift)
        )?;
    } else {
        writeln!(out, "Drift: none")?;
    }
    if s.accounts_unreadable > 0 {
        writeln!(
            out,
            "{}",
            p.paint(
                AnsiColor::Red.on_default(),
                &format!("Unreadable: {} account(s)", s.accounts_unreadable)
            )
        )?;
    }
    writeln!(out, "Thresholds: {}", thresholds_words(report))?;
    let (quiet, loud): (Vec<&AccountHealth>, Vec<&AccountHealth>) =
        report.accounts.iter().partition(|a| {
            a.error.is_none() && a.finding_count() == 0 && !a.has_drift() && a.warnings.is_empty()
        });
    for account in loud {
        writeln!(out)?;
        account_block(out, account, p)?;
    }
    if !quiet.is_empty() {
        writeln!(out)?;
        for account in quiet {
            writeln!(
                out,
                "{}  {}: {} conversion(s), nothing to report{}",
                account.account,
                cap_words(account),
                account.conversions.len(),
                events_words(account)
            )?;
        }
    }
    Ok(())
}

fn account_block(out: &mut impl Write, a: &AccountHealth, p: Painter) -> io::Result<()> {
    let bold = Style::new().bold();
    if let Some(error) = &a.error {
        writeln!(
            out,
            "{}  {}",
            p.paint(bold, a.account.as_str()),
            names::escaped(&a.source)
        )?;
        writeln!(
            out,
            "  {}",
            p.paint(
                AnsiColor::Red.on_default(),
                &format!("could not be read: {error}")
            )
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "{}  {}  {}{}",
        p.paint(bold, a.account.as_str()),
        names::escaped(&a.source),
        cap_words(a),
        events_words(a)
    )?;
    for (kind, row) in findings_of(a) {
        let style = match kind {
            k if k.is_problem() => AnsiColor::Red.on_default(),
            _ => AnsiColor::Yellow.on_default(),
        };
        let id = row.id.as_ref().map_or("", |i| i.as_str());
        writeln!(
            out,
            "  {}  {} ({id}){}  {}",
            p.paint(style, &format!("{:<15}", kind.as_str())),
            quoted(&row.name),
            row.set
                .as_deref()
                .map(|s| format!(" [set {}]", quoted(s)))
                .unwrap_or_default(),
            finding_detail(kind, row)
        )?;
    }
    for entry in &a.drift.entries {
        let mark = match entry.action {
            "create" => "+",
            "update" => "~",
            "replace" => "-/+",
            _ => "-",
        };
        writeln!(
            out,
            "  {}  {mark} {} {}",
            p.paint(AnsiColor::Cyan.on_default(), &format!("{:<15}", "drift")),
            quoted(&entry.name),
            entry.describe()
        )?;
    }
    for warning in &a.warnings {
        writeln!(out, "  warning: {warning}")?;
    }
    Ok(())
}

/// `cap 12/100`.
fn cap_words(a: &AccountHealth) -> String {
    format!("cap {}/{}", a.cap.live, a.cap.limit)
}

/// `, 1234 event(s) in the window` with `--stats`.
fn events_words(a: &AccountHealth) -> String {
    a.events
        .map(|e| format!(", {e} event(s) in the window"))
        .unwrap_or_default()
}
