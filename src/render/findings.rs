//! How diagnostics are shown: text for people (`file:line:col: error: message` and a `help:`
//! line), JSON for tools, and GitHub workflow annotations (`::error file=..,line=..,col=..::`)
//! so that CI puts each finding on the offending line of a pull request. It only formats; it
//! never decides what is an error.

use crate::manifest::{Diagnostic, Location, Severity};
use serde_json::{Value, json};
use std::io::Write;

/// Counts of a list of diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) errors: usize,
    pub(crate) warnings: usize,
}

pub(crate) fn counts(diags: &[Diagnostic]) -> Counts {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    Counts {
        errors,
        warnings: diags.len() - errors,
    }
}

/// `3 errors, 1 warning`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// One diagnostic as a JSON object (`file`, `line`, `column` are null when no file is concerned).
pub(crate) fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({
        "severity": d.severity,
        "file": d.location.as_ref().map(|l| l.file.display().to_string()),
        "line": d.location.as_ref().map(|l| l.line),
        "column": d.location.as_ref().map(|l| l.column),
        "message": d.message,
        "hint": d.hint,
    })
}

/// A GitHub workflow command for one diagnostic.
pub(crate) fn github_annotation(d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut message = d.message.clone();
    if let Some(hint) = &d.hint {
        message.push_str("\nhelp: ");
        message.push_str(hint);
    }
    match &d.location {
        Some(l) => format!(
            "::{level} file={},line={},col={},title=convctl::{}",
            escape_property(&l.file.display().to_string()),
            l.line,
            l.column,
            escape_data(&message)
        ),
        None => format!("::{level} title=convctl::{}", escape_data(&message)),
    }
}

/// Escaping of a workflow command's message (GitHub's toolkit `escapeData`).
pub(crate) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property (GitHub's toolkit `escapeProperty`).
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// How findings are written as lines (JSON documents are built by each command).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LineStyle {
    /// `file:line:col: error: message` with its `help:` line, as a compiler prints.
    Text,
    /// `::error file=...,line=...,col=...::message` GitHub workflow annotations.
    Github,
}

/// Where the text of a diagnostic's line comes from (the caller reads files; this module
/// only formats).
pub(crate) type SourceLines<'s> = dyn FnMut(&Location) -> Option<String> + 's;

/// Writes diagnostics in the given style: as text, each with its source line and caret (see
/// [`Diagnostic::with_source`]); as GitHub annotations, one line each.
pub(crate) fn write_diagnostics(
    out: &mut dyn Write,
    style: LineStyle,
    diags: &[Diagnostic],
    sources: &mut SourceLines<'_>,
) -> std::io::Result<()> {
    for d in diags {
        match style {
            LineStyle::Github => writeln!(out, "{}", github_annotation(d))?,
            LineStyle::Text => writeln!(out, "{}", text(d, sources))?,
        }
    }
    Ok(())
}

/// One diagnostic as text, with its source line when `sources` has it.
pub(crate) fn text(d: &Diagnostic, sources: &mut SourceLines<'_>) -> String {
    let line = d.location.as_ref().and_then(&mut *sources);
    d.with_source(line.as_deref()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag() -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            location: Some(Location {
                file: "a,b:c.yaml".into(),
                line: 3,
                column: 7,
            }),
            message: "100% wrong\nreally".into(),
            hint: Some("fix it".into()),
        }
    }

    #[test]
    fn github_annotations_escape_data_and_properties() {
        assert_eq!(
            github_annotation(&diag()),
            "::error file=a%2Cb%3Ac.yaml,line=3,col=7,title=convctl::100%25 wrong%0Areally%0Ahelp: fix it"
        );
    }

    /// One finding, one line and its help line: a line break in a message (user text in it)
    /// is shown, never a second line that could pass for another finding.
    #[test]
    fn text_names_location_and_hint() {
        assert_eq!(
            diag().to_string(),
            "a,b:c.yaml:3:7: error: 100% wrong\\nreally\nhelp: fix it"
        );
    }

    /// The source line is quoted with a caret under the word at the column; tabs keep the
    /// caret aligned and control characters cannot reach the terminal.
    #[test]
    fn text_quotes_the_source_line_with_a_caret() {
        let mut sources = |l: &Location| (l.line == 3).then(|| "  - nmae: Purchase\n".to_string());
        let mut d = diag();
        d.message = "unknown key `nmae`".into();
        d.location.as_mut().unwrap().column = 5;
        assert_eq!(
            text(&d, &mut sources),
            "a,b:c.yaml:3:5: error: unknown key `nmae`\n  |\n3 |   - nmae: Purchase\n  |     ^^^^\nhelp: fix it"
        );
        let mut tabbed = |_: &Location| Some("\tx: \u{1b}[2J".to_string());
        d.location.as_mut().unwrap().column = 5;
        assert_eq!(
            text(&d, &mut tabbed),
            "a,b:c.yaml:3:5: error: unknown key `nmae`\n  |\n3 | \tx: \u{fffd}[2J\n  | \t   ^^^^\nhelp: fix it"
        );
        let mut none = |_: &Location| None;
        assert_eq!(text(&d, &mut none), d.to_string());
    }

    /// A bidi override or a zero-width character on the quoted line is shown as U+FFFD (it can
    /// neither reorder the terminal's line nor hide), and the caret is placed by display width:
    /// a combining accent takes no column, a wide character two.
    #[test]
    fn the_quoted_line_hides_nothing_and_the_caret_counts_columns() {
        let mut d = diag();
        d.message = "m".into();
        d.location.as_mut().unwrap().column = 12;
        let mut bidi = |_: &Location| Some("- name: \"a\u{202e}b\u{200b}\": x".to_string());
        assert_eq!(
            text(&d, &mut bidi),
            "a,b:c.yaml:3:12: error: m\n  |\n3 | - name: \"a\u{fffd}b\u{fffd}\": x\n  |            ^^^\nhelp: fix it"
        );
        // "Cafe" + U+0301 is four columns; the value after it starts at column 8 of the
        // characters but column 7 of the screen.
        d.location.as_mut().unwrap().column = 8;
        let mut nfd = |_: &Location| Some("Cafe\u{301}: 漢字x".to_string());
        assert_eq!(
            text(&d, &mut nfd),
            "a,b:c.yaml:3:8: error: m\n  |\n3 | Cafe\u{301}: 漢字x\n  |       ^^^^^\nhelp: fix it"
        );
    }

    #[test]
    fn json_has_flat_location() {
        let v = diagnostic_json(&diag());
        assert_eq!(v["line"], 3);
        assert_eq!(v["severity"], "error");
    }
}
