//! What a bounded comment shows of each change, decided before anything is written.
//!
//! Every change has two forms: *full* (a collapsed `<details>` whose summary is its headline,
//! holding the diff) and *named* (the headline as a list item; a create as one name in its
//! account's line of names). The ladder, each step tried only when the one before does not fit:
//!
//! 1. everything full, one section and one table row per account;
//! 2. every change named, then as many as fit shown full, most consequential first (deletes,
//!    replacements, updates, creates, unmanaged lists), a few of every account before more of
//!    any;
//! 3. the same with accounts whose changes read the same grouped (one row, one section);
//! 4. grouped, with at most the first K creates of a section named (the largest K that fits,
//!    the others counted), every other change still named;
//! 5. the sections that fit, in order, then the table's rows that fit.
//!
//! The head (totals, refusals, warnings, table) is always written first; its room is kept
//! before any entry's. Sizes are exact: a section's size is what [`write_section`] writes.

use super::head::Head;
use super::inline::{code, escape, fence_for};
use super::{Bound, Cut, cut_note};
use crate::plan::{AccountPlan, Action, PlanDocument};
use crate::render::Mode;
use crate::render::diff_block::diff_block;
use crate::render::digest::{AccountGroups, detail, marker_and_verb};
use std::fmt::Write;

/// One account's changes, or those of accounts whose changes read the same.
pub(super) struct Section<'a> {
    /// Account indexes, in plan order.
    pub(super) members: Vec<usize>,
    /// The first member's entries (every member's read the same), in plan order.
    pub(super) entries: Vec<Entry<'a>>,
}

/// One entry of a section: shown full, named, or left out whole.
#[derive(Clone, Copy)]
pub(super) enum Entry<'a> {
    Action(&'a Action),
    Unmanaged(&'a AccountPlan),
    /// The conversions convctl retired earlier, still listed (to archive).
    Retired(&'a AccountPlan),
    /// What the account's plan says for information (notes).
    Notes(&'a AccountPlan),
}

impl Entry<'_> {
    /// What a reviewer must see first: 0 most.
    fn priority(self) -> usize {
        match self {
            Entry::Action(Action::Delete { .. } | Action::Retire { .. }) => 0,
            Entry::Action(Action::Replace { .. }) => 1,
            Entry::Action(Action::Update { .. }) => 2,
            Entry::Action(Action::Create { .. }) => 3,
            Entry::Unmanaged(_) | Entry::Retired(_) | Entry::Notes(_) => 4,
        }
    }

    fn is_create(self) -> bool {
        matches!(self, Entry::Action(Action::Create { .. }))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    Full,
    Named,
    Hidden,
}

/// The decided layout.
pub(super) struct Layout<'a> {
    pub(super) head: Head,
    /// Table rows kept (all of them unless even the head does not fit).
    pub(super) rows: usize,
    pub(super) sections: Vec<Section<'a>>,
    /// Per section, per entry.
    pub(super) forms: Vec<Vec<Form>>,
    /// What was left out, for the last note; `None` when nothing was.
    pub(super) cut: Option<Cut>,
}

/// Whether the account has anything to show (a row in the table, a section below).
fn has_entries(account: &AccountPlan) -> bool {
    !(account.actions.is_empty()
        && account.unmanaged.is_empty()
        && account.retired.is_empty()
        && account.warnings.is_empty()
        && account.refusals.is_empty()
        && account.info.is_empty())
}

fn sections<'a>(
    doc: &'a PlanDocument,
    groups: &AccountGroups,
    own: &dyn Fn(usize, usize) -> bool,
) -> Vec<Section<'a>> {
    groups
        .groups
        .iter()
        .map(|members| {
            let a = members[0];
            let account = &doc.accounts[a];
            let entries = account
                .actions
                .iter()
                .enumerate()
                .filter(|(i, _)| own(a, *i))
                .map(|(_, action)| Entry::Action(action))
                .chain((!account.unmanaged.is_empty()).then_some(Entry::Unmanaged(account)))
                .chain((!account.retired.is_empty()).then_some(Entry::Retired(account)))
                .chain((!account.info.is_empty()).then_some(Entry::Notes(account)))
                .collect();
            Section {
                members: members.clone(),
                entries,
            }
        })
        .collect()
}

/// Sizes measured once: each section's heading and each entry's full form (a group's full
/// entries are its first account's, and its heading says so: values and ids differ from
/// account to account).
struct Sizes {
    headings: Vec<usize>,
    full: Vec<Vec<Option<usize>>>,
}

