//! The report as markdown, for a CI step summary or an issue, within a size bound: the fleet's
//! counts and the table of accounts that need attention always come first; each account's
//! findings and changes follow, problems first, whole accounts only, until the bound; a last
//! line says how many accounts are not shown and where the whole report is.

use super::{drift_short, finding_detail, findings_of, headline, shown_time, thresholds_words};
use crate::render::markdown::{code, escape, thousands};
use crate::report::{AccountHealth, HealthReport, Kind};
use std::fmt::Write as _;
use std::io::{self, Write};

/// Accounts listed in the attention table at most (the rest are counted).
const TABLE_ROWS: usize = 100;

/// Writes the report within `max_chars` (`None`: no bound); `full_report` is where the whole
/// one can be read (a CI run's artifacts), linked when something is left out.
pub fn render_to(
    out: &mut impl Write,
    report: &HealthReport,
    max_chars: Option<usize>,
    full_report: Option<&str>,
) -> io::Result<()> {
    out.write_all(render(report, max_chars, full_report).as_bytes())
}

/// The bounded markdown, as one string (its size is what is bounded).
pub fn render(
    report: &HealthReport,
    max_chars: Option<usize>,
    full_report: Option<&str>,
) -> String {
    let mut md = String::new();
    let s = &report.summary;
    let _ = writeln!(md, "## Conversion health, {}\n", shown_time(report));
    let _ = writeln!(md, "{}.\n", headline(report));
    md.push_str("| Finding | Conversions |\n| --- | ---: |\n");
    for kind in Kind::ALL {
        let n = s.findings.get(&kind).copied().unwrap_or(0);
        let mark = if n > 0 && kind.is_problem() {
            "🔴 "
        } else if n > 0 {
            "🟡 "
        } else {
            ""
        };
        let _ = writeln!(
            md,
            "| {mark}{} (`{}`) | {} |",
            kind.label(),
            kind.as_str(),
            thousands(n)
        );
    }
    let _ = writeln!(
        md,
        "| drift: accounts where `plan` would change something | {} |",
        thousands(s.accounts_with_drift)
    );
    if s.accounts_unreadable > 0 {
        let _ = writeln!(
            md,
            "| ⛔ accounts that could not be read | {} |",
            s.accounts_unreadable
        );
    }
    let _ = writeln!(md, "\nThresholds: {}.\n", thresholds_words(report));
    let attention: Vec<&AccountHealth> = report
        .accounts
        .iter()
        .filter(|a| a.error.is_some() || a.finding_count() > 0 || a.has_drift())
        .collect();
    if attention.is_empty() {
        md.push_str("Every account is in order: no findings, no drift.\n");
        return md;
    }
    let _ = writeln!(
        md,
        "### Accounts needing attention ({} of {})\n",
        attention.len(),
        s.accounts
    );
    md.push_str("| Account | Problems | Other findings | Drift | Cap |\n| --- | ---: | ---: | --- | ---: |\n");
    for a in attention.iter().take(TABLE_ROWS) {
        let drift = if a.error.is_some() {
            "could not be read".to_string()
        } else {
            drift_short(&a.drift.counts)
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {}/{} |",
            code(a.account.as_str()),
            a.problems(),
            a.finding_count() - a.problems(),
            drift,
            a.cap.live,
            a.cap.limit
        );
    }
    if attention.len() > TABLE_ROWS {
        let _ = writeln!(
            md,
            "\n{} more account(s) need attention.",
            attention.len() - TABLE_ROWS
        );
    }
    md.push('\n');
    let mut shown = 0;
    let reserve = 400;
    for a in &attention {
        let block = account_block(a);
        if max_chars.is_some_and(|max| md.len() + block.len() + reserve > max) {
            break;
        }
        md.push_str(&block);
        shown += 1;
    }
    if shown < attention.len() {
        let _ = write!(
            md,
            "\n_{} account(s) with findings or drift are not detailed here, to keep this within {} characters",
            attention.len() - shown,
            thousands(max_chars.unwrap_or(0))
        );
        match full_report {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                let _ = write!(
                    md,
                    "; the whole report: <{}>",
                    url.replace(['<', '>', ' '], "")
                );
            }
            _ => md.push_str("; the HTML report has every account"),
        }
        md.push_str("._\n");
    }
    md
}

/// One account's details: findings, then changes.
fn account_block(a: &AccountHealth) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "#### {} <sub>{}</sub>\n",
        code(a.account.as_str()),
        escape(&crate::model::names::escaped(&a.source))
    );
    if let Some(error) = &a.error {
        let _ = writeln!(md, "⛔ Could not be read: {}\n", escape(error));
        return md;
    }
    for (kind, row) in findings_of(a) {
        let mark = if kind.is_problem() { "🔴" } else { "🟡" };
        let _ = writeln!(
            md,
            "- {mark} **{}** {} <sub>{}</sub>: {}",
            kind.label(),
            code(&row.name),
            row.id.as_ref().map_or("", |i| i.as_str()),
            escape(&finding_detail(kind, row))
        );
    }
    for entry in &a.drift.entries {
        let _ = writeln!(
            md,
            "- 🔵 **drift** {} {}",
            code(&entry.name),
            escape(&entry.describe())
        );
    }
    md.push('\n');
    md
}
