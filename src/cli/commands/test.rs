//! `convctl test [PATH]... [--format text|json|github]`: runs the manifests' rule tests
//! (`tests: {match: [...], no_match: [...]}`) offline with the same rule evaluation the emulator
//! uses, and exits 0 when all pass, 1 when one fails or the manifests are invalid. A failure
//! names the event's file:line:col and the conditions that decided the outcome.

use crate::cli::args::CheckFormat;
use crate::cli::exit;
use crate::manifest::{self, Diagnostic, Location, RuleSpec, Severity};
use crate::render::findings::{self, plural};
use crate::rule::{Event, Rule};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// The outcome of one example event.
struct Outcome<'a> {
    account: &'a str,
    conversion: &'a str,
    expect_match: bool,
    index: usize,
    event: &'a Event,
    location: Option<&'a Location>,
    passed: bool,
    /// For failures: the conditions that decided the outcome.
    why: Vec<String>,
}

pub fn run(paths: &[PathBuf], format: CheckFormat) -> i32 {
    let manifests = match manifest::load(paths) {
        Ok(m) => m,
        Err(diags) => return invalid(&diags, format),
    };
    let mut outcomes = Vec::new();
    let mut untested = 0usize;
    for account in &manifests.accounts {
        for c in &account.conversions {
            let Some(RuleSpec::Rule(rule)) = &c.rule else {
                continue;
            };
            let cases = c
                .tests
                .matches
                .iter()
                .map(|e| (true, e))
                .enumerate()
                .chain(c.tests.no_match.iter().map(|e| (false, e)).enumerate());
            let mut any = false;
            for (index, (expect_match, event)) in cases {
                any = true;
                let locations = if expect_match {
                    &c.tests.match_locations
                } else {
                    &c.tests.no_match_locations
                };
                let passed = rule.matches(event) == expect_match;
                outcomes.push(Outcome {
                    account: account.account.as_str(),
                    conversion: &c.name,
                    expect_match,
                    index,
                    event,
                    location: locations.get(index),
                    passed,
                    why: if passed {
                        Vec::new()
                    } else {
                        explain(rule, event, expect_match)
                    },
                });
            }
            if !any {
                untested += 1;
            }
        }
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        CheckFormat::Json => {
            let doc = json!({
                "passed": failed == 0,
                "total": outcomes.len(),
                "failed": failed,
                "conversions_without_tests": untested,
                "results": outcomes.iter().map(|o| json!({
                    "account": o.account,
                    "conversion": o.conversion,
                    "expect": if o.expect_match { "match" } else { "no_match" },
                    "index": o.index,
                    "event": o.event,
                    "passed": o.passed,
                    "file": o.location.map(|l| l.file.display().to_string()),
                    "line": o.location.map(|l| l.line),
                    "column": o.location.map(|l| l.column),
                    "conditions": o.why,
                })).collect::<Vec<_>>(),
                "diagnostics": manifests.warnings.iter().map(findings::diagnostic_json).collect::<Vec<_>>(),
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        CheckFormat::Text | CheckFormat::Github => (|| {
            if format == CheckFormat::Github {
                findings::write_diagnostics(&mut out, format.line_style(), &manifests.warnings)?;
            } else {
                findings::write_diagnostics(
                    &mut std::io::stderr().lock(),
                    format.line_style(),
                    &manifests.warnings,
                )?;
            }
            for o in &outcomes {
                if o.passed {
                    if format == CheckFormat::Text {
                        writeln!(
                            out,
                            "ok    {} \"{}\" {}[{}]",
                            o.account,
                            o.conversion,
                            expect(o),
                            o.index
                        )?;
                    }
                } else if format == CheckFormat::Github {
                    writeln!(out, "{}", findings::github_annotation(&as_diagnostic(o)))?;
                } else {
                    writeln!(out, "FAIL  {}", as_diagnostic(o))?;
                }
            }
            writeln!(
                out,
                "test result: {}. {} passed; {} failed ({} without tests)",
                if failed == 0 { "ok" } else { "FAILED" },
                outcomes.len() - failed,
                failed,
                plural(untested, "conversion")
            )
        })(),
    };
    if written.is_err() || failed > 0 {
        exit::ERROR
    } else {
        exit::SUCCESS
    }
}

fn expect(o: &Outcome) -> &'static str {
    if o.expect_match { "match" } else { "no_match" }
}

fn as_diagnostic(o: &Outcome) -> Diagnostic {
    let event = serde_json::to_string(o.event).unwrap_or_default();
    let verdict = if o.expect_match {
        "should match this event, but does not"
    } else {
        "should not match this event, but does"
    };
    let why = if o.why.is_empty() {
        String::new()
    } else if o.expect_match {
        format!("; false: {}", o.why.join(", "))
    } else {
        format!("; true: {}", o.why.join(", "))
    };
    Diagnostic {
        severity: Severity::Error,
        location: o.location.cloned(),
        message: format!(
            "{} \"{}\": the rule {verdict} ({}[{}]): {event}{why}",
            o.account,
            o.conversion,
            expect(o),
            o.index
        ),
        hint: Some("fix the rule, or the example event if the rule is right".into()),
    }
}

/// The conditions that made a rule miss (false ones) or match (true ones) an event.
fn explain(rule: &Rule, event: &Event, expect_match: bool) -> Vec<String> {
    rule.conditions()
        .into_iter()
        .filter(|c| Rule::Leaf((*c).clone()).matches(event) != expect_match)
        .map(|c| Rule::Leaf(c.clone()).to_api_string())
        .collect()
}

fn invalid(diags: &[Diagnostic], format: CheckFormat) -> i32 {
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
        CheckFormat::Github => findings::write_diagnostics(&mut out, format.line_style(), diags),
        CheckFormat::Text => {
            findings::write_diagnostics(&mut std::io::stderr().lock(), format.line_style(), diags)
                .and_then(|_| {
                    writeln!(
                        out,
                        "invalid: {}, {}; no tests were run",
                        plural(c.errors, "error"),
                        plural(c.warnings, "warning")
                    )
                })
        }
    };
    exit::ERROR
}
