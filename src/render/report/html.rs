//! The report as one self-contained HTML page: inline CSS and SVG only (no script, font or
//! image is loaded from anywhere), readable at hundreds of accounts, and printable.
//!
//! The order is what a person responsible for many accounts reads first: the fleet's counts
//! by kind, the accounts that need attention (unreadable, then problems, then drift) with
//! their cap headroom, the sets and the accounts that are out of line with them, then one
//! table per account (accounts with nothing to report folded). Every kind has a word and an
//! icon besides its colour. Everything that comes from a manifest or the API is escaped.
//!
//! Size and speed matter at 25,000 conversions: rows omit optional end tags, classes are
//! short, sparklines are one relative path each (`sparkline`), and each account's section is
//! laid out only when it scrolls into view (`content-visibility: auto`).

use super::sparkline;
use super::{day, drift_short, headline, shown_time, thousands, thresholds_words};
use crate::report::{AccountHealth, ConversionHealth, HealthReport, Kind, SetView, State};
use std::io::{self, Write};

/// Writes the page.
pub fn render_to(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    let title = format!("Conversion health, {}", shown_time(report));
    write!(
        out,
        "<!doctype html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n<meta name=viewport content=\"width=device-width,initial-scale=1\">\n<meta name=generator content=\"convctl {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&report.convctl_version),
        esc(&title)
    )?;
    header(out, report, &title)?;
    fleet(out, report)?;
    sets(out, &report.sets)?;
    accounts(out, report)?;
    write!(
        out,
        "<footer>Made by convctl {} (Graph API {}) at {}. The same report as data: <code>convctl report --format json</code> (report version {}).</footer>\n</body>\n</html>\n",
        esc(&report.convctl_version),
        esc(&report.api_version),
        esc(&report.generated_at),
        report.version
    )
}

/// The whole page as a string.
pub fn render(report: &HealthReport) -> String {
    let mut out = Vec::new();
    render_to(&mut out, report).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the page is UTF-8")
}