impl Sizes {
    fn of(doc: &PlanDocument, sections: &[Section], mode: Mode) -> Sizes {
        let mut text = String::new();
        let mut headings = Vec::with_capacity(sections.len());
        let mut full = Vec::with_capacity(sections.len());
        for section in sections {
            text.clear();
            section_heading(&mut text, doc, &section.members);
            headings.push(text.len());
            full.push(
                section
                    .entries
                    .iter()
                    .map(|e| {
                        text.clear();
                        write_full(&mut text, *e, mode);
                        Some(text.len())
                    })
                    .collect(),
            );
        }
        Sizes { headings, full }
    }

    /// The exact size of a section in these forms (what [`write_section`] writes).
    fn section(&self, s: usize, section: &Section, forms: &[Form], scratch: &mut String) -> usize {
        if forms.iter().all(|f| *f == Form::Hidden) {
            return 0;
        }
        scratch.clear();
        write_named(scratch, section, forms);
        let full: usize = forms
            .iter()
            .zip(&self.full[s])
            .filter(|(f, _)| **f == Form::Full)
            .map(|(_, len)| len.unwrap_or(0))
            .sum();
        self.headings[s] + full + scratch.len()
    }

    fn total(&self, sections: &[Section], forms: &[Vec<Form>]) -> usize {
        let mut scratch = String::new();
        sections
            .iter()
            .enumerate()
            .map(|(s, section)| self.section(s, section, &forms[s], &mut scratch))
            .sum()
    }
}

impl<'a> Layout<'a> {
    pub(super) fn new(
        doc: &'a PlanDocument,
        mode: Mode,
        own: &dyn Fn(usize, usize) -> bool,
        set_groups: usize,
        bound: Option<&Bound>,
    ) -> Layout<'a> {
        let active: Vec<usize> = (0..doc.accounts.len())
            .filter(|a| has_entries(&doc.accounts[*a]))
            .collect();
        let each = AccountGroups::each(active.iter().copied());
        let head = Head::of(doc, mode, &each, usize::MAX);
        let sections = sections(doc, &each, own);
        let sizes = Sizes::of(doc, &sections, mode);
        let all = |form: Form| -> Vec<Vec<Form>> {
            sections
                .iter()
                .map(|s| vec![form; s.entries.len()])
                .collect()
        };
        let full = all(Form::Full);
        let Some(bound) = bound else {
            return Layout::done(head, sections, full, None);
        };
        if head.len(head.rows.len()) + set_groups + sizes.total(&sections, &full) <= bound.max_chars
        {
            return Layout::done(head, sections, full, None);
        }
        // The note is written last but its room is kept first (at its largest).
        let total_entries = count(&sections, &full);
        let mut note = String::new();
        let largest = Cut {
            full: total_entries,
            named: total_entries,
            total: total_entries,
            accounts: doc.accounts.len(),
            unlisted_rows: doc.accounts.len(),
        };
        cut_note(&mut note, &largest, mode, Some(bound));
        let budget = bound.max_chars.saturating_sub(note.len() + set_groups);

        // 2. Every change named, then upgraded.
        let named = all(Form::Named);
        let room = budget.saturating_sub(head.len(head.rows.len()));
        if sizes.total(&sections, &named) <= room {
            let forms = upgrade(&sections, &sizes, named, room);
            return Layout::cut(head, sections, forms, total_entries);
        }

        // 3. Accounts whose changes read the same, grouped.
        let grouped = AccountGroups::by_headlines(doc, active.iter().copied(), own);
        let head = Head::of(doc, mode, &grouped, budget / 2);
        let sections = self::sections(doc, &grouped, own);
        let sizes = Sizes::of(doc, &sections, mode);
        let named: Vec<Vec<Form>> = sections
            .iter()
            .map(|s| vec![Form::Named; s.entries.len()])
            .collect();
        let mut rows = head.rows.len();
        while rows > 0 && head.len(rows) > budget {
            rows -= 1;
        }
        let room = budget.saturating_sub(head.len(rows));
        if rows == head.rows.len() && sizes.total(&sections, &named) <= room {
            let forms = upgrade(&sections, &sizes, named, room);
            return Layout::cut(head, sections, forms, total_entries).with_rows(rows);
        }

