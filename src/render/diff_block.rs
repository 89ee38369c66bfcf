//! One plan action as the body of a markdown ```` ```diff ```` block, laid out for GitHub's diff
//! grammar (linguist's `source.diff`, from TextMate's Diff bundle), which colours a line by its
//! first column only: `+` inserted (green), `-` deleted (red), `!` changed (orange), anything
//! else plain. So every marker stands in column 0: a create's lines are all `+`, a delete's all
//! `-`, an update or a replacement has a `!` header with each changed value as a `-` line (old)
//! and a `+` line (new), and a replacement's rule diff keeps its unchanged lines as plain
//! context.
//!
//! Lines the grammar reads as something else are never written: nothing starts with `+++ `,
//! `--- `, `***`, `@@`, `<`, `>`, `Index: `, `====` or a digit, nor is a line `---` alone (a
//! separator); every line starts with a marker, a space or `#`, and values are quoted, so a
//! user's name cannot produce one either (the markdown test classifies every line as GitHub
//! does).

use super::LineChange;
use super::Mode;
use super::quoted;
use super::text::{Shown, shown, state_rows};
use crate::plan::{Action, Field, FieldChange};
use serde_json::Value;
use std::fmt::Write;

/// Indent of a field row after its marker, and of a multi-line value's lines.
const FIELD: &str = "     ";
const VALUE: &str = "         ";

/// The diff-block text of `action` (ends with a line break).
pub(super) fn diff_block(action: &Action, mode: Mode) -> String {
    let mut out = String::new();
    let name = quoted(action.name());
    match action {
        Action::Create { after, .. } => {
            let what = match mode {
                Mode::Plan => "will be created",
                Mode::Drift => "is declared but missing live",
            };
            let _ = writeln!(out, "# {name} {what}");
            let _ = writeln!(out, "+ conversion {name} {{");
            let rows = state_rows(after)
                .into_iter()
                .map(|(f, v)| (f.as_str(), v))
                .collect();
            marked_rows(&mut out, rows, '+');
            let _ = writeln!(out, "+ }}");
        }
        Action::Delete { id, before, .. } => {
            let what = super::what_happens(action, mode);
            let _ = writeln!(out, "# {name} (id {id}) {what}");
            let _ = writeln!(out, "- conversion {name} {{");
            let mut rows = vec![("id", Value::String(id.to_string()))];
            if let Some(before) = before {
                rows.extend(state_rows(before).into_iter().map(|(f, v)| (f.as_str(), v)));
            }
            marked_rows(&mut out, rows, '-');
            let _ = writeln!(out, "- }}");
        }
        Action::Update { id, changes, .. } => {
            let what = match mode {
                Mode::Plan => "will be updated in place",
                Mode::Drift => "differs (fixable in place; - live, + manifest)",
            };
            let _ = writeln!(out, "# {name} (id {id}) {what}");
            let _ = writeln!(out, "! conversion {name} {{");
            change_rows(&mut out, id.as_str(), changes, &[]);
            let _ = writeln!(out, "  }}");
        }
        Action::Retire { id, .. } => {
            let what = super::what_happens(action, mode);
            let _ = writeln!(out, "# {name} (id {id}) {what}");
            let _ = writeln!(out, "! conversion {name} {{");
            change_rows(
                &mut out,
                id.as_str(),
                &super::retirement_changes(action),
                &[],
            );
            let _ = writeln!(out, "  }}");
        }
        Action::Replace {
            id,
            forced_by,
            changes,
            ..
        } => {
            let what = match mode {
                Mode::Plan => super::what_happens(action, mode),
                Mode::Drift => {
                    "differs in fields that force replacement (- live, + manifest)".to_string()
                }
            };
            let _ = writeln!(out, "# {name} (id {id}) {what}");
            let _ = writeln!(out, "! conversion {name} {{");
            change_rows(&mut out, id.as_str(), changes, forced_by);
            let _ = writeln!(out, "  }}");
        }
    }
    out
}

