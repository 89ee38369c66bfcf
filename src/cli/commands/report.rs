//! `convctl report`: read the selected accounts once, judge them, and show the health report on
//! stdout (`--format`) and in files (`--out`, each in the format its name says). Exit 2 when a
//! finding named by `--fail-on` is present, 1 on errors (after the report is written: an
//! account that cannot be read is named in it), else 0.

use crate::cli::args::{FailOn, GlobalOptions, ReportCommandArgs, ReportFormat};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::output::{color_stdout, write_stdout};
use crate::cli::steps::{load_manifests, select, tokens_of_selected, with_session_for};
use crate::file_io::{Existing, describe_bytes, write_atomically};
use crate::reconcile::report::{ReportOptions, report};
use crate::render::report::{html, markdown, text};
use crate::report::{HealthReport, Kind, Thresholds};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The variable that fixes the report's clock (an RFC 3339 time).
const CLOCK_VARIABLE: &str = "CONVCTL_NOW";

pub(crate) fn run(global: &GlobalOptions, args: &ReportCommandArgs) -> Outcome {
    let outs = args
        .out
        .iter()
        .map(|path| Ok((path.clone(), format_of(path)?)))
        .collect::<Result<Vec<(PathBuf, ReportFormat)>, Failure>>()?;
    let markdown_wanted = args.format == ReportFormat::Markdown
        || outs.iter().any(|(_, f)| *f == ReportFormat::Markdown);
    let max_chars = match (args.max_chars, markdown_wanted) {
        (Some(_), false) => {
            return Err(Failure::new(
                "--max-chars bounds markdown; add --format markdown (or an --out FILE.md)",
            ));
        }
        (Some(0), true) => None,
        (Some(n), true) if n < 1_000 => {
            return Err(Failure::new(format!(
                "--max-chars {n} leaves no room for the counts; give at least 1000 (0: no limit)"
            )));
        }
        (Some(n), true) => Some(n),
        (None, _) => Some(crate::render::markdown::COMMENT_LIMIT),
    };
    let now = clock()?;
    let manifests = load_manifests(&args.paths, global)?;
    let selected = select(manifests, &args.accounts, global)?;
    let tokens = tokens_of_selected(global, &selected)?;
    let options = ReportOptions {
        api_version: &global.api_version,
        now,
        thresholds: Thresholds {
            overridden: args.expect_fire_within,
            ..Thresholds::default()
        },
        stats: args.stats,
    };
    with_session_for(global, tokens, async move |session| {
        let accounts: Vec<_> = selected.iter().collect();
        let outcome = report(session, &accounts, &options).await;
        let report = &outcome.report;
        let shown = Shown {
            max_chars,
            full_report: args.full_report_url.as_deref(),
            color: color_stdout(global),
        };
        write_stdout(|out| shown.write(out, report, args.format))
            .map_err(|e| Failure::new(format!("cannot write the report to stdout: {e}")))?;
        for (path, format) in &outs {
            let plain = Shown {
                color: false,
                ..shown
            };
            write_atomically(path, Existing::Replace, |w| plain.write(w, report, *format))
                .map_err(|e| Failure::new(format!("cannot save the report: {e}")))?;
            if !global.quiet {
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                eprintln!(
                    "Wrote the report to {} ({}).",
                    path.display(),
                    describe_bytes(size)
                );
            }
        }
        if !outcome.errors.is_empty() {
            let n = outcome.errors.len();
            return Err(Failure::with_details(
                outcome.errors,
                format!(
                    "the report is incomplete: {n} problem(s) above; the accounts concerned are named in it"
                ),
            ));
        }
        let kinds: Vec<Kind> = args
            .fail_on
            .iter()
            .filter_map(|f| match f {
                FailOn::Kind(k) => Some(*k),
                FailOn::Drift => None,
            })
            .collect();
        let drift = args.fail_on.contains(&FailOn::Drift);
        Ok(if report.fails_on(&kinds, drift) {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    })
}

/// How the report is written in each format.
#[derive(Clone, Copy)]
struct Shown<'a> {
    max_chars: Option<usize>,
    full_report: Option<&'a str>,
    color: bool,
}

impl Shown<'_> {
    fn write(
        &self,
        out: &mut (impl Write + ?Sized),
        report: &HealthReport,
        format: ReportFormat,
    ) -> std::io::Result<()> {
        let mut out = out;
        match format {
            ReportFormat::Text => text::render_to(&mut out, report, self.color),
            ReportFormat::Json => report.write_json(out),
            ReportFormat::Markdown => {
                markdown::render_to(&mut out, report, self.max_chars, self.full_report)
            }
            ReportFormat::Html => html::render_to(&mut out, report),
        }
    }
}

/// The format a file's name asks for.
fn format_of(path: &Path) -> Result<ReportFormat, Failure> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => Ok(ReportFormat::Html),
        Some("json") => Ok(ReportFormat::Json),
        Some("md" | "markdown") => Ok(ReportFormat::Markdown),
        Some("txt" | "text") => Ok(ReportFormat::Text),
        _ => Err(Failure::new(format!(
            "--out {}: name the file by its format: .html, .json, .md or .txt",
            path.display()
        ))),
    }
}

/// The report's clock: `CONVCTL_NOW` when set (an RFC 3339 time), else now.
fn clock() -> Result<jiff::Timestamp, Failure> {
    match std::env::var(CLOCK_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => text.trim().parse().map_err(|e| {
            Failure::new(format!(
                "{CLOCK_VARIABLE}={text} is not a time ({e}); write e.g. 2026-12-06T08:00:00Z, or unset it"
            ))
        }),
        _ => Ok(jiff::Timestamp::now()),
    }
}