        // 4. At most K creates of a section named, the largest K that fits.
        let capped = |k: usize| -> Vec<Vec<Form>> {
            sections
                .iter()
                .map(|s| {
                    let mut creates = 0;
                    s.entries
                        .iter()
                        .map(|e| {
                            if !e.is_create() {
                                return Form::Named;
                            }
                            creates += 1;
                            if creates <= k {
                                Form::Named
                            } else {
                                Form::Hidden
                            }
                        })
                        .collect()
                })
                .collect()
        };
        if sizes.total(&sections, &capped(0)) <= room {
            let (mut lo, mut hi) = (
                0,
                sections.iter().map(|s| s.entries.len()).max().unwrap_or(0),
            );
            while lo < hi {
                let mid = (lo + hi).div_ceil(2);
                if sizes.total(&sections, &capped(mid)) <= room {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            let forms = capped(lo);
            return Layout::cut(head, sections, forms, total_entries).with_rows(rows);
        }

        // 5. The sections that fit, in order (creates counted, not named).
        let mut forms = capped(0);
        let mut left = room;
        let mut scratch = String::new();
        for (s, section) in sections.iter().enumerate() {
            let size = sizes.section(s, section, &forms[s], &mut scratch);
            if size <= left {
                left -= size;
            } else {
                forms[s].iter_mut().for_each(|f| *f = Form::Hidden);
            }
        }
        Layout::cut(head, sections, forms, total_entries).with_rows(rows)
    }

    fn done(
        head: Head,
        sections: Vec<Section<'a>>,
        forms: Vec<Vec<Form>>,
        cut: Option<Cut>,
    ) -> Layout<'a> {
        Layout {
            rows: head.rows.len(),
            head,
            sections,
            forms,
            cut,
        }
    }

    /// A layout that leaves something out (or shows some changes only by name).
    fn cut(
        head: Head,
        sections: Vec<Section<'a>>,
        forms: Vec<Vec<Form>>,
        total: usize,
    ) -> Layout<'a> {
        let mut cut = Cut {
            full: 0,
            named: 0,
            total,
            accounts: 0,
            unlisted_rows: 0,
        };
        for (section, forms) in sections.iter().zip(&forms) {
            let members = section.members.len();
            // A group's diff is its first account's: one shown.
            cut.full += forms.iter().filter(|f| **f == Form::Full).count();
            cut.named += members * forms.iter().filter(|f| **f != Form::Hidden).count();
            if forms.contains(&Form::Hidden) {
                cut.accounts += members;
            }
        }
        Layout::done(head, sections, forms, Some(cut))
    }

    fn with_rows(mut self, rows: usize) -> Layout<'a> {
        if let Some(cut) = &mut self.cut {
            cut.unlisted_rows = self.head.rows[rows..]
                .iter()
                .zip(&self.sections[rows..])
                .map(|(_, s)| s.members.len())
                .sum();
        }
        self.rows = rows;
        self
    }
}

/// Entries counted once per account they stand for.
fn count(sections: &[Section], forms: &[Vec<Form>]) -> usize {
    sections
        .iter()
        .zip(forms)
        .map(|(s, f)| s.members.len() * f.len())
        .sum()
}

/// From every change named, shows as many full as fit in `room`: most consequential first, a
/// few of every account before more of any; then checks the exact size and takes back the
/// last ones while it is over.
fn upgrade(
    sections: &[Section],
    sizes: &Sizes,
    mut forms: Vec<Vec<Form>>,
    room: usize,
) -> Vec<Vec<Form>> {
    let mut candidates = Vec::new();
    for (s, section) in sections.iter().enumerate() {
        let mut rank = [0usize; 5];
        for (e, entry) in section.entries.iter().enumerate() {
            if let Some(len) = sizes.full[s][e] {
                let p = entry.priority();
                candidates.push((p, rank[p], s, e, len));
                rank[p] += 1;
            }
        }
    }
    candidates.sort_unstable();
    let mut left = room.saturating_sub(sizes.total(sections, &forms));
    let mut upgraded = Vec::new();
    for (_, _, s, e, len) in candidates {
        // The named form's room is not counted back: an estimate that never overshoots much.
        if len <= left {
            left -= len;
            forms[s][e] = Form::Full;
            upgraded.push((s, e));
        }
    }
    while sizes.total(sections, &forms) > room {
        let Some((s, e)) = upgraded.pop() else { break };
        forms[s][e] = Form::Named;
    }
    forms
}

/// `#### `act_1` (file)`, or the first of a group and how many more read the same.
pub(super) fn section_heading(out: &mut String, doc: &PlanDocument, members: &[usize]) {
    let first = &doc.accounts[members[0]];
    match members.len() {
        1 => {
            let _ = writeln!(
                out,
                "\n#### `{}` ({})\n",
                first.account,
                code(&first.source)
            );
        }
        n => {
            let _ = writeln!(
                out,
                "\n#### `{}` and {} more accounts, the same changes in each (listed at the end; diffs shown are `{}`'s)\n",
                first.account,
                n - 1,
                first.account
            );
        }
    }
}