/// `field = value` rows of a created or deleted conversion, every line marked alike.
fn marked_rows(out: &mut String, rows: Vec<(&str, Value)>, marker: char) {
    let width = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    for (field, value) in rows {
        match shown(&value) {
            Shown::Lines(lines) => {
                let _ = writeln!(out, "{marker}{FIELD}{field:width$} =");
                for line in lines.lines() {
                    let _ = writeln!(out, "{marker}{VALUE}{line}");
                }
            }
            Shown::Line(text) => {
                let _ = writeln!(out, "{marker}{FIELD}{field:width$} = {text}");
            }
        }
    }
}

/// The rows of an update or a replacement: the id as context, each change as its old (`-`) and
/// new (`+`) value, multi-line values diffed line by line.
fn change_rows(out: &mut String, id: &str, changes: &[FieldChange], forced_by: &[Field]) {
    let width = changes
        .iter()
        .map(|c| c.field.as_str().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let _ = writeln!(out, " {FIELD}{:width$} = \"{id}\"", "id");
    for change in changes {
        let forces = if forced_by.contains(&change.field) {
            "  # forces replacement"
        } else {
            ""
        };
        let field = change.field.as_str();
        match (shown(&change.before), shown(&change.after)) {
            (Shown::Line(before), Shown::Line(after)) => {
                let _ = writeln!(out, "-{FIELD}{field:width$} = {before}{forces}");
                let _ = writeln!(out, "+{FIELD}{field:width$} = {after}{forces}");
            }
            (before, after) => {
                let _ = writeln!(out, " {FIELD}{field:width$} ={forces}");
                line_diff(out, before.text(), after.text());
            }
        }
    }
}

/// A line diff of two pretty-printed values (`super::line_changes`) with its marker in column 0:
/// unchanged lines as context (a space), removed ones `-`, added ones `+`.
fn line_diff(out: &mut String, before: &str, after: &str) {
    for (change, line) in super::line_changes(before, after) {
        let marker = match change {
            LineChange::Same => ' ',
            LineChange::Removed => '-',
            LineChange::Added => '+',
        };
        let _ = writeln!(out, "{marker}{VALUE}{line}");
    }
}

/// How GitHub colours a line of a ```` ```diff ```` block: the rules of linguist's `source.diff`
/// grammar (TextMate's Diff bundle, `Syntaxes/Diff.plist`), tried in the grammar's order at the
/// start of the line, then its one unanchored rule. Shared by the markdown tests.
#[cfg(test)]
pub(crate) mod grammar {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Scope {
        /// `meta.separator.diff`: `***************`, 67 `=`, or `---` alone.
        Separator,
        /// `meta.diff.range.normal`: `12,14c12`.
        RangeNormal,
        /// `meta.diff.range.unified`: `@@ -1 +1 @@`.
        RangeUnified,
        /// `meta.diff.range.context`: `--- 1,2 ----`, `*** 1,2 ****`.
        RangeContext,
        /// `meta.diff.header.from-file`: `--- a/x`, `*** a/x`, `==== x - ...`.
        FromFile,
        /// `meta.diff.header.to-file`: `+++ b/x`, or ` - ... ====` anywhere in a line.
        ToFile,
        /// `markup.inserted.diff` (green): `+...`, `>`, `> ...`.
        Inserted,
        /// `markup.changed.diff` (orange): `!...`.
        Changed,
        /// `markup.deleted.diff` (red): `-...`, `<`, `< ...`.
        Deleted,
        /// `meta.diff.index`: `Index: x`.
        Index,
        /// No scope: shown as plain text.
        Plain,
    }

    fn normal_range(line: &str) -> bool {
        // ^\d+(,\d+)*(a|d|c)\d+(,\d+)*$
        let Some(i) = line.find(['a', 'c', 'd']) else {
            return false;
        };
        let numbers = |s: &str| {
            !s.is_empty()
                && s.split(',')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        numbers(&line[..i]) && numbers(&line[i + 1..])
    }

    /// `prefix` followed by at least one more character.
    fn starts_and_more(line: &str, prefix: &str) -> bool {
        line.len() > prefix.len() && line.starts_with(prefix)
    }

    pub(crate) fn classify(line: &str) -> Scope {
        if line == "*".repeat(15) || line == "=".repeat(67) || line == "---" {
            return Scope::Separator;
        }
        if normal_range(line) {
            return Scope::RangeNormal;
        }
        // ^(@@)\s*(.+?)\s*(@@)
        if let Some(rest) = line.strip_prefix("@@")
            && rest.trim_start().get(1..).is_some_and(|r| r.contains("@@"))
        {
            return Scope::RangeUnified;
        }
        let context = |open: &str, close: &str| {
            line.len() > open.len() + close.len() && line.starts_with(open) && line.ends_with(close)
        };
        if context("--- ", " ----") || context("*** ", " ****") {
            return Scope::RangeContext;
        }
        if starts_and_more(line, "--- ")
            || starts_and_more(line, "*** ")
            || (line.starts_with("==== ") && line[5..].contains(" - "))
        {
            return Scope::FromFile;
        }
        if starts_and_more(line, "+++ ") {
            return Scope::ToFile;
        }
        if line == ">" || line.starts_with("> ") || line.starts_with('+') {
            return Scope::Inserted;
        }
        if line.starts_with('!') {
            return Scope::Changed;
        }
        if line == "<" || line.starts_with("< ") || line.starts_with('-') {
            return Scope::Deleted;
        }
        if starts_and_more(line, "Index: ") {
            return Scope::Index;
        }
        // The one unanchored rule: ` (-) .* (={4})$` anywhere in the line.
        if let Some(i) = line.find(" - ")
            && line[i + 2..].ends_with(" ====")
        {
            return Scope::ToFile;
        }
        Scope::Plain
    }

    /// Every line of every ```` ```diff ```` block of a markdown text, block by block.
    pub(crate) fn diff_blocks(markdown: &str) -> Vec<Vec<&str>> {
        let mut blocks = Vec::new();
        let mut open: Option<(usize, Vec<&str>)> = None;
        for line in markdown.lines() {
            let ticks = line.bytes().take_while(|b| *b == b'`').count();
            match &mut open {
                Some((len, lines)) => {
                    if ticks >= *len && line[ticks..].trim().is_empty() {
                        blocks.push(std::mem::take(lines));
                        open = None;
                    } else {
                        lines.push(line);
                    }
                }
                None if ticks >= 3 && line[ticks..].trim() == "diff" => {
                    open = Some((ticks, Vec::new()));
                }
                None => {}
            }
        }
        assert!(open.is_none(), "a diff block is left open");
        blocks
    }
}

#[cfg(test)]
mod tests {
    use super::grammar::{Scope, classify, diff_blocks};
    use super::*;
    use crate::render::markdown;
    use crate::render::tests::sample;

    #[test]
    fn the_classifier_follows_the_grammar() {
        for (line, scope) in [
            ("+ conversion", Scope::Inserted),
            ("+", Scope::Inserted),
            ("> x", Scope::Inserted),
            (">x", Scope::Plain),
            ("- conversion", Scope::Deleted),
            ("< x", Scope::Deleted),
            ("! conversion", Scope::Changed),
            ("+++ b/file", Scope::ToFile),
            ("+++", Scope::Inserted),
            ("--- a/file", Scope::FromFile),
            ("---", Scope::Separator),
            ("--- 1,2 ----", Scope::RangeContext),
            ("*** a/file", Scope::FromFile),
            ("@@ -1,2 +1,3 @@", Scope::RangeUnified),
            ("@@@@", Scope::Plain),
            ("12,14c12", Scope::RangeNormal),
            ("Index: file", Scope::Index),
            ("  a - b ====", Scope::ToFile),
            ("  # a comment", Scope::Plain),
            ("      id = \"2\"", Scope::Plain),
        ] {
            assert_eq!(classify(line), scope, "{line:?}");
        }
    }

    fn scopes(block: &[&str]) -> Vec<Scope> {
        block.iter().map(|l| classify(l)).collect()
    }

    /// What GitHub shows: creates green, deletes red, updates and replacements with a changed
    /// (orange) header and their old values red, new ones green, in plan and drift alike.
    #[test]
    fn github_colours_every_kind_of_action() {
        for mode in [Mode::Plan, Mode::Drift] {
            let md = markdown::render(&sample(), mode);
            let blocks = diff_blocks(&md);
            assert_eq!(blocks.len(), 5, "{md}");
            for block in &blocks {
                for (line, scope) in block.iter().zip(scopes(block)) {
                    assert!(
                        matches!(
                            scope,
                            Scope::Inserted | Scope::Deleted | Scope::Changed | Scope::Plain
                        ),
                        "{line:?} is read as {scope:?}"
                    );
                    if scope == Scope::Plain {
                        assert!(line.starts_with('#') || line.starts_with(' '), "{line:?}");
                    }
                }
            }
            let [create, update, replace, retire, delete] = &blocks[..] else {
                unreachable!()
            };
            assert!(create[0].starts_with('#'));
            assert!(
                scopes(&create[1..]).iter().all(|s| *s == Scope::Inserted),
                "{create:#?}"
            );
            assert!(
                scopes(&delete[1..]).iter().all(|s| *s == Scope::Deleted),
                "{delete:#?}"
            );
            for (block, old, new) in [
                (update, "description = \"\"", "description = \"Thanks <3\""),
                (
                    retire,
                    "name        = \"Autumn\"",
                    "name        = \"[retired 2026-12-06] Autumn\"",
                ),
                (
                    replace,
                    "{\"url\": {\"i_contains\": \"/basket\"}}",
                    "{\"url\": {\"i_contains\": \"/pay\"}}",
                ),
                (
                    replace,
                    "custom_event_type = \"LEAD\"",
                    "custom_event_type = \"INITIATED_CHECKOUT\"",
                ),
            ] {
                assert_eq!(classify(block[1]), Scope::Changed, "{block:#?}");
                let line = |text: &str| {
                    *block
                        .iter()
                        .find(|l| l.contains(text))
                        .unwrap_or_else(|| panic!("{text} in {block:#?}"))
                };
                assert_eq!(classify(line(old)), Scope::Deleted, "{block:#?}");
                assert_eq!(classify(line(new)), Scope::Inserted, "{block:#?}");
            }
            // The unchanged rule line of the replacement is context, not a change.
            let kept = replace
                .iter()
                .find(|l| l.contains("/checkout\"}}"))
                .unwrap();
            assert_eq!(classify(kept), Scope::Plain);
        }
    }

    /// Names are user text: whatever they hold, no line turns into a diff header or range.
    #[test]
    fn hostile_names_never_make_headers() {
        let mut doc = sample();
        let names = [
            "+++ b/x",
            "--- a/x",
            "@@ -1 +1 @@",
            "a - b ====",
            "---",
            "Index: x",
        ];
        for (action, name) in doc.accounts[0].actions.iter_mut().zip(names.iter().cycle()) {
            match action {
                Action::Create { name: n, after, .. } => {
                    *n = name.to_string();
                    after.name = name.to_string();
                }
                Action::Update { name: n, .. }
                | Action::Replace { name: n, .. }
                | Action::Delete { name: n, .. }
                | Action::Retire { name: n, .. } => *n = name.to_string(),
            }
        }
        for mode in [Mode::Plan, Mode::Drift] {
            for block in diff_blocks(&markdown::render(&doc, mode)) {
                for line in block {
                    assert!(
                        matches!(
                            classify(line),
                            Scope::Inserted | Scope::Deleted | Scope::Changed | Scope::Plain
                        ),
                        "{line:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_line_has_its_marker_in_column_zero() {
        for action in &sample().accounts[0].actions {
            for line in diff_block(action, Mode::Plan).lines() {
                let first = line.chars().next().unwrap();
                assert!("+-! #".contains(first), "{line:?}");
            }
        }
    }
}
