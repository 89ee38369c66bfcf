//! How `convctl test` results are shown: a JSON document, text lines (`ok` / `FAIL` and a
//! `test result:` line, as cargo prints), or GitHub annotations on the failing examples.

use super::findings::{self, LineStyle, plural};
use crate::manifest::Diagnostic;
use crate::manifest::examples::RuleTestRun;
use serde_json::{Value, json};
use std::io::Write;

/// The `--format json` document.
pub(crate) fn json_report(run: &RuleTestRun<'_>, warnings: &[Diagnostic]) -> Value {
    let failed = run.failed();
    json!({
        "passed": failed == 0,
        "total": run.outcomes.len(),
        "failed": failed,
        "conversions_without_tests": run.untested,
        "results": run.outcomes.iter().map(|o| json!({
            "account": o.account,
            "conversion": o.conversion,
            "expect": o.expect(),
            "index": o.index,
            "event": o.event,
            "passed": o.passed,
            "file": o.location.map(|l| l.file.display().to_string()),
            "line": o.location.map(|l| l.line),
            "column": o.location.map(|l| l.column),
            "conditions": o.why,
            "error": o.error.as_ref().map(ToString::to_string),
        })).collect::<Vec<_>>(),
        "diagnostics": warnings.iter().map(findings::diagnostic_json).collect::<Vec<_>>(),
    })
}

/// Text (`ok` lines for passes, `FAIL` findings) or GitHub annotations (failures only), then
/// the `test result:` line.
pub(crate) fn write_lines(
    out: &mut dyn Write,
    run: &RuleTestRun<'_>,
    style: LineStyle,
) -> std::io::Result<()> {
    for o in &run.outcomes {
        if o.passed {
            if style == LineStyle::Text {
                writeln!(
                    out,
                    "ok    {} {} {}[{}]",
                    o.account,
                    crate::model::names::quoted(o.conversion),
                    o.expect(),
                    o.index
                )?;
            }
        } else if style == LineStyle::Github {
            writeln!(out, "{}", findings::github_annotation(&o.diagnostic()))?;
        } else {
            writeln!(out, "FAIL  {}", o.diagnostic())?;
        }
    }
    let failed = run.failed();
    writeln!(
        out,
        "test result: {}. {} passed; {} failed ({} without tests)",
        if failed == 0 { "ok" } else { "FAILED" },
        run.outcomes.len() - failed,
        failed,
        plural(run.untested, "conversion")
    )
}