const STYLE: &str = r#"
:root{--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--bad:#b42318;--badbg:#fee4e2;--warn:#8a5a00;--warnbg:#fdf1d6;--ok:#1a7f37;--okbg:#dafbe1;--info:#0b57d0;--infobg:#ddeafd;--gone:#57606a;--gonebg:#eaeef2}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:24px 32px 48px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}h3{font-size:16px;margin:0;display:inline}
.meta,.mute{color:var(--mute)}.meta{margin:0 0 16px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}
.card b{display:block;font-size:28px;line-height:1.1;font-variant-numeric:tabular-nums}
.card small{display:block;color:var(--mute);font-size:12px;margin-top:2px}
.verdict{font-size:17px;font-weight:600;padding:10px 14px;border-radius:8px;margin:0 0 8px;border:1px solid}
.verdict.bad{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}.verdict.warn{color:var(--warn);background:var(--warnbg);border-color:#e9cf8f}.verdict.good{color:var(--ok);background:var(--okbg);border-color:#9bd4a9}
.legend{margin:8px 0 16px;font-size:14px}.legend summary{cursor:pointer;color:var(--mute)}.legend dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0}.legend dd{margin:0}
.card.bad{border-color:var(--bad);background:var(--badbg)}.card.warn{border-color:#e0b95a;background:var(--warnbg)}.card.zero{opacity:.75}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:middle}
th{font-weight:600;color:var(--mute);background:var(--soft);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.p td{background:#fff8f7}
.b{display:inline-block;border-radius:10px;padding:0 8px;margin:1px 2px 1px 0;font-size:12.5px;font-weight:600;white-space:nowrap;border:1px solid transparent}
.fl{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}.fl::before{content:"⚑ "}
.nf{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}.nf::before{content:"○ "}
.sf{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}.sf::before{content:"↘ "}
.um{color:var(--warn);background:var(--warnbg);border-color:#e9cf8f}.um::before{content:"? "}
.rt{color:var(--gone);background:var(--gonebg);border-color:#c9d1d9}.rt::before{content:"⌫ "}
.ar{color:var(--gone);background:var(--gonebg);border-color:#c9d1d9}.ar::before{content:"▪ "}
.dr{color:var(--info);background:var(--infobg);border-color:#a8c7fa}.dr::before{content:"≠ "}
.er{color:#fff;background:var(--bad)}.er::before{content:"⛔ "}
.ok{color:var(--ok)}.ok::before{content:"✓ "}td.f{color:var(--ok)}td.f::before{content:"✓ firing"}.wt{color:var(--mute)}.wt::before{content:"… "}.nc{color:var(--mute)}.nc::before{content:"– "}.ms{color:var(--info)}.ms::before{content:"+ "}
.cap{display:inline-flex;align-items:center;gap:6px;white-space:nowrap;font-variant-numeric:tabular-nums}
.bar{display:inline-block;width:90px;height:9px;border-radius:5px;background:var(--gonebg);overflow:hidden;border:1px solid #c9d1d9}
.bar i{display:block;height:100%;background:#6e7781}.bar.hi i{background:#bf8700}.bar.full i{background:var(--bad)}
svg{width:84px;height:18px;vertical-align:middle;overflow:visible;border-bottom:1px solid #d0d7de}svg path{fill:none;stroke:#0969da;stroke-width:1.6;vector-effect:non-scaling-stroke;stroke-linejoin:round;transform:scale(3,2)}
.acct{margin:14px 0;border:1px solid var(--line);border-radius:8px;content-visibility:auto;contain-intrinsic-size:auto 400px}
.acct.bad{border-color:#f3b4ae}
.acct summary{cursor:pointer;padding:10px 14px;background:var(--soft);border-radius:8px;list-style-position:outside}
.acct[open] summary{border-bottom:1px solid var(--line);border-radius:8px 8px 0 0}
.acct .in{padding:6px 14px 12px}
.acct table td:first-child{max-width:360px;overflow-wrap:anywhere}\n.cv.st td:nth-child(6){text-align:right;font-variant-numeric:tabular-nums}
.cv{table-layout:fixed}.cv th{white-space:nowrap;overflow:hidden}.cv th:nth-child(1){width:24%}.cv th:nth-child(2){width:16%}.cv th:nth-child(3){width:17%}.cv th:nth-child(4){width:10%}.cv.st th:nth-child(5){width:116px}.cv.st th:nth-child(6){width:64px}.cv td{overflow-wrap:anywhere}.cv .b{white-space:normal}
.warnings{color:var(--warn);margin:6px 0;padding-left:20px}
.error{color:var(--bad);font-weight:600}
ul.changes{margin:8px 0;padding-left:20px}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
footer{margin-top:40px;color:var(--mute);font-size:13px}
@media print{body{max-width:none;padding:0;font-size:11px}.card,.acct summary,th{background:none!important}.acct{break-inside:avoid-page;border:none;border-top:1px solid #999}tr{break-inside:avoid}a{color:inherit}svg path{stroke:#000}}
"#;

fn header(out: &mut impl Write, report: &HealthReport, title: &str) -> io::Result<()> {
    write!(
        out,
        "<header>\n<h1>{}</h1>\n<p class=meta>{}. Thresholds: {}.",
        esc(title),
        esc(&headline(report)),
        esc(&thresholds_words(report))
    )?;
    if let Some(w) = &report.stats_window {
        write!(
            out,
            " Daily counts {} to {} (UTC).",
            esc(&w.first_day),
            esc(&w.last_day)
        )?;
    }
    writeln!(out, "</p>")?;
    let s = &report.summary;
    let problems: usize = s
        .findings
        .iter()
        .filter(|(k, _)| k.is_problem())
        .map(|(_, n)| n)
        .sum();
    let (class, verdict) = if s.accounts_unreadable > 0 {
        (
            "verdict bad",
            format!(
                "⛔ {} of {} account(s) could not be read; {problems} conversion(s) with problems",
                s.accounts_unreadable, s.accounts
            ),
        )
    } else if problems > 0 {
        (
            "verdict bad",
            format!(
                "⚠ {problems} conversion(s) not counting in {} of {} account(s)",
                s.accounts_with_problems, s.accounts
            ),
        )
    } else if s.accounts_with_drift > 0 || s.findings.values().any(|n| *n > 0) {
        (
            "verdict warn",
            format!(
                "Every conversion counts; {} account(s) drifted, {} finding(s) to tidy",
                s.accounts_with_drift,
                s.findings.values().sum::<usize>()
            ),
        )
    } else {
        (
            "verdict good",
            format!("✓ All {} account(s) in order", s.accounts),
        )
    };
    writeln!(out, "<p class=\"{class}\">{}</p>\n</header>", esc(&verdict))
}

/// The cards by kind, and the table of accounts that need attention.
fn fleet(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    let s = &report.summary;
    writeln!(out, "<section id=fleet>\n<h2>Fleet</h2>\n<div class=cards>")?;
    if s.accounts_unreadable > 0 {
        writeln!(
            out,
            "<div class=\"card bad\"><b>{}</b><span class=\"b er\">unreadable</span><small>accounts</small></div>",
            s.accounts_unreadable
        )?;
    }
    for kind in Kind::ALL {
        let n = s.findings.get(&kind).copied().unwrap_or(0);
        let class = match (n, kind.is_problem()) {
            (0, _) => "card zero",
            (_, true) => "card bad",
            (_, false) => "card warn",
        };
        writeln!(
            out,
            "<div class=\"{class}\"><b>{}</b>{}<small>conversions</small></div>",
            thousands(n as u64),
            badge(kind)
        )?;
    }
    writeln!(
        out,
        "<div class=\"card{}\"><b>{}</b><span class=\"b dr\">drift</span><small>accounts of {}</small></div>\n</div>",
        if s.accounts_with_drift > 0 {
            " warn"
        } else {
            " zero"
        },
        s.accounts_with_drift,
        s.accounts
    )?;
    if s.drift.changes() > 0 {
        writeln!(
            out,
            "<p>To converge, <code>convctl apply</code> would: {}.</p>",
            esc(&drift_short(&s.drift))
        )?;
    }
    legend(out, report)?;
    let attention: Vec<&AccountHealth> = report
        .accounts
        .iter()
        .filter(|a| a.error.is_some() || a.finding_count() > 0 || a.has_drift())
        .collect();
    if attention.is_empty() {
        writeln!(
            out,
            "<p class=ok>Every account is in order: no findings, no drift.</p>"
        )?;
    } else {
        writeln!(
            out,
            "<h3>Accounts needing attention ({} of {})</h3>\n<table id=attention>\n<thead><tr><th>Account<th class=n>Problems<th>Findings<th>Drift<th>Cap</thead>\n<tbody>",
            attention.len(),
            s.accounts
        )?;
        for a in attention {
            write!(
                out,
                "<tr{}><td><a href=\"#{}\">{}</a><td class=n>{}<td>",
                if a.problems() > 0 || a.error.is_some() {
                    " class=p"
                } else {
                    ""
                },
                anchor(a),
                esc(a.account.as_str()),
                a.problems()
            )?;
            if a.error.is_some() {
                write!(out, "<span class=\"b er\">could not be read</span>")?;
            }
            for (kind, n) in &a.findings {
                if *n > 0 {
                    write!(
                        out,
                        "<span class=\"b {}\">{n} {}</span>",
                        class(*kind),
                        kind.label()
                    )?;
                }
            }
            write!(out, "<td>")?;
            if a.has_drift() {
                write!(out, "{}", esc(&drift_short(&a.drift.counts)))?;
            }
            writeln!(out, "<td>{}", cap(a))?;
        }
        writeln!(out, "</tbody>\n</table>")?;
    }
    writeln!(out, "</section>")
}

/// What each kind means, folded.
fn legend(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    let t = &report.thresholds;
    let (first, last) = match &t.overridden_by_flag {
        Some(o) => (o.clone(), o.clone()),
        None => (t.never_fired.clone(), t.stopped_firing.clone()),
    };
    let means = |kind: Kind| -> String {
        match kind {
            Kind::Flagged => "Meta flagged it (is_unavailable): it silently matches no events and cannot be used in new campaigns.".into(),
            Kind::NeverFired => format!("no event since it was created, longer ago than its threshold ({first} unless its entry sets expect_fire_within)."),
            Kind::StoppedFiring => format!("its last event is older than its threshold ({last} unless its entry sets expect_fire_within)."),
            Kind::Unmanaged => "live, but no entry of the manifests declares it.".into(),
            Kind::Retired => "renamed [retired YYYY-MM-DD] by convctl, which may not delete it: archive it in Events Manager.".into(),
            Kind::Archived => "archived: it counts nothing, and still takes a place under the 100-conversion cap.".into(),
        }
    };
    write!(
        out,
        "<details class=legend><summary>What the kinds mean</summary><dl>"
    )?;
    for kind in Kind::ALL {
        write!(out, "<dt>{}<dd>{}", badge(kind), esc(&means(kind)))?;
    }
    writeln!(
        out,
        "<dt><span class=\"b dr\">drift</span><dd>what <code>convctl plan</code> would change to make the account match its manifest.</dl></details>"
    )
}

/// The per-set view.
fn sets(out: &mut impl Write, sets: &[SetView]) -> io::Result<()> {
    if sets.is_empty() {
        return Ok(());
    }
    writeln!(out, "<section id=sets>\n<h2>Sets</h2>")?;
    for set in sets {
        writeln!(
            out,
            "<h3>{}</h3> <span class=mute>{} entries; {} of {} account(s) in line</span>",
            user(&set.set),
            set.entries.len(),
            set.in_line,
            set.uses
        )?;
        if set.accounts.is_empty() {
            writeln!(
                out,
                "<p class=ok>Every account that uses it has every entry, as the set says.</p>"
            )?;
            continue;
        }
        writeln!(
            out,
            "<table class=set>\n<thead><tr><th>Account<th>Missing (not live)<th>Differs<th>Left out (exclude)</thead>\n<tbody>"
        )?;
        for a in &set.accounts {
            let list = |items: &mut dyn Iterator<Item = String>| {
                items.map(|i| user(&i)).collect::<Vec<_>>().join(", ")
            };
            writeln!(
                out,
                "<tr><td><a href=\"#a-{}\">{}</a><td>{}<td>{}<td class=mute>{}",
                esc(a.account.as_str()),
                esc(a.account.as_str()),
                list(&mut a.missing.iter().cloned()),
                list(
                    &mut a
                        .differs
                        .iter()
                        .map(|d| format!("{} ({})", d.entry, d.action))
                ),
                list(&mut a.excluded.iter().cloned())
            )?;
        }
        writeln!(out, "</tbody>\n</table>")?;
    }
    writeln!(out, "</section>")
}

/// One section per account, in the report's order (attention first).
fn accounts(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    writeln!(out, "<section id=accounts>\n<h2>Accounts</h2>")?;
    let stats = report.stats_window.is_some();
    for a in &report.accounts {
        let attention = a.error.is_some() || a.finding_count() > 0 || a.has_drift();
        write!(
            out,
            "<details class=\"acct{}\" id=\"{}\"{}><summary><h3>{}</h3> <span class=mute>{}",
            if a.problems() > 0 || a.error.is_some() {
                " bad"
            } else {
                ""
            },
            anchor(a),
            if attention { " open" } else { "" },
            esc(a.account.as_str()),
            user(&a.source)
        )?;
        if !a.sets.is_empty() {
            write!(out, " · sets: {}", user(&a.sets.join(", ")))?;
        }
        write!(out, "</span> · {}", cap(a))?;
        if let Some(events) = a.events {
            write!(out, " · {events} events")?;
        }
        write!(out, "<br>")?;
        if a.error.is_some() {
            write!(out, "<span class=\"b er\">could not be read</span>")?;
        } else if a.finding_count() == 0 && !a.has_drift() {
            write!(
                out,
                "<span class=ok>in order: {} conversion(s)</span>",
                a.conversions.len()
            )?;
        }
        for (kind, n) in &a.findings {
            if *n > 0 {
                write!(
                    out,
                    "<span class=\"b {}\">{n} {}</span>",
                    class(*kind),
                    kind.label()
                )?;
            }
        }
        if a.has_drift() {
            write!(
                out,
                "<span class=\"b dr\">drift: {}</span>",
                esc(&drift_short(&a.drift.counts))
            )?;
        }
        writeln!(out, "</summary>\n<div class=in>")?;
        if let Some(error) = &a.error {
            writeln!(out, "<p class=error>Could not be read: {}</p>", esc(error))?;
        }
        if !a.warnings.is_empty() {
            writeln!(out, "<ul class=warnings>")?;
            for w in &a.warnings {
                writeln!(out, "<li>{}", esc(w))?;
            }
            writeln!(out, "</ul>")?;
        }
        if !a.conversions.is_empty() {
            write!(
                out,
                "<table class=\"cv{}\">\n<thead><tr><th>Conversion<th>Set<th>Health<th>Last fired",
                if stats { " st" } else { "" }
            )?;
            if stats {
                write!(out, "<th>Last 28 days<th class=n>Events")?;
            }
            // The events column is the sixth: right-aligned by the stylesheet, not per cell.
            writeln!(out, "<th>Drift</thead>\n<tbody>")?;
            for row in &a.conversions {
                conversion_row(out, row, stats)?;
            }
            writeln!(out, "</tbody>\n</table>")?;
        }
        writeln!(out, "</div>\n</details>")?;
    }
    writeln!(out, "</section>")
}

/// One row: short markup (optional end tags left out), since a fleet has tens of thousands.
fn conversion_row(out: &mut impl Write, row: &ConversionHealth, stats: bool) -> io::Result<()> {
    let problem = row.findings.iter().any(|k| k.is_problem());
    // The id is shown where a person will act on the conversion; the JSON has every id.
    let id = match &row.id {
        Some(id) if !row.findings.is_empty() || row.drift.is_some() => {
            format!(" title=\"id {}\"", esc(id.as_str()))
        }
        _ => String::new(),
    };
    write!(
        out,
        "<tr{}><td{id}>{}<td>{}",
        if problem { " class=p" } else { "" },
        user(&row.name),
        user(row.set.as_deref().unwrap_or(""))
    )?;
    if row.findings.is_empty() {
        let (class, word) = match row.state {
            // Most rows: the words come from the stylesheet (`td.f`), once for all of them.
            State::Firing => ("f", ""),
            State::Waiting => ("wt", "waiting for a first event"),
            State::NotChecked => ("nc", "not checked (off)"),
            State::Missing => ("ms", "not live yet"),
            other => ("nc", other.as_str()),
        };
        write!(out, "<td class={class}>{word}")?;
    } else {
        write!(out, "<td>")?;
        for kind in &row.findings {
            write!(out, "{}", badge(*kind))?;
        }
    }
    write!(out, "<td>{}", day(row.last_fired_time.as_deref()))?;
    if stats {
        match &row.stats {
            Some(s) => match sparkline::path(&s.daily) {
                Some(d) => write!(out, "<td><svg><path d=\"{d}\"/></svg><td>{}", s.total)?,
                None => write!(out, "<td class=mute>no events<td>0")?,
            },
            None => write!(out, "<td><td>")?,
        }
    }
    match &row.drift {
        Some(d) => writeln!(out, "<td><span class=\"b dr\">{}</span>", esc(d)),
        None => writeln!(out, "<td>"),
    }
}

/// The account's cap headroom as a bar and numbers.
fn cap(a: &AccountHealth) -> String {
    let pct = (a.cap.live * 100)
        .checked_div(a.cap.limit)
        .unwrap_or(0)
        .min(100);
    let class = match pct {
        p if p >= 95 => "bar full",
        p if p >= 80 => "bar hi",
        _ => "bar",
    };
    format!(
        "<span class=cap title=\"{} live ({} archived, {} retired), {} free\"><span class=\"{class}\"><i style=\"width:{pct}%\"></i></span>{}/{}</span>",
        a.cap.live, a.cap.archived, a.cap.retired, a.cap.headroom, a.cap.live, a.cap.limit
    )
}

fn badge(kind: Kind) -> String {
    format!("<span class=\"b {}\">{}</span>", class(kind), kind.label())
}

/// The short class of a kind (its colour and icon in the stylesheet).
fn class(kind: Kind) -> &'static str {
    match kind {
        Kind::Flagged => "fl",
        Kind::NeverFired => "nf",
        Kind::StoppedFiring => "sf",
        Kind::Unmanaged => "um",
        Kind::Retired => "rt",
        Kind::Archived => "ar",
    }
}

/// The account's element id (`a-act_1`).
fn anchor(a: &AccountHealth) -> String {
    format!("a-{}", esc(a.account.as_str()))
}

/// User text (a name, a set, a path) for HTML: shown as every output shows names (invisible
/// characters and a name not in NFC as codes, `crate::model::names`), then escaped.
fn user(text: &str) -> String {
    esc(&crate::model::names::escaped(text))
}

/// Text for HTML content and attribute values: `&`, `<`, `>`, `"` and `'` as entities.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
