//! `convctl validate [PATH]... [--format text|json|github]`: checks manifests offline and exits
//! 0 when valid, 1 when not. Text goes to stderr (findings) and stdout (the verdict); JSON and
//! GitHub annotations go to stdout. It never touches the network.

use crate::cli::args::CheckFormat;
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::sources::SourceLines;
use crate::manifest::{self, Diagnostic, Manifests};
use crate::render::findings::{self, counts, plural};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

pub(crate) fn run(paths: &[PathBuf], format: CheckFormat) -> Outcome {
    let mut sources = SourceLines::default();
    let result = manifest::load(paths);
    let (diags, model): (&[Diagnostic], Option<&Manifests>) = match &result {
        Ok(m) => (&m.warnings, Some(m)),
        Err(diags) => (diags, None),
    };
    let c = counts(diags);
    let accounts = model.map_or(0, |m| m.accounts.len());
    let conversions = model.map_or(0, |m| m.accounts.iter().map(|a| a.conversions.len()).sum());
    let files = model.map_or(0, |m| {
        // Files of accounts, and of the sets they use.
        m.accounts
            .iter()
            .map(|a| &a.location.file)
            .chain(
                m.accounts
                    .iter()
                    .flat_map(|a| &a.conversions)
                    .filter(|c| c.set.is_some())
                    .map(|c| &c.location.file),
            )
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    });
    let valid = model.is_some();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match format {
        CheckFormat::Json => {
            let doc = json!({
                "valid": valid,
                "errors": c.errors,
                "warnings": c.warnings,
                "files": files,
                "accounts": accounts,
                "conversions": conversions,
                "diagnostics": diags.iter().map(findings::diagnostic_json).collect::<Vec<_>>(),
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
        }
        CheckFormat::Github | CheckFormat::Text => {
            let r = if format == CheckFormat::Github {
                findings::write_diagnostics(&mut out, format.line_style(), diags, &mut |l| {
                    sources.line(l)
                })
            } else {
                findings::write_diagnostics(
                    &mut std::io::stderr().lock(),
                    format.line_style(),
                    diags,
                    &mut |l| sources.line(l),
                )
            };
            r.and_then(|_| {
                if valid {
                    writeln!(
                        out,
                        "valid: {}, {}, {}{}",
                        plural(files, "file"),
                        plural(accounts, "account"),
                        plural(conversions, "conversion"),
                        if c.warnings > 0 {
                            format!(" ({})", plural(c.warnings, "warning"))
                        } else {
                            String::new()
                        }
                    )
                } else {
                    writeln!(
                        out,
                        "invalid: {}, {}",
                        plural(c.errors, "error"),
                        plural(c.warnings, "warning")
                    )
                }
            })
        }
    };
    // The process ends right after: freeing tens of thousands of conversions one by one would
    // only cost time (about a tenth of a 500-account run).
    std::mem::forget(result);
    // The verdict was the output: an invalid manifest has nothing more to say on stderr. A
    // closed stdout is no failure (the reader has what it wanted).
    if !exit::write_failed(&written) && valid {
        Ok(exit::SUCCESS)
    } else {
        Err(Failure::quiet())
    }
}
