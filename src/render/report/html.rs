//! The report as one self-contained HTML page: inline CSS only (no script, font or image is
//! loaded from anywhere), readable at hundreds of accounts, and printable.
//!
//! The order is what a person responsible for many accounts reads first: the fleet's counts
//! by kind, the accounts that need attention (unreadable, then problems, then drift) with
//! their cap headroom, the sets and the accounts that are out of line with them, then one
//! table per account (accounts with nothing to report folded). Every kind has a word and an
//! icon besides its colour. Everything that comes from a manifest or the API is escaped.
//!
//! Size matters: 500 accounts of 50 conversions with daily counts must stay under 3 MB, about
//! 120 bytes a conversion, a third of them its name. So the markup a row carries is what that
//! row has to say (docs/BENCHMARKS.md, section "report", measures each choice):
//! - a sparkline is 14 Braille characters (`sparkline`), not an SVG path three times as long;
//! - the table of an account has a Set column only when one of its conversions comes from a
//!   set, and a Drift column only when one of them drifted;
//! - a conversion that fired on the report's day, with no finding and no drift (most of them),
//!   is a row without a class and without a Health cell: the stylesheet draws that cell
//!   ("✓ fired today") as the row's last, generated, cell;
//! - a row with one finding has the finding's kind as its class, and its Health cell (the last,
//!   or the last but one before Drift) says the finding and its evidence in words (the
//!   stylesheet adds the colour and the icon); a row with more findings has them as badges;
//! - a conversion's id is a tooltip where it is acted on in Events Manager rather than in the
//!   manifests (flagged, unmanaged, retired, archived); the JSON has every id;
//! - a plan's warning that a conversion is flagged is not repeated above the table when it says
//!   no more than the conversion's row and the legend;
//! - the accounts needing attention are a table of counts, one column per kind;
//! - end tags, quotes and classes are left out where HTML allows it.
//!
//! Each account's section is laid out only when it scrolls into view
//! (`content-visibility: auto`), which keeps Chromium's load of 25,000 rows under a second.

use super::sparkline;
use super::{day, drift_short, headline, shown_time, thousands, thresholds_words};
use crate::model::names::quoted;
use crate::plan::flagged_warning;
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

