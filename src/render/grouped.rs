//! The grouped text plan: what `apply` shows before its prompt when the whole plan would not
//! fit on the screen. The totals, what apply refuses and every warning first, then one line per
//! change (its headline: what changes and why), the creates of an account on one line of
//! names, changes from sets once with their number of accounts, and accounts whose changes
//! read the same as one block. Nothing is left out: every change is named; only the diffs are
//! not shown, and the last lines say how to see them.

use super::digest::{AccountGroups, detail, marker_and_verb};
use super::text::{Painter, attention_head};
use super::{Mode, RenderOptions, quoted, summary_line};
use crate::plan::{Action, PlanDocument};
use std::fmt::Write;
use std::io;

/// How many creates of an account are listed one a line before the rest become one line of
/// names.
const CREATES_LISTED: usize = 3;

/// The grouped plan, written to `out`; `whole`: how to see every diff (a command).
pub(crate) fn render_to(
    out: &mut impl io::Write,
    doc: &PlanDocument,
    opts: RenderOptions,
    whole: &str,
) -> io::Result<()> {
    let p = Painter(opts.color);
    let mut part = String::new();
    attention_head(&mut part, doc, opts.mode, p);
    let set_groups = super::set_groups::group(doc);
    for group in &set_groups.groups {
        let (_, first) = group.members[0];
        let _ = writeln!(
            part,
            "{} (set {}), in {} accounts",
            line(first, p, first.set_entry().unwrap_or(first.name())),
            first.set().unwrap_or_default(),
            group.members.len()
        );
    }
    if !set_groups.groups.is_empty() {
        part.push('\n');
    }
    out.write_all(part.as_bytes())?;
    let own = |a: usize, i: usize| !set_groups.grouped.contains(&(a, i));
    let active = (0..doc.accounts.len()).filter(|a| {
        let account = &doc.accounts[*a];
        (0..account.actions.len()).any(|i| own(*a, i))
            || !account.unmanaged.is_empty()
            || !account.retired.is_empty()
            || !account.warnings.is_empty()
            || !account.refusals.is_empty()
            || !account.info.is_empty()
    });
    let groups = AccountGroups::by_headlines(doc, active, own);
    for members in &groups.groups {
        part.clear();
        let a = members[0];
        let account = &doc.accounts[a];
        match members.len() {
            1 => {
                let _ = writeln!(
                    part,
                    "{}:",
                    p.bold(&format!("{} ({})", account.account, account.source))
                );
            }
            n => {
                let ids: Vec<String> = members
                    .iter()
                    .map(|m| doc.accounts[*m].account.to_string())
                    .collect();
                let _ = writeln!(
                    part,
                    "{} ({}):",
                    p.bold(&format!("{n} accounts, the same changes in each")),
                    ids.join(", ")
                );
            }
        }
        let mut creates = Vec::new();
        for (i, action) in account.actions.iter().enumerate() {
            if !own(a, i) {
                continue;
            }
            if matches!(action, Action::Create { .. }) {
                creates.push(action);
                continue;
            }
            let _ = writeln!(part, "  {}", line(action, p, action.name()));
        }
        if creates.len() <= CREATES_LISTED {
            for action in creates {
                let _ = writeln!(part, "  {}", line(action, p, action.name()));
            }
        } else {
            let names: Vec<String> = creates.iter().map(|c| quoted(c.name())).collect();
            let _ = writeln!(
                part,
                "  {} create {}: {}",
                p.green("+"),
                names.len(),
                names.join(", ")
            );
        }
        if !account.unmanaged.is_empty() {
            let _ = writeln!(
                part,
                "  {} {} unmanaged (live, declared nowhere)",
                p.dim("?"),
                account.unmanaged.len()
            );
        }
        if !account.retired.is_empty() {
            let _ = writeln!(
                part,
                "  {} {} retired by convctl: archive them in Events Manager",
                p.dim("~"),
                account.retired.len()
            );
        }
        for info in &account.info {
            let _ = writeln!(
                part,
                "  {} {}",
                p.bold("Note:"),
                crate::model::names::visible(info)
            );
        }
        part.push('\n');
        out.write_all(part.as_bytes())?;
    }
    writeln!(out, "{}", p.bold(&summary_line(&doc.summary, opts.mode)))?;
    writeln!(
        out,
        "Every change is named above, without its diff. {whole}"
    )
}

/// `~ update "Thank you page": description`: marker and verb, name, what changes and why.
fn line(action: &Action, p: Painter, name: &str) -> String {
    let (marker, verb) = marker_and_verb(action);
    let marker = match action {
        Action::Create { .. } => p.green(marker),
        Action::Update { .. } | Action::Retire { .. } => p.yellow(marker),
        Action::Replace { .. } | Action::Delete { .. } => p.red(marker),
    };
    format!("{marker} {verb} {}{}", quoted(name), detail(action))
}

/// Whether the whole text plan of `doc` is longer than `rows` lines (counted, never kept).
pub(crate) fn longer_than(doc: &PlanDocument, mode: Mode, rows: usize) -> bool {
    struct Lines(usize);
    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.iter().filter(|b| **b == b'\n').count();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut lines = Lines(0);
    let opts = RenderOptions { mode, color: false };
    super::text::render_to(&mut lines, doc, opts).expect("counting cannot fail");
    lines.0 > rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::tests::sample;

    #[test]
    fn every_change_is_one_line() {
        let mut out = Vec::new();
        render_to(
            &mut out,
            &sample(),
            RenderOptions::plain(Mode::Plan),
            "To see every diff: convctl plan.",
        )
        .unwrap();
        insta::assert_snapshot!(String::from_utf8(out).unwrap());
    }
}
