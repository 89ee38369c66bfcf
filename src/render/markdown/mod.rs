//! The markdown rendering, for a pull-request comment, a step summary or an issue. What a
//! reviewer reads first comes first: the totals, then what apply will refuse and every warning
//! (each naming its account), then a table with one row per account that has something to
//! show (marked where it needs attention; accounts with nothing to do are counted in one
//! line), then the changes: each a collapsible `<details>` whose summary says what changes and
//! why (`~ update **High value purchase**: description`), holding a ```` ```diff ```` block that
//! GitHub colours (see `diff_block`).
//!
//! Bounded ([`Bound`], `--max-chars`): the head is always kept, and every change is named
//! where names fit, its diff shown where there is room (the ladder is in [`layout`]). Entries
//! are only ever written whole, so a cut never leaves a fence or a `<details>` open. A last
//! line, outside any block, says what is not shown and where the full plan is. Sizes are
//! counted in UTF-8 bytes, which is never less than the characters or UTF-16 units GitHub
//! counts, so the bound holds however it is measured.
//!
//! User text (conversion names, file names, warnings) is never trusted: it is written with
//! every markdown and HTML character as an entity, names inside `<code>` (where GitHub makes no
//! links or @mentions), and each fence is longer than any run of backticks it encloses, so a
//! hostile name cannot close a block, split a table row or end a fence.

mod head;
mod inline;
mod layout;
#[cfg(test)]
mod tests;

use inline::link;
pub(crate) use inline::{code, escape, fence_for, thousands};
use layout::{Layout, write_section};

use super::Mode;
use crate::plan::PlanDocument;
use std::fmt::Write;
use std::io;

/// GitHub's limit on a comment (and an issue body): 65,536 characters. The default bound of
/// `--format markdown`.
pub(crate) const COMMENT_LIMIT: usize = 65_536;

/// How large the markdown may be, and where the whole plan can be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bound<'a> {
    /// At most this many bytes of UTF-8 (so at most this many characters).
    pub(crate) max_chars: usize,
    /// Shown in the note about entries left out (a workflow run's artifacts, say).
    pub(crate) full_plan_url: Option<&'a str>,
}

/// The whole markdown, unbounded.
pub fn render(doc: &PlanDocument, mode: Mode) -> String {
    render_bounded(doc, mode, None)
}

/// The markdown within `bound` (unbounded for `None`).
pub(crate) fn render_bounded(doc: &PlanDocument, mode: Mode, bound: Option<&Bound>) -> String {
    let mut out = Vec::new();
    render_bounded_to(&mut out, doc, mode, bound).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the rendering is built from strings")
}

#[cfg(test)]
/// The unbounded markdown, written to `out` a part at a time.
pub(crate) fn render_to(
    out: &mut impl io::Write,
    doc: &PlanDocument,
    mode: Mode,
) -> io::Result<()> {
    render_bounded_to(out, doc, mode, None)
}

/// The markdown within `bound`, written to `out` a part at a time (the head, then each
/// section), so a large plan is never one string in memory.
pub(crate) fn render_bounded_to(
    out: &mut impl io::Write,
    doc: &PlanDocument,
    mode: Mode,
    bound: Option<&Bound>,
) -> io::Result<()> {
    // A set entry changed in many accounts is one block, shown once after the table.
    let set_groups = super::set_groups::group(doc);
    let mut groups = String::new();
    super::set_groups::markdown_groups(&mut groups, &set_groups, mode, fence_for, code);
    let own = |a: usize, i: usize| !set_groups.grouped.contains(&(a, i));
    let layout = Layout::new(doc, mode, &own, groups.len(), bound);
    let mut part = String::new();
    layout.head.write(&mut part, layout.rows);
    part.push_str(&groups);
    out.write_all(part.as_bytes())?;
    for (section, forms) in layout.sections.iter().zip(&layout.forms) {
        part.clear();
        write_section(&mut part, doc, section, forms, mode);
        out.write_all(part.as_bytes())?;
    }
    out.write_all(layout.head.members.as_bytes())?;
    if let Some(cut) = &layout.cut {
        part.clear();
        cut_note(&mut part, cut, mode, bound);
        out.write_all(part.as_bytes())?;
    }
    Ok(())
}

/// What a bounded rendering left out, counted per account (a group's change once per
/// account it stands for).
pub(super) struct Cut {
    /// Changes shown with their diff.
    full: usize,
    /// Changes named (full ones included).
    named: usize,
    total: usize,
    /// Accounts with a change not named.
    accounts: usize,
    unlisted_rows: usize,
}

/// The last lines of a cut rendering: outside every block, in a note GitHub shows in colour.
fn cut_note(out: &mut String, cut: &Cut, mode: Mode, bound: Option<&Bound>) {
    let limit = bound.map_or(0, |b| b.max_chars);
    if cut.named == cut.total {
        let _ = write!(
            out,
            "\n> [!NOTE]\n> **Every change is named above; {} of {} are shown with their diff** to keep this under {} characters.",
            thousands(cut.full),
            thousands(cut.total),
            thousands(limit),
        );
    } else {
        let hidden = cut.total - cut.named;
        let _ = write!(
            out,
            "\n> [!NOTE]\n> **{} of {} changes are not named** (in {} {}) to keep this under {} characters.",
            thousands(hidden),
            thousands(cut.total),
            thousands(cut.accounts),
            if cut.accounts == 1 {
                "account"
            } else {
                "accounts"
            },
            thousands(limit),
        );
    }
    if cut.unlisted_rows > 0 {
        let _ = write!(
            out,
            " {} accounts are missing from the table.",
            thousands(cut.unlisted_rows)
        );
    } else {
        out.push_str(" Every account's counts are in the table above.");
    }
    match bound.and_then(|b| b.full_plan_url) {
        Some(url) => {
            let _ = writeln!(out, "\n> The full {}: {}", noun(mode), link(url));
        }
        None => {
            let command = match mode {
                Mode::Plan => "plan",
                Mode::Drift => "drift",
            };
            let _ = writeln!(
                out,
                "\n> The full {}: `convctl {command} --format markdown --max-chars 0`, or `--format text`.",
                noun(mode)
            );
        }
    }
}

fn noun(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "plan",
        Mode::Drift => "drift report",
    }
}
