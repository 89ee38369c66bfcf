//! `convctl test [PATH]... [--format text|json|github]`: runs the manifests' rule tests
//! (`tests: {match: [...], no_match: [...]}`) offline (`manifest::examples`) and exits 0 when
//! all pass, 1 when one fails or the manifests are invalid. A failure names the event's
//! file:line:col and the conditions that decided the outcome.

use crate::cli::args::CheckFormat;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::sources::SourceLines;
use crate::manifest::{self, Diagnostic, examples};
use crate::render::findings::{self, plural};
use crate::render::test_results::{json_report, write_lines};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

pub(crate) fn run(paths: &[PathBuf], format: CheckFormat) -> Outcome {
    let mut sources = SourceLines::default();
    let manifests = match manifest::load(paths) {
        Ok(m) => m,
        Err(diags) => return invalid(&diags, format),
    };
    let run = examples::run(&manifests);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        CheckFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json_report(&run, &manifests.warnings))
                .unwrap_or_default()
        ),
        CheckFormat::Text | CheckFormat::Github => {
            let warnings = if format == CheckFormat::Github {
                findings::write_diagnostics(
                    &mut out,
                    format.line_style(),
                    &manifests.warnings,
                    &mut |l| sources.line(l),
                )
            } else {
                findings::write_diagnostics(
                    &mut std::io::stderr().lock(),
                    format.line_style(),
                    &manifests.warnings,
                    &mut |l| sources.line(l),
                )
            };
            warnings.and_then(|_| write_lines(&mut out, &run, format.line_style()))
        }
    };
    if exit::write_failed(&written) || run.failed() > 0 {
        Err(Failure::quiet())
    } else {
        Ok(exit::SUCCESS)
    }
}

/// Invalid manifests: the findings, and no test run.
fn invalid(diags: &[Diagnostic], format: CheckFormat) -> Outcome {
    let mut sources = SourceLines::default();
    let c = findings::counts(diags);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = match format {
        CheckFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({
                "passed": false,
                "valid": false,
                "diagnostics": diags.iter().map(findings::diagnostic_json).collect::<Vec<_>>(),
            }))
            .unwrap_or_default()
        ),
        CheckFormat::Github => {
            findings::write_diagnostics(&mut out, format.line_style(), diags, &mut |l| {
                sources.line(l)
            })
        }
        CheckFormat::Text => findings::write_diagnostics(
            &mut std::io::stderr().lock(),
            format.line_style(),
            diags,
            &mut |l| sources.line(l),
        )
        .and_then(|_| {
            writeln!(
                out,
                "invalid: {}, {}; no tests were run",
                plural(c.errors, "error"),
                plural(c.warnings, "warning")
            )
        }),
    };
    Err(Failure::quiet())
}