/// The stylesheet. Tables of conversions (`.cv`) come in variants by their columns: `.st`
/// with the daily counts (a sparkline and an events column), `.se` with a Set column, `.dt`
/// with a Drift column; the rules that find a column by its position name the variant. A
/// badge is a `b` with a kind's class; a row with a kind's class has its Health cell last.
const STYLE: &str = r#"
:root{--fg:#1b1f24;--mute:#57606a;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--bad:#b42318;--badbg:#fee4e2;--warn:#8a5a00;--warnbg:#fdf1d6;--ok:#1a7f37;--okbg:#dafbe1;--info:#0b57d0;--infobg:#ddeafd;--gone:#57606a;--gonebg:#eaeef2;--spark:#0969da;--bar:#6e7781}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1280px;padding:24px 32px 48px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:36px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}h3{font-size:16px;margin:0;display:inline}
.meta,.mute{color:var(--mute)}.meta{margin:0 0 16px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:var(--soft)}
.card strong{display:block;font-size:28px;line-height:1.1;font-variant-numeric:tabular-nums}
.card small{display:block;color:var(--mute);font-size:12px;margin-top:2px}
.verdict{font-size:17px;font-weight:600;padding:10px 14px;border-radius:8px;margin:0 0 8px;border:1px solid}
.verdict.bad{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}.verdict.warn{color:var(--warn);background:var(--warnbg);border-color:#e9cf8f}.verdict.good{color:var(--ok);background:var(--okbg);border-color:#9bd4a9}
.legend{margin:8px 0 16px;font-size:14px}.legend summary{cursor:pointer;color:var(--mute)}.legend dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:8px 0}.legend dd{margin:0}
.card.bad{border-color:var(--bad);background:var(--badbg)}.card.warn{border-color:#e0b95a;background:var(--warnbg)}.card.zero{opacity:.75}
table{border-collapse:collapse;width:100%;font-size:14px}
tr{border-bottom:1px solid var(--line)}
th,td{text-align:left;padding:5px 8px;vertical-align:middle}
th{font-weight:600;color:var(--mute);background:var(--soft);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
#attention th{white-space:normal;overflow-wrap:anywhere;letter-spacing:0}
tr.p,tr.fl,tr.nf,tr.sf{background:#fff8f7}
b[class]{display:inline-block;border-radius:10px;padding:0 8px;margin:1px 2px 1px 0;font-size:12.5px;font-weight:600;white-space:nowrap;border:1px solid transparent}
b.fl,b.nf,b.sf{color:var(--bad);background:var(--badbg);border-color:#f3b4ae}b.um{color:var(--warn);background:var(--warnbg);border-color:#e9cf8f}b.rt,b.ar{color:var(--gone);background:var(--gonebg);border-color:#c9d1d9}b.dr{color:var(--info);background:var(--infobg);border-color:#a8c7fa}b.er{color:#fff;background:var(--bad)}
.cv:not(.dt) :is(.fl,.nf,.sf)>td:last-child,.dt :is(.fl,.nf,.sf)>td:nth-last-child(2){color:var(--bad)}.cv:not(.dt) .um>td:last-child,.dt .um>td:nth-last-child(2){color:var(--warn)}.cv:not(.dt) :is(.rt,.ar)>td:last-child,.dt :is(.rt,.ar)>td:nth-last-child(2){color:var(--gone)}
b.fl::before,.cv:not(.dt) .fl>td:last-child::before,.dt .fl>td:nth-last-child(2)::before{content:"⚑ "}b.nf::before,.cv:not(.dt) .nf>td:last-child::before,.dt .nf>td:nth-last-child(2)::before{content:"○ "}b.sf::before,.cv:not(.dt) .sf>td:last-child::before,.dt .sf>td:nth-last-child(2)::before{content:"↘ "}b.um::before,.cv:not(.dt) .um>td:last-child::before,.dt .um>td:nth-last-child(2)::before{content:"? "}b.rt::before,.cv:not(.dt) .rt>td:last-child::before,.dt .rt>td:nth-last-child(2)::before{content:"⌫ "}b.ar::before,.cv:not(.dt) .ar>td:last-child::before,.dt .ar>td:nth-last-child(2)::before{content:"▪ "}b.dr::before{content:"≠ "}b.er::before{content:"⛔ "}
.ok,.f{color:var(--ok)}.ok::before,.f::before{content:"✓ "}.wt{color:var(--mute)}.wt::before{content:"… "}.nc{color:var(--mute)}.nc::before{content:"– "}.ms{color:var(--info)}.ms::before{content:"+ "}
.cv tbody tr:not([class])::after{display:table-cell;content:"✓ fired today";color:var(--ok);padding:5px 8px;vertical-align:middle}
.cap,.caph,.capf{white-space:nowrap;font-variant-numeric:tabular-nums;padding-left:98px;background:linear-gradient(var(--bar) 0 0) 0 50%/calc(var(--c) * .9px) 9px no-repeat,linear-gradient(var(--gonebg) 0 0) 0 50%/90px 9px no-repeat;print-color-adjust:exact;-webkit-print-color-adjust:exact}
td:is(.cap,.caph,.capf){padding-left:106px;background-position:8px 50%}
.caph{--bar:#bf8700}.capf{--bar:var(--bad)}
#attention{table-layout:fixed}#attention th:first-child{width:15%}#attention th:nth-last-child(2){width:14%}#attention th:last-child{width:164px}
#attention td:nth-child(n+2):nth-child(-n+7),#attention th:nth-child(n+2):nth-child(-n+7){text-align:right;font-variant-numeric:tabular-nums}
#attention td:nth-child(n+2):nth-child(-n+4){color:var(--bad);font-weight:600}
.st:not(.se) :is(td,th):nth-child(3),.st.se :is(td,th):nth-child(4){text-align:right;font-variant-numeric:tabular-nums}
.st:not(.se) td:nth-child(2),.st.se td:nth-child(3){color:var(--spark);font-size:16px;line-height:1;white-space:nowrap;overflow-wrap:normal;text-decoration:underline 1px var(--line);text-underline-offset:2px;text-decoration-skip-ink:none}
.acct{margin:14px 0;border:1px solid var(--line);border-radius:8px;content-visibility:auto;contain-intrinsic-size:auto 400px}
.acct.bad{border-color:#f3b4ae}
.acct summary{cursor:pointer;padding:10px 14px;background:var(--soft);border-radius:8px;list-style-position:outside}
.acct[open] summary{border-bottom:1px solid var(--line);border-radius:8px 8px 0 0}
.acct>table,.acct>ul,.acct>p{margin:6px 14px 12px;width:calc(100% - 28px)}
.cv{table-layout:fixed}.cv th{white-space:nowrap;overflow:hidden}.cv td{overflow-wrap:anywhere}.cv b[class]{white-space:normal}
.cv th:first-child{width:32%}.cv.se th:nth-child(2){width:15%}.st:not(.se) th:nth-child(2),.st.se th:nth-child(3){width:184px}.st:not(.se) th:nth-child(3),.st.se th:nth-child(4){width:76px}.cv.dt th:last-child{width:18%}
.warnings{color:var(--warn);padding-left:34px}
.error{color:var(--bad);font-weight:600}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
footer{margin-top:40px;color:var(--mute);font-size:13px}
@media print{body{max-width:none;padding:0;font-size:11px}.card,.acct summary,th{background:none!important}.acct{border:none;border-top:1px solid #999}tr{break-inside:avoid}a{color:inherit}:root{--spark:#000}.cv th:first-child{width:28%}.st:not(.se) th:nth-child(2),.st.se th:nth-child(3){width:132px}.st:not(.se) td:nth-child(2),.st.se td:nth-child(3){font-size:11px}}
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
            "<div class=\"card bad\"><strong>{}</strong><b class=er>unreadable</b><small>accounts</small></div>",
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
            "<div class=\"{class}\"><strong>{}</strong>{}<small>conversions</small></div>",
            thousands(n as u64),
            badge(kind)
        )?;
    }
    writeln!(
        out,
        "<div class=\"card{}\"><strong>{}</strong><b class=dr>drift</b><small>accounts of {}</small></div>\n</div>",
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
        .filter(|a| needs_attention(a))
        .collect();
    if attention.is_empty() {
        writeln!(
            out,
            "<p class=ok>Every account is in order: no findings, no drift.</p>"
        )?;
    } else {
        write!(
            out,
            "<h3>Accounts needing attention ({} of {})</h3>\n<table id=attention>\n<thead><tr><th>Account",
            attention.len(),
            s.accounts
        )?;
        // The kinds' icons and words head their columns: badges would not fit a narrow page.
        for kind in Kind::ALL {
            write!(out, "<th>{} {}", icon(kind), kind.label())?;
        }
        writeln!(out, "<th>Drift<th>Cap</thead>")?;
        for a in attention {
            // Account ids are `act_` and digits: safe as unquoted attribute values.
            write!(
                out,
                "<tr{}><td><a href=#{}>{}</a>",
                if a.problems() > 0 || a.error.is_some() {
                    " class=p"
                } else {
                    ""
                },
                anchor(a),
                esc(a.account.as_str()),
            )?;
            if a.error.is_some() {
                write!(
                    out,
                    "<td colspan={}><b class=er>could not be read</b>",
                    Kind::ALL.len()
                )?;
            } else {
                // A count per kind; none is an empty cell, so that the counts stand out.
                for kind in Kind::ALL {
                    match a.findings.get(&kind).copied().unwrap_or(0) {
                        0 => write!(out, "<td>")?,
                        n => write!(out, "<td>{n}")?,
                    }
                }
            }
            write!(out, "<td>")?;
            if a.has_drift() {
                write!(out, "{}", esc(&drift_short(&a.drift.counts)))?;
            }
            let (attributes, text) = cap(a);
            writeln!(out, "<td{attributes}>{text}")?;
        }
        writeln!(out, "</table>")?;
    }
    writeln!(out, "</section>")
}

/// What each kind means, and how to read a row, folded.
fn legend(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    let t = &report.thresholds;
    let (first, last) = match &t.overridden_by_flag {
        Some(o) => (o.clone(), o.clone()),
        None => (t.never_fired.clone(), t.stopped_firing.clone()),
    };
    let means = |kind: Kind| -> String {
        match kind {
            Kind::Flagged => "Meta flagged it (is_unavailable): it silently stopped counting events, edits are refused, and it cannot be used in new campaigns; Meta's help on flagged custom conversions says why and what to do.".into(),
            Kind::NeverFired => format!("no event since it was created, longer ago than its threshold ({first} unless its entry sets expect_fire_within)."),
            Kind::StoppedFiring => format!("its last event is older than its threshold ({last} unless its entry sets expect_fire_within)."),
            Kind::Unmanaged => "live, but no entry of the manifests declares it.".into(),
            Kind::Retired => "renamed [retired YYYY-MM-DD] by convctl, which may not delete it: archive it in Events Manager.".into(),
            Kind::Archived => "archived: it counts nothing, and still takes a place under the 100-conversion cap.".into(),
        }
    };
    write!(
        out,
        "<details class=legend><summary>What the kinds mean, and how to read a row</summary><dl>"
    )?;
    for kind in Kind::ALL {
        write!(out, "<dt>{}<dd>{}", badge(kind), esc(&means(kind)))?;
    }
    write!(
        out,
        "<dt><b class=dr>drift</b><dd>what <code>convctl plan</code> would change to make the account match its manifest.<dt><span class=ok>fired today</span><dd>no finding, and its last event is from the report's day (UTC); otherwise the row gives the day of its last event. Hover a conversion that is flagged, unmanaged, retired or archived for its id; the JSON report has every id."
    )?;
    if let Some(w) = &report.stats_window {
        write!(
            out,
            "<dt>Last {} days<dd>one bar a day, {} to {} (UTC), four dots high at the conversion's busiest day; a day with any event has at least one dot, a day without none. Events: their total over those days.",
            w.days,
            esc(&w.first_day),
            esc(&w.last_day)
        )?;
    }
    writeln!(out, "</dl></details>")
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
            "<table class=set>\n<thead><tr><th>Account<th>Missing (not live)<th>Differs<th>Left out (exclude)</thead>"
        )?;
        for a in &set.accounts {
            let list = |items: &mut dyn Iterator<Item = String>| {
                items.map(|i| user(&i)).collect::<Vec<_>>().join(", ")
            };
            writeln!(
                out,
                "<tr><td><a href=#a-{}>{}</a><td>{}<td>{}<td class=mute>{}",
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
        writeln!(out, "</table>")?;
    }
    writeln!(out, "</section>")
}

/// The columns an account's table has.
#[derive(Clone, Copy)]
struct Columns {
    /// A sparkline and the events' total (`--stats`).
    stats: bool,
    /// One of its conversions comes from a set.
    set: bool,
    /// One of its conversions drifted.
    drift: bool,
}

/// One section per account, in the report's order (attention first).
fn accounts(out: &mut impl Write, report: &HealthReport) -> io::Result<()> {
    writeln!(out, "<section id=accounts>\n<h2>Accounts</h2>")?;
    let today = report.generated_at.get(..10).unwrap_or("");
    let default_threshold = default_threshold(report);
    for a in &report.accounts {
        write!(
            out,
            "<details class={} id={}{}><summary><h3>{}</h3> <span class=mute>{}",
            if a.problems() > 0 || a.error.is_some() {
                "\"acct bad\""
            } else {
                "acct"
            },
            anchor(a),
            if needs_attention(a) { " open" } else { "" },
            esc(a.account.as_str()),
            user(&a.source)
        )?;
        if !a.sets.is_empty() {
            write!(out, " · sets: {}", user(&a.sets.join(", ")))?;
        }
        let (attributes, text) = cap(a);
        write!(out, "</span> · <span{attributes}>{text}</span>")?;
        if let Some(events) = a.events {
            write!(out, " · {} events", thousands(events))?;
        }
        write!(out, "<br>")?;
        if a.error.is_some() {
            write!(out, "<b class=er>could not be read</b>")?;
        } else if a.finding_count() == 0 && !a.has_drift() {
            write!(
                out,
                "<span class=ok>in order: {} conversion(s)</span>",
                a.conversions.len()
            )?;
        }
        kind_badges(out, a)?;
        if a.has_drift() {
            write!(
                out,
                "<b class=dr>drift: {}</b>",
                esc(&drift_short(&a.drift.counts))
            )?;
        }
        writeln!(out, "</summary>")?;
        if let Some(error) = &a.error {
            writeln!(out, "<p class=error>Could not be read: {}</p>", esc(error))?;
        }
        // A flagged conversion's row says it: the plan's warning about it is not repeated,
        // unless it says more (what convctl does not send).
        let flagged: Vec<String> = a
            .conversions
            .iter()
            .filter(|row| row.findings.contains(&Kind::Flagged))
            .filter_map(|row| Some(flagged_warning(&quoted(&row.name), row.id.as_ref()?)))
            .collect();
        let said_by_a_row = |w: &str| {
            flagged.iter().any(|f| {
                w == f
                    || w.strip_suffix(f.as_str())
                        .is_some_and(|place| place.ends_with(": "))
            })
        };
        let warnings: Vec<&String> = a.warnings.iter().filter(|w| !said_by_a_row(w)).collect();
        if !warnings.is_empty() {
            writeln!(out, "<ul class=warnings>")?;
            for w in warnings {
                writeln!(out, "<li>{}", esc(w))?;
            }
            writeln!(out, "</ul>")?;
        }
        if !a.conversions.is_empty() {
            let columns = Columns {
                stats: report.stats_window.is_some(),
                set: a.conversions.iter().any(|c| c.set.is_some()),
                drift: a.conversions.iter().any(|c| c.drift.is_some()),
            };
            let variant: Vec<&str> = [
                ("cv", true),
                ("st", columns.stats),
                ("se", columns.set),
                ("dt", columns.drift),
            ]
            .into_iter()
            .filter_map(|(class, on)| on.then_some(class))
            .collect();
            let variant = variant.join(" ");
            if variant.contains(' ') {
                write!(
                    out,
                    "<table class=\"{variant}\">\n<thead><tr><th>Conversion"
                )?;
            } else {
                write!(out, "<table class={variant}>\n<thead><tr><th>Conversion")?;
            }
            if columns.set {
                write!(out, "<th>Set")?;
            }
            if let Some(w) = report.stats_window.as_ref().filter(|_| columns.stats) {
                write!(out, "<th>Last {} days<th>Events", w.days)?;
            }
            write!(out, "<th>Health")?;
            if columns.drift {
                write!(out, "<th>Drift")?;
            }
            writeln!(out, "</thead>")?;
            for row in &a.conversions {
                conversion_row(out, row, columns, today, &default_threshold)?;
            }
            writeln!(out, "</table>")?;
        }
        writeln!(out, "</details>")?;
    }
    writeln!(out, "</section>")
}

/// One row: markup as short as HTML allows (no end tags, no quotes where none are needed),
/// since a fleet has tens of thousands. Most rows are a conversion that fired today, with no
/// finding and no drift: a row without a class and without a Health cell (the stylesheet draws
/// it).
fn conversion_row(
    out: &mut impl Write,
    row: &ConversionHealth,
    columns: Columns,
    today: &str,
    default_threshold: &str,
) -> io::Result<()> {
    let fired_today = row.last_fired_time.as_deref().and_then(|t| t.get(..10)) == Some(today);
    let plain =
        row.findings.is_empty() && row.drift.is_none() && row.state == State::Firing && fired_today;
    // One finding: the row has the kind's class, and its Health cell says it in words.
    let single = match row.findings.as_slice() {
        [kind] => Some(*kind),
        _ => None,
    };
    if plain {
        write!(out, "<tr><td>{}", user(&row.name))?;
    } else {
        let class = match single {
            Some(kind) => class(kind),
            None if row.findings.iter().any(|k| k.is_problem()) => "p",
            None => "q",
        };
        write!(out, "<tr class={class}><td")?;
        // The id where a person acts on the conversion in Events Manager rather than in the
        // manifests; the JSON has every id.
        let outside = row.findings.iter().any(|k| {
            matches!(
                k,
                Kind::Flagged | Kind::Unmanaged | Kind::Retired | Kind::Archived
            )
        });
        if let Some(id) = row.id.as_ref().filter(|_| outside) {
            write!(out, " title=\"id {}\"", esc(id.as_str()))?;
        }
        write!(out, ">{}", user(&row.name))?;
    }
    if columns.set {
        write!(out, "<td>{}", user(row.set.as_deref().unwrap_or("")))?;
    }
    if columns.stats {
        match &row.stats {
            Some(s) => match sparkline::bars(&s.daily) {
                Some(bars) => write!(out, "<td>{bars}<td>{}", count(s.total))?,
                None => write!(out, "<td><td>0")?,
            },
            None => write!(out, "<td><td>")?,
        }
    }
    if plain {
        return writeln!(out);
    }
    health(out, row, single, fired_today, default_threshold)?;
    // In a table with a Drift column, every row that has its cells has that one too (its
    // background spans the table, and its Health cell is the last but one).
    match &row.drift {
        Some(d) => writeln!(out, "<td><b class=dr>{}</b>", esc(d)),
        None if columns.drift => writeln!(out, "<td>"),
        None => writeln!(out),
    }
}

/// A count of events: digits up to 9999, grouped by thousands from 10,000.
fn count(n: u64) -> String {
    if n < 10_000 {
        n.to_string()
    } else {
        thousands(n)
    }
}

/// A row's Health cell: its findings and the times they are based on, or its state in words.
/// `single`: the row's one finding, which its class shows (words only, no badge).
fn health(
    out: &mut impl Write,
    row: &ConversionHealth,
    single: Option<Kind>,
    fired_today: bool,
    default_threshold: &str,
) -> io::Result<()> {
    let last = |t: Option<&str>| match t {
        Some(t) => format!("last fired {}", day(Some(t))),
        None => "never fired".to_string(),
    };
    if row.findings.is_empty() {
        let (class, words) = match row.state {
            State::Firing if fired_today => ("f", "fired today".to_string()),
            State::Firing => (
                "f",
                format!("fired {}", day(row.last_fired_time.as_deref())),
            ),
            State::Waiting => (
                "wt",
                format!(
                    "waiting for a first event (created {})",
                    day(row.creation_time.as_deref())
                ),
            ),
            State::NotChecked => (
                "nc",
                format!(
                    "not checked (off); {}",
                    last(row.last_fired_time.as_deref())
                ),
            ),
            State::Missing => ("ms", "not live yet".to_string()),
            other => ("nc", other.as_str().to_string()),
        };
        return write!(out, "<td class={class}>{}", esc(&words));
    }
    // The evidence: what the findings are based on, once.
    let mut evidence = Vec::new();
    if row.findings.contains(&Kind::NeverFired) {
        evidence.push(format!("created {}", day(row.creation_time.as_deref())));
    } else if row
        .findings
        .iter()
        .any(|k| matches!(k, Kind::StoppedFiring | Kind::Flagged | Kind::Unmanaged))
    {
        evidence.push(last(row.last_fired_time.as_deref()));
    }
    if row
        .findings
        .iter()
        .any(|k| matches!(k, Kind::NeverFired | Kind::StoppedFiring))
        && row.expect_fire_within != default_threshold
    {
        evidence.push(format!("expected within {}", row.expect_fire_within));
    }
    write!(out, "<td>")?;
    match single {
        Some(kind) => {
            write!(out, "{}", kind.label())?;
            if !evidence.is_empty() {
                write!(out, ", ")?;
            }
        }
        None => {
            for kind in &row.findings {
                write!(out, "{}", badge(*kind))?;
            }
            if !evidence.is_empty() {
                write!(out, " ")?;
            }
        }
    }
    write!(out, "{}", esc(&evidence.join(", ")))
}

/// The threshold label of a conversion judged by the report's defaults (`7d/30d`, or the
/// flag's): a row judged by another one says it.
fn default_threshold(report: &HealthReport) -> String {
    let t = &report.thresholds;
    match &t.overridden_by_flag {
        Some(o) => o.clone(),
        None if t.never_fired == t.stopped_firing => t.never_fired.clone(),
        None => format!("{}/{}", t.never_fired, t.stopped_firing),
    }
}

/// The account has something to look at: it could not be read, has findings, or drifted.
fn needs_attention(a: &AccountHealth) -> bool {
    a.error.is_some() || a.finding_count() > 0 || a.has_drift()
}

/// An account's findings as badges with their counts.
fn kind_badges(out: &mut impl Write, a: &AccountHealth) -> io::Result<()> {
    for (kind, n) in &a.findings {
        if *n > 0 {
            write!(out, "<b class={}>{n} {}</b>", class(*kind), kind.label())?;
        }
    }
    Ok(())
}

/// The account's cap headroom as a bar and numbers: the attributes of the element that holds
/// it (its background, `--c` long, is the bar the stylesheet draws; a tooltip says what the
/// live count holds when some of it is archived or retired), and its text.
fn cap(a: &AccountHealth) -> (String, String) {
    let pct = (a.cap.live * 100)
        .checked_div(a.cap.limit)
        .unwrap_or(0)
        .min(100);
    let class = match pct {
        p if p >= 95 => "capf",
        p if p >= 80 => "caph",
        _ => "cap",
    };
    let mut attributes = format!(" class={class} style=--c:{pct}");
    if a.cap.archived + a.cap.retired > 0 {
        attributes.push_str(&format!(
            " title=\"{} live ({} archived, {} retired), {} free\"",
            a.cap.live, a.cap.archived, a.cap.retired, a.cap.headroom
        ));
    }
    (attributes, format!("{}/{}", a.cap.live, a.cap.limit))
}

fn badge(kind: Kind) -> String {
    format!("<b class={}>{}</b>", class(kind), kind.label())
}

/// The icon of a kind, as the stylesheet puts it before its badge.
fn icon(kind: Kind) -> &'static str {
    match kind {
        Kind::Flagged => "⚑",
        Kind::NeverFired => "○",
        Kind::StoppedFiring => "↘",
        Kind::Unmanaged => "?",
        Kind::Retired => "⌫",
        Kind::Archived => "▪",
    }
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

/// The account's element id (`a-act_1`): `act_` and digits, safe unquoted.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConversionId;
    use crate::model::ids::AdAccountId;
    use crate::model::stats::StatsWindow;
    use crate::report::{Cap, Drift, DriftCounts, StatsShown, Thresholds};

    const NOW: &str = "2026-12-06T08:00:00Z";

    /// A conversion of `act_1` firing every day up to today, in order.
    fn firing(id: &str, name: &str) -> ConversionHealth {
        ConversionHealth {
            id: Some(ConversionId::parse(id).unwrap()),
            name: name.to_string(),
            managed: true,
            set: None,
            state: State::Firing,
            findings: Vec::new(),
            creation_time: Some("2026-01-01T00:00:00Z".into()),
            first_fired_time: Some("2026-01-02T00:00:00Z".into()),
            last_fired_time: Some("2026-12-06T07:00:00Z".into()),
            expect_fire_within: "7d/30d".into(),
            stats: Some(StatsShown {
                total: 28 * 3,
                daily: vec![3; 28],
            }),
            drift: None,
        }
    }

    fn never_fired(id: &str, name: &str) -> ConversionHealth {
        ConversionHealth {
            state: State::Silent,
            findings: vec![Kind::NeverFired],
            creation_time: Some("2026-11-16T08:00:00Z".into()),
            first_fired_time: None,
            last_fired_time: None,
            stats: Some(StatsShown {
                total: 0,
                daily: vec![0; 28],
            }),
            ..firing(id, name)
        }
    }

    fn account(conversions: Vec<ConversionHealth>, warnings: Vec<String>) -> AccountHealth {
        let mut findings: std::collections::BTreeMap<Kind, usize> =
            Kind::ALL.iter().map(|k| (*k, 0)).collect();
        for row in &conversions {
            for kind in &row.findings {
                *findings.entry(*kind).or_default() += 1;
            }
        }
        let creates = conversions.iter().filter(|c| c.drift.is_some()).count();
        AccountHealth {
            account: AdAccountId::parse("act_1").unwrap(),
            source: "conversions/shop.yaml".into(),
            error: None,
            sets: Vec::new(),
            cap: Cap {
                live: conversions.len(),
                archived: 0,
                retired: 0,
                limit: 100,
                headroom: 100 - conversions.len(),
            },
            drift: Drift {
                counts: DriftCounts {
                    update: creates,
                    ..DriftCounts::default()
                },
                entries: Vec::new(),
            },
            conversions,
            findings,
            events: Some(0),
            warnings,
        }
    }

    fn page(account: AccountHealth, stats: bool) -> String {
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let report = HealthReport::new(
            "v27.0",
            now,
            &Thresholds::default(),
            stats.then(|| StatsWindow::ending_at(now)),
            vec![(account, Vec::new())],
            Vec::new(),
        );
        render(&report)
    }

    /// The rows of the page's account table, one a line.
    fn rows(page: &str) -> Vec<&str> {
        let table = &page[page.find("<table class=").expect("an account table")..];
        let table = &table[table.find("</thead>\n").unwrap() + "</thead>\n".len()..];
        table[..table.find("</table>").unwrap()].lines().collect()
    }

    #[test]
    fn a_conversion_that_fired_today_is_a_row_without_a_class_or_a_health_cell() {
        let html = page(account(vec![firing("11", "Purchase")], Vec::new()), true);
        let bars = sparkline::bars(&[3; 28]).unwrap();
        assert_eq!(rows(&html), [format!("<tr><td>Purchase<td>{bars}<td>84")]);
        assert!(
            html.contains("<table class=\"cv st\">\n<thead><tr><th>Conversion<th>Last 28 days<th>Events<th>Health</thead>"),
            "no Set and no Drift column: {html}"
        );
        // The stylesheet draws the missing cell for exactly these rows.
        assert!(STYLE.contains(
            ".cv tbody tr:not([class])::after{display:table-cell;content:\"✓ fired today\""
        ));
        let plain = page(account(vec![firing("11", "Purchase")], Vec::new()), false);
        assert_eq!(rows(&plain), ["<tr><td>Purchase"]);
    }

    #[test]
    fn a_row_with_one_finding_has_its_kind_as_class_and_says_it_with_the_evidence() {
        let mut checkout = never_fired("12", "Checkout");
        checkout.findings = vec![Kind::StoppedFiring];
        checkout.first_fired_time = Some("2026-06-01T00:00:00Z".into());
        checkout.last_fired_time = Some("2026-12-01T10:00:00Z".into());
        checkout.expect_fire_within = "2d".into();
        let page = page(
            account(vec![never_fired("11", "Lead"), checkout], Vec::new()),
            true,
        );
        assert_eq!(
            rows(&page),
            [
                "<tr class=nf><td>Lead<td><td>0<td>never fired, created 2026-11-16",
                "<tr class=sf><td>Checkout<td><td>0<td>stopped firing, last fired 2026-12-01, expected within 2d",
            ]
        );
    }

    #[test]
    fn more_findings_are_badges_and_ids_show_where_events_manager_is_where_to_act() {
        let mut by_hand = never_fired("13", "Made by hand");
        by_hand.findings = vec![Kind::StoppedFiring, Kind::Unmanaged];
        by_hand.managed = false;
        by_hand.last_fired_time = Some("2026-10-22T08:00:00Z".into());
        let mut flagged = firing("14", "Diabetes test kit");
        flagged.state = State::Flagged;
        flagged.findings = vec![Kind::Flagged];
        let page = page(
            account(
                vec![by_hand, flagged, never_fired("15", "Lead")],
                Vec::new(),
            ),
            false,
        );
        assert_eq!(
            rows(&page),
            [
                "<tr class=p><td title=\"id 13\">Made by hand<td><b class=sf>stopped firing</b><b class=um>unmanaged</b> last fired 2026-10-22",
                "<tr class=fl><td title=\"id 14\">Diabetes test kit<td>flagged by Meta, last fired 2026-12-06",
                "<tr class=nf><td>Lead<td>never fired, created 2026-11-16",
            ]
        );
    }

    #[test]
    fn a_drift_column_only_where_something_drifted_and_then_on_every_worded_row() {
        let mut purchase = firing("11", "Purchase");
        purchase.drift = Some("update (description)".into());
        let page = page(
            account(
                vec![purchase, firing("12", "Lead"), never_fired("13", "Signup")],
                Vec::new(),
            ),
            false,
        );
        assert!(
            page.contains(
                "<table class=\"cv dt\">\n<thead><tr><th>Conversion<th>Health<th>Drift</thead>"
            ),
            "{page}"
        );
        assert_eq!(
            rows(&page),
            [
                "<tr class=q><td>Purchase<td class=f>fired today<td><b class=dr>update (description)</b>",
                "<tr><td>Lead",
                "<tr class=nf><td>Signup<td>never fired, created 2026-11-16<td>",
            ]
        );
    }

    #[test]
    fn a_set_column_only_where_a_conversion_comes_from_a_set() {
        let mut purchase = firing("11", "Purchase");
        purchase.set = Some("ecommerce".into());
        let page = page(
            account(vec![purchase, firing("12", "Lead")], Vec::new()),
            true,
        );
        assert!(
            page.contains(
                "<table class=\"cv st se\">\n<thead><tr><th>Conversion<th>Set<th>Last 28 days"
            ),
            "{page}"
        );
        let bars = sparkline::bars(&[3; 28]).unwrap();
        assert_eq!(
            rows(&page),
            [
                format!("<tr><td>Purchase<td>ecommerce<td>{bars}<td>84"),
                format!("<tr><td>Lead<td><td>{bars}<td>84"),
            ]
        );
    }

    #[test]
    fn the_warning_that_a_conversion_is_flagged_is_said_by_its_row_unless_it_says_more() {
        let mut flagged = firing("14", "Diabetes test kit");
        flagged.state = State::Flagged;
        flagged.findings = vec![Kind::Flagged];
        let id = ConversionId::parse("14").unwrap();
        let plain = flagged_warning("\"Diabetes test kit\"", &id);
        let more = format!(
            "{plain}; convctl sends it no change (its description differs from the manifest)"
        );
        let warnings = vec![
            format!("conversions/shop.yaml:12:5: {plain}"),
            plain,
            format!("conversions/shop.yaml:12:5: {more}"),
            "\"Old\" (15) last fired 2 days ago: deleting it loses its history".to_string(),
        ];
        let page = page(account(vec![flagged], warnings), false);
        let list = &page[page.find("<ul class=warnings>").unwrap()..page.find("</ul>").unwrap()];
        assert_eq!(
            list,
            format!(
                "<ul class=warnings>\n<li>conversions/shop.yaml:12:5: {}\n<li>&quot;Old&quot; (15) last fired 2 days ago: deleting it loses its history\n",
                esc(&more)
            )
        );
        assert!(
            page.contains("edits are refused"),
            "the legend says what it means"
        );
    }

    #[test]
    fn a_kind_has_the_same_icon_in_a_column_head_as_on_its_badge_and_row() {
        for kind in Kind::ALL {
            let class = class(kind);
            let rule = format!(
                "b.{class}::before,.cv:not(.dt) .{class}>td:last-child::before,.dt .{class}>td:nth-last-child(2)::before{{content:\"{} \"}}",
                icon(kind)
            );
            assert!(STYLE.contains(&rule), "{rule}");
        }
    }

    #[test]
    fn counts_up_to_9999_are_digits_and_larger_ones_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(9999), "9999");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn names_and_messages_are_text_never_markup() {
        let hostile = "<script>alert(1)</script> & \"Quotes\"";
        let page = page(
            account(vec![never_fired("11", hostile)], vec![hostile.into()]),
            true,
        );
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Quotes&quot;"));
    }
}