/// A section as laid out: its heading, its full entries in plan order, then its named ones
/// (a list of headlines, then one line of the names of the creates).
pub(super) fn write_section(
    out: &mut String,
    doc: &PlanDocument,
    section: &Section,
    forms: &[Form],
    mode: Mode,
) {
    if forms.iter().all(|f| *f == Form::Hidden) {
        return;
    }
    section_heading(out, doc, &section.members);
    for (entry, form) in section.entries.iter().zip(forms) {
        if *form == Form::Full {
            write_full(out, *entry, mode);
        }
    }
    write_named(out, section, forms);
}

/// The headline of an action, as summary and as list item: marker and verb in words, the
/// name, what changes and why. The detail is convctl's own words and field names (an
/// underscore inside a word is never emphasis), so it is written as it is; the name is user
/// text, in `<code>`.
fn headline(action: &Action) -> String {
    let (marker, verb) = marker_and_verb(action);
    format!(
        "<code>{marker}</code> {verb} <b>{}</b>{}",
        code(action.name()),
        detail(action)
    )
}

fn retired_headline(account: &AccountPlan) -> String {
    format!(
        "<code>~</code> {} retired by convctl (renamed instead of deleted; still counting): archive them in Events Manager",
        account.retired.len()
    )
}

fn notes_headline(account: &AccountPlan) -> String {
    format!("{} note(s)", account.info.len())
}

fn unmanaged_headline(account: &AccountPlan) -> String {
    format!(
        "<code>?</code> {} unmanaged (live, declared nowhere)",
        account.unmanaged.len()
    )
}

/// One entry in full: a `<details>` block with its closed fence, or the unmanaged list.
fn write_full(out: &mut String, entry: Entry, mode: Mode) {
    match entry {
        Entry::Action(action) => {
            let _ = writeln!(out, "<details><summary>{}</summary>\n", headline(action));
            let block = diff_block(action, mode);
            let fence = fence_for(&block);
            let _ = writeln!(out, "{fence}diff\n{block}{fence}\n");
            let _ = writeln!(out, "</details>\n");
        }
        Entry::Unmanaged(account) => {
            let _ = writeln!(
                out,
                "<details><summary>{}</summary>\n",
                unmanaged_headline(account)
            );
            for u in &account.unmanaged {
                let _ = writeln!(out, "- {} (id `{}`)", code(&u.name), u.id);
            }
            let _ = writeln!(out, "\n</details>\n");
        }
        Entry::Retired(account) => {
            let _ = writeln!(
                out,
                "<details><summary>{}</summary>\n",
                retired_headline(account)
            );
            for r in &account.retired {
                let _ = writeln!(
                    out,
                    "- {} (id `{}`): retired: archive it in Events Manager",
                    code(&r.name),
                    r.id
                );
            }
            let _ = writeln!(out, "\n</details>\n");
        }
        Entry::Notes(account) => {
            for info in &account.info {
                let _ = writeln!(out, "> [!NOTE]\n> {}\n", escape(info));
            }
        }
    }
}

/// The named entries: headlines as a list, then the creates' names on one line, then how
/// many are not named.
fn write_named(out: &mut String, section: &Section, forms: &[Form]) {
    let mut listed = false;
    let mut names = Vec::new();
    let mut full_creates = 0;
    let mut hidden = 0;
    for (entry, form) in section.entries.iter().zip(forms) {
        match (form, entry) {
            (Form::Hidden, _) => hidden += 1,
            (Form::Full, e) => full_creates += usize::from(e.is_create()),
            (Form::Named, Entry::Action(action @ Action::Create { .. })) => {
                names.push(code(action.name()));
            }
            (Form::Named, Entry::Action(action)) => {
                let _ = writeln!(out, "- {}", headline(action));
                listed = true;
            }
            (Form::Named, Entry::Unmanaged(account)) => {
                let _ = writeln!(out, "- {}", unmanaged_headline(account));
                listed = true;
            }
            (Form::Named, Entry::Retired(account)) => {
                let _ = writeln!(out, "- {}", retired_headline(account));
                listed = true;
            }
            (Form::Named, Entry::Notes(account)) => {
                let _ = writeln!(out, "- {}", notes_headline(account));
                listed = true;
            }
        }
    }
    if listed {
        out.push('\n');
    }
    if !names.is_empty() {
        let more = if full_creates > 0 { " more" } else { "" };
        let _ = write!(
            out,
            "<code>+</code> create {}{more}: {}",
            names.len(),
            names.join(", ")
        );
    }
    if hidden > 0 {
        let _ = write!(
            out,
            "{}{hidden} more not named here",
            if names.is_empty() { "" } else { "; " }
        );
    }
    if !names.is_empty() || hidden > 0 {
        out.push_str("\n\n");
    }
}
