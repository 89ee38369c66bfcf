//! The markdown rendering, for a pull-request comment, a step summary or an issue: the summary
//! line, a table with one row per account that has something to show (accounts with nothing
//! to do are counted in one line), then per account its warnings and each action in a
//! collapsible `<details>` block holding a ```` ```diff ```` block that GitHub colours (see
//! `diff_block`).
//!
//! Bounded ([`Bound`], `--max-chars`): the title, the totals and every account's row are always
//! kept; entries (one action, one warning, one account's unmanaged list) are kept or dropped
//! whole, most consequential first (warnings, deletes, replacements, updates, creates, then
//! unmanaged lists), a few of every account before more of any, and shown in plan order. A
//! dropped entry never leaves a fence or a `<details>` open, because entries are only ever
//! written whole. A last line, outside any block, says how many entries are not shown and
//! where the full plan is. Sizes are counted in UTF-8 bytes, which is never less than the
//! characters or UTF-16 units GitHub counts, so the bound holds however it is measured.
//!
//! User text (conversion names, file names, warnings) is never trusted: it is written with
//! every markdown and HTML character as an entity, names inside `<code>` (where GitHub makes no
//! links or @mentions), and each fence is longer than any run of backticks it encloses, so a
//! hostile name cannot close a block, split a table row or end a fence.

use super::diff_block::diff_block;
use super::set_groups::SetGroups;
use super::{Mode, summary_line};
use crate::model::names;
use crate::plan::{AccountPlan, Action, PlanDocument, Summary};
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
/// entry), so a large plan is never one string in memory.
pub(crate) fn render_bounded_to(
    out: &mut impl io::Write,
    doc: &PlanDocument,
    mode: Mode,
    bound: Option<&Bound>,
) -> io::Result<()> {
    let head = Head::of(doc, mode);
    // A set entry changed in many accounts is one block, shown once after the table.
    let set_groups = super::set_groups::group(doc);
    let mut groups = String::new();
    super::set_groups::markdown_groups(&mut groups, &set_groups, mode, fence_for, code);
    let layout = match bound {
        None => Layout::everything(doc, &set_groups),
        Some(bound) => Layout::within(doc, mode, &head, &set_groups, groups.len(), bound),
    };
    let mut part = String::new();
    head.write(&mut part, layout.rows);
    part.push_str(&groups);
    out.write_all(part.as_bytes())?;
    let mut entry = String::new();
    for (a, account) in doc.accounts.iter().enumerate() {
        let shown = &layout.shown[a];
        if !shown.iter().any(|s| *s) {
            continue;
        }
        part.clear();
        account_heading(&mut part, account);
        out.write_all(part.as_bytes())?;
        for (e, kind) in entries(account, |i| set_groups.grouped.contains(&(a, i))).enumerate() {
            if shown[e] {
                entry.clear();
                write_entry(&mut entry, account, kind, mode);
                out.write_all(entry.as_bytes())?;
            }
        }
    }
    if layout.hidden_entries > 0 || layout.rows < head.rows.len() {
        part.clear();
        cut_note(
            &mut part,
            &Cut {
                hidden: layout.hidden_entries,
                total: layout.total_entries,
                accounts: layout.hidden_accounts,
                unlisted_rows: head.rows.len() - layout.rows,
            },
            mode,
            bound,
        );
        out.write_all(part.as_bytes())?;
    }
    Ok(())
}

/// Which rows and entries are shown.
struct Layout {
    /// Table rows kept (all of them unless even the head does not fit).
    rows: usize,
    /// Per account, per entry (in [`entries`] order): shown or not.
    shown: Vec<Vec<bool>>,
    hidden_entries: usize,
    total_entries: usize,
    /// Accounts with at least one entry not shown.
    hidden_accounts: usize,
}

impl Layout {
    fn everything(doc: &PlanDocument, set_groups: &SetGroups) -> Layout {
        let shown: Vec<Vec<bool>> = doc
            .accounts
            .iter()
            .enumerate()
            .map(|(a, account)| {
                vec![true; entries(account, |i| set_groups.grouped.contains(&(a, i))).count()]
            })
            .collect();
        let total = shown.iter().map(Vec::len).sum();
        Layout {
            rows: usize::MAX,
            shown,
            hidden_entries: 0,
            total_entries: total,
            hidden_accounts: 0,
        }
    }

    /// `groups`: the size of the set groups, always shown after the head.
    fn within(
        doc: &PlanDocument,
        mode: Mode,
        head: &Head,
        set_groups: &SetGroups,
        groups: usize,
        bound: &Bound,
    ) -> Layout {
        // Every entry's size, measured once; its text is rebuilt when it is written.
        let mut text = String::new();
        let mut candidates = Vec::new();
        let mut headings = Vec::with_capacity(doc.accounts.len());
        let mut everything = head.len(head.rows.len()) + groups;
        for (a, account) in doc.accounts.iter().enumerate() {
            text.clear();
            account_heading(&mut text, account);
            let heading = text.len();
            headings.push(heading);
            let mut rank = [0usize; PRIORITIES];
            let mut any = false;
            for (e, kind) in entries(account, |i| set_groups.grouped.contains(&(a, i))).enumerate()
            {
                text.clear();
                write_entry(&mut text, account, kind, mode);
                let priority = kind.priority();
                candidates.push(Candidate {
                    priority,
                    rank: rank[priority],
                    account: a,
                    entry: e,
                    len: text.len(),
                });
                rank[priority] += 1;
                everything += text.len();
                any = true;
            }
            if any {
                everything += heading;
            }
        }
        let mut shown: Vec<Vec<bool>> = doc
            .accounts
            .iter()
            .enumerate()
            .map(|(a, account)| {
                vec![false; entries(account, |i| set_groups.grouped.contains(&(a, i))).count()]
            })
            .collect();
        let total = candidates.len();
        if everything <= bound.max_chars {
            return Layout {
                rows: head.rows.len(),
                shown: shown.into_iter().map(|s| vec![true; s.len()]).collect(),
                hidden_entries: 0,
                total_entries: total,
                hidden_accounts: 0,
            };
        }
        // The note is written last but its room is kept first (at its largest: all counts
        // as large as the totals).
        let mut note = String::new();
        cut_note(
            &mut note,
            &Cut {
                hidden: total,
                total,
                accounts: doc.accounts.len(),
                unlisted_rows: head.rows.len(),
            },
            mode,
            Some(bound),
        );
        let mut budget = bound.max_chars.saturating_sub(note.len());
        let mut rows = head.rows.len();
        while rows > 0 && head.len(rows) > budget {
            rows -= 1;
        }
        budget = budget.saturating_sub(head.len(rows) + groups);
        candidates.sort_by_key(|c| (c.priority, c.rank, c.account, c.entry));
        let mut opened = vec![false; doc.accounts.len()];
        for c in &candidates {
            let cost = c.len
                + if opened[c.account] {
                    0
                } else {
                    headings[c.account]
                };
            if cost <= budget {
                budget -= cost;
                opened[c.account] = true;
                shown[c.account][c.entry] = true;
            }
        }
        let hidden_entries = shown.iter().flatten().filter(|s| !**s).count();
        let hidden_accounts = shown.iter().filter(|s| s.iter().any(|s| !*s)).count();
        Layout {
            rows,
            shown,
            hidden_entries,
            total_entries: total,
            hidden_accounts,
        }
    }
}

struct Candidate {
    priority: usize,
    /// How many entries of the same priority come before it in its account.
    rank: usize,
    account: usize,
    entry: usize,
    len: usize,
}

const PRIORITIES: usize = 6;

/// One entry of an account: kept or dropped whole.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Warning(&'a str),
    Action(&'a Action),
    Unmanaged,
}

impl Entry<'_> {
    /// What a reviewer must see first: 0 most.
    fn priority(self) -> usize {
        match self {
            Entry::Warning(_) => 0,
            Entry::Action(Action::Delete { .. }) => 1,
            Entry::Action(Action::Replace { .. }) => 2,
            Entry::Action(Action::Update { .. }) => 3,
            Entry::Action(Action::Create { .. }) => 4,
            Entry::Unmanaged => 5,
        }
    }
}

/// An account's entries, in the order they are shown; an action shown in a set group
/// (`in_group` of its index) is not one of them.
fn entries<'a>(
    account: &'a AccountPlan,
    in_group: impl Fn(usize) -> bool + 'a,
) -> impl Iterator<Item = Entry<'a>> + 'a {
    account
        .warnings
        .iter()
        .map(|w| Entry::Warning(w))
        .chain(
            account
                .actions
                .iter()
                .enumerate()
                .filter(move |(i, _)| !in_group(*i))
                .map(|(_, action)| Entry::Action(action)),
        )
        .chain((!account.unmanaged.is_empty()).then_some(Entry::Unmanaged))
}

/// Whether an account has anything to show (a row in the table, a section below).
fn has_entries(account: &AccountPlan) -> bool {
    !(account.actions.is_empty() && account.unmanaged.is_empty() && account.warnings.is_empty())
}

/// The title, the summary line and the table of accounts, as parts whose sizes are known.
struct Head {
    /// Title, totals and the table's header.
    top: String,
    rows: Vec<String>,
    /// The count of accounts with nothing to do.
    bottom: String,
}

impl Head {
    fn of(doc: &PlanDocument, mode: Mode) -> Head {
        let title = match mode {
            Mode::Plan => "convctl plan",
            Mode::Drift => "convctl drift",
        };
        let mut top = format!("### {title}\n\n");
        let _ = writeln!(top, "**{}**\n", summary_line(&doc.summary, mode));
        let mut bottom = String::new();
        let active: Vec<&AccountPlan> = doc.accounts.iter().filter(|a| has_entries(a)).collect();
        let quiet = doc.accounts.len() - active.len();
        let state = match mode {
            Mode::Plan => "no changes",
            Mode::Drift => "in sync",
        };
        if doc.accounts.is_empty() {
            top.push_str("No accounts selected.\n");
        } else if active.is_empty() {
            let _ = writeln!(top, "{}: {state}.", accounts_count(quiet, "All"));
        } else {
            top.push_str(
                "| Account | Manifest | Create | Update | Replace | Delete | Unmanaged |\n",
            );
            top.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
            if quiet > 0 {
                let other = if quiet == 1 { "account" } else { "accounts" };
                let _ = writeln!(bottom, "\n{quiet} other {other}: {state} (not listed).");
            }
        }
        let rows = active
            .iter()
            .map(|account| {
                let s = Summary::of([*account]);
                format!(
                    "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                    account.account,
                    code(&account.source),
                    s.create,
                    s.update,
                    s.replace,
                    s.delete,
                    s.unmanaged
                )
            })
            .collect();
        Head { top, rows, bottom }
    }

    /// Its size with the first `rows` rows.
    fn len(&self, rows: usize) -> usize {
        self.top.len()
            + self.rows.iter().take(rows).map(String::len).sum::<usize>()
            + self.bottom.len()
    }

    fn write(&self, out: &mut String, rows: usize) {
        out.push_str(&self.top);
        for row in self.rows.iter().take(rows) {
            out.push_str(row);
        }
        out.push_str(&self.bottom);
    }
}

fn accounts_count(n: usize, all: &str) -> String {
    match n {
        1 => "The account".to_string(),
        n => format!("{all} {n} accounts"),
    }
}

fn account_heading(out: &mut String, account: &AccountPlan) {
    let _ = writeln!(
        out,
        "\n#### `{}` ({})\n",
        account.account,
        code(&account.source)
    );
}

/// One entry, complete: a warning, or a `<details>` block with its closed fence.
fn write_entry(out: &mut String, account: &AccountPlan, entry: Entry<'_>, mode: Mode) {
    match entry {
        Entry::Warning(warning) => {
            let _ = writeln!(out, "> [!WARNING]\n> {}\n", escape(warning));
        }
        Entry::Action(action) => {
            let (marker, verb) = match action {
                Action::Create { .. } => ("+", "create"),
                Action::Update { .. } => ("~", "update"),
                Action::Replace { .. } => ("-/+", "replace"),
                Action::Delete { .. } => ("-", "delete"),
            };
            let id = action
                .id()
                .map(|id| format!(" (id {id})"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "<details><summary><code>{marker}</code> {verb} <b>{}</b>{id}</summary>\n",
                code(action.name())
            );
            let block = diff_block(action, mode);
            let fence = fence_for(&block);
            let _ = writeln!(out, "{fence}diff\n{block}{fence}\n");
            let _ = writeln!(out, "</details>\n");
        }
        Entry::Unmanaged => {
            let _ = writeln!(
                out,
                "<details><summary>{} unmanaged (live, declared nowhere)</summary>\n",
                account.unmanaged.len()
            );
            for u in &account.unmanaged {
                let _ = writeln!(out, "- {} (id `{}`)", code(&u.name), u.id);
            }
            let _ = writeln!(out, "\n</details>\n");
        }
    }
}

/// What a bounded rendering left out.
struct Cut {
    hidden: usize,
    total: usize,
    accounts: usize,
    unlisted_rows: usize,
}

/// The last lines of a cut rendering: outside every block, in a note GitHub shows in colour.
fn cut_note(out: &mut String, cut: &Cut, mode: Mode, bound: Option<&Bound>) {
    let limit = bound.map_or(0, |b| b.max_chars);
    let _ = write!(
        out,
        "\n> [!NOTE]\n> **{} of {} entries are not shown** (in {} {}) to keep this under {} characters.",
        thousands(cut.hidden),
        thousands(cut.total),
        thousands(cut.accounts),
        if cut.accounts == 1 {
            "account"
        } else {
            "accounts"
        },
        thousands(limit),
    );
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

/// A URL as an autolink when it can be one (no space, `<` or `>`), else as literal text.
fn link(url: &str) -> String {
    let plain = url.starts_with("https://") || url.starts_with("http://");
    if plain
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
    {
        format!("<{url}>")
    } else {
        code(url)
    }
}

/// `65536` as `65,536`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// User text as inline markdown that renders literally: ASCII punctuation that markdown or
/// HTML could read (`<`, `|`, `` ` ``, `*`, `[`, `@`...) becomes a numeric entity, line
/// breaks become spaces, and any other character a reader would not see as it is (a bidi
/// control, a zero-width space) is shown as its code (`\u200b`). Entities never split a table
/// row, open a tag or start emphasis.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            c if names::is_invisible(c) => {
                out.push_str(&escape(&names::visible(&c.to_string())));
            }
            '.' | ',' | '-' | '/' | ' ' | '"' | '\'' | '(' | ')' | '?' | '%' | '=' | '+' | ';' => {
                out.push(c);
            }
            c if c.is_ascii_punctuation() => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// User text (a name, a set name, a path) in `<code>`: literal, out of reach of GitHub's links
/// and @mentions, and escaped as every output escapes names ([`names::escaped`]: line breaks,
/// invisible characters and a name not in NFC shown as codes).
fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(&names::escaped(text)))
}

/// A backtick fence longer than any run of backticks in `content` (at least four).
fn fence_for(content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::AdAccountId;
    use crate::plan::{ConversionState, DeleteReason};
    use crate::render::diff_block::grammar::diff_blocks;
    use crate::render::tests::sample;
    use serde_json::json;

    fn create(n: usize) -> Action {
        let name = format!("Purchase over {n}");
        Action::Create {
            name: name.clone(),
            set: None,
            set_entry: None,
            after: ConversionState {
                name,
                description: Some(format!("Purchases above {n} in the spring campaign")),
                custom_event_type: Some("PURCHASE".into()),
                default_conversion_value: Some(n as f64),
                event_source_id: Some("998877665544".into()),
                action_source_type: Some("website".into()),
                rule: Some(
                    json!({"and": [{"event": {"eq": "Purchase"}}, {"value": {"gt": n}},
                                   {"url": {"i_contains": format!("/shop/{n}/thank-you")}}]})
                    .into(),
                ),
                advanced_rule: None,
            },
        }
    }

    fn account(i: usize, actions: Vec<Action>) -> AccountPlan {
        AccountPlan {
            account: AdAccountId::parse(&format!("act_{}", 1000 + i)).unwrap(),
            source: format!("conversions/client-{i}.yaml"),
            live_fingerprint: "ab".into(),
            digest: None,
            actions,
            unmanaged: vec![],
            warnings: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
        }
    }

    /// `accounts` accounts of `creates` creates each.
    fn agency(accounts: usize, creates: usize) -> PlanDocument {
        PlanDocument::new(
            "v26.0",
            (0..accounts)
                .map(|i| account(i, (0..creates).map(create).collect()))
                .collect(),
        )
    }

    const RUN: &str = "https://github.example/acme/ads/actions/runs/42";

    fn comment() -> Bound<'static> {
        Bound {
            max_chars: COMMENT_LIMIT,
            full_plan_url: Some(RUN),
        }
    }

    /// Balanced fences and `<details>`; returns the lines outside every block.
    fn outside_blocks(md: &str) -> Vec<&str> {
        let mut outside = Vec::new();
        let mut fence: Option<usize> = None;
        let mut details = 0i32;
        for line in md.lines() {
            let ticks = line.bytes().take_while(|b| *b == b'`').count();
            if let Some(len) = fence {
                if ticks >= len && line[ticks..].trim().is_empty() {
                    fence = None;
                }
                continue;
            }
            if ticks >= 3 {
                fence = Some(ticks);
                continue;
            }
            details += line.matches("<details>").count() as i32;
            details -= line.matches("</details>").count() as i32;
            assert!(details >= 0, "a </details> too many:\n{md}");
            if details == 0 && !line.contains("</details>") {
                outside.push(line);
            }
        }
        assert_eq!(fence, None, "a fence is left open");
        assert_eq!(details, 0, "a <details> is left open");
        outside
    }

    /// The acceptance case of issue 13: 60 accounts x 100 creates (4 MB unbounded) in one
    /// GitHub comment, readable: every account's row, whole entries, the cut said outside
    /// every block.
    #[test]
    fn sixty_accounts_of_a_hundred_creates_fit_one_comment() {
        let doc = agency(60, 100);
        let whole = render(&doc, Mode::Plan);
        assert!(whole.len() > 3_000_000, "{}", whole.len());
        let md = render_bounded(&doc, Mode::Plan, Some(&comment()));
        assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
        assert!(md.chars().count() <= COMMENT_LIMIT);
        assert!(md.contains("**Plan: 6000 to create, 0 to update, 0 to replace, 0 to delete.**"));
        for i in 0..60 {
            let row = format!(
                "| `act_{}` | <code>conversions/client-{i}.yaml</code> | 100 | 0 | 0 | 0 | 0 |",
                1000 + i
            );
            assert!(md.contains(&row), "row of account {i} missing");
        }
        let outside = outside_blocks(&md);
        let shown = diff_blocks(&md).len();
        assert!(shown >= 40, "only {shown} entries shown");
        let note = format!(
            "> **{} of 6,000 entries are not shown**",
            thousands(6000 - shown)
        );
        let at = outside
            .iter()
            .position(|l| l.starts_with(&note))
            .unwrap_or_else(|| panic!("no visible cut note {note:?}:\n{}", &md[md.len() - 600..]));
        assert_eq!(outside[at - 1], "> [!NOTE]");
        assert!(
            outside[at + 1].contains(&format!("<{RUN}>")),
            "{}",
            outside[at + 1]
        );
        assert_eq!(at + 2, outside.len(), "the note is the last thing");
        // A few of every account before more of any: creates are spread over the accounts.
        let headings = md.lines().filter(|l| l.starts_with("#### ")).count();
        assert!(headings >= shown.min(60) / 2, "{headings} accounts shown");
        // As GitHub renders it, no block is left open before the note.
        let html = gfm_html(&md);
        let at = html
            .find("entries are not shown")
            .expect("the note renders");
        let before = &html[..at];
        assert_eq!(
            before.matches("<pre").count(),
            before.matches("</pre>").count()
        );
        assert_eq!(
            before.matches("<details>").count(),
            before.matches("</details>").count()
        );
    }

    /// GitHub-flavoured markdown as HTML, with the extensions GitHub turns on and raw HTML
    /// passed through (the reports use `<details>`, `<summary>`, `<code>` and `<b>`).
    fn gfm_html(md: &str) -> String {
        let mut options = comrak::Options::default();
        options.extension.table = true;
        options.extension.autolink = true;
        options.extension.strikethrough = true;
        options.extension.tasklist = true;
        options.render.r#unsafe = true;
        comrak::markdown_to_html(md, &options)
    }

    #[test]
    fn what_fits_is_not_cut_and_unbounded_is_the_same() {
        let doc = sample();
        let bounded = render_bounded(&doc, Mode::Plan, Some(&comment()));
        assert_eq!(bounded, render(&doc, Mode::Plan));
        assert!(!bounded.contains("not shown"));
        let exact = Bound {
            max_chars: bounded.len(),
            full_plan_url: None,
        };
        assert_eq!(render_bounded(&doc, Mode::Plan, Some(&exact)), bounded);
    }

    /// Deletes and warnings are what a reviewer must not miss: they are kept before creates,
    /// even in the last account.
    #[test]
    fn deletes_and_warnings_are_kept_first() {
        let mut doc = agency(5, 40);
        let last = doc.accounts.last_mut().unwrap();
        last.actions.push(Action::Delete {
            id: crate::model::ids::ObjectId::parse("77").unwrap(),
            name: "Revenue (old)".into(),
            set: None,
            set_entry: None,
            reason: DeleteReason::Prune,
            before: None,
        });
        last.warnings
            .push("deleting 1 conversion that fired today".into());
        let doc = PlanDocument::new("v26.0", doc.accounts);
        let bound = Bound {
            max_chars: 12_000,
            full_plan_url: Some(RUN),
        };
        let md = render_bounded(&doc, Mode::Plan, Some(&bound));
        assert!(md.len() <= 12_000);
        assert!(
            md.contains("delete <b><code>Revenue (old)</code></b>"),
            "{md}"
        );
        assert!(md.contains("deleting 1 conversion that fired today"));
        outside_blocks(&md);
    }

    /// When even the rows do not fit, the totals and the note still do, and the note says how
    /// many rows are missing.
    #[test]
    fn a_tiny_bound_keeps_the_totals_and_says_what_is_missing() {
        let doc = agency(60, 2);
        let bound = Bound {
            max_chars: 2_000,
            full_plan_url: None,
        };
        let md = render_bounded(&doc, Mode::Plan, Some(&bound));
        assert!(md.len() <= 2_000, "{}", md.len());
        assert!(md.contains("**Plan: 120 to create"));
        assert!(md.contains("accounts are missing from the table"), "{md}");
        assert!(md.contains("`convctl plan --format markdown --max-chars 0`"));
        outside_blocks(&md);
    }

    #[test]
    fn streamed_bounded_rendering_is_the_string() {
        let doc = agency(6, 30);
        let bound = Bound {
            max_chars: 20_000,
            full_plan_url: Some(RUN),
        };
        let mut out = Vec::new();
        render_bounded_to(&mut out, &doc, Mode::Drift, Some(&bound)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            render_bounded(&doc, Mode::Drift, Some(&bound))
        );
    }

    #[test]
    fn cut_plan_snapshot() {
        let mut doc = agency(3, 3);
        doc.accounts.push(account(9, vec![]));
        let doc = PlanDocument::new("v26.0", doc.accounts);
        let bound = Bound {
            max_chars: 4_500,
            full_plan_url: Some(RUN),
        };
        insta::assert_snapshot!(render_bounded(&doc, Mode::Plan, Some(&bound)));
    }

    #[test]
    fn cut_drift_snapshot() {
        let bound = Bound {
            max_chars: 2_000,
            full_plan_url: None,
        };
        insta::assert_snapshot!(render_bounded(&sample(), Mode::Drift, Some(&bound)));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(65536), "65,536");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn links_are_autolinks_only_when_safe() {
        assert_eq!(link("https://x.example/a?b=1"), "<https://x.example/a?b=1>");
        assert_eq!(
            link("javascript:alert(1)"),
            "<code>javascript&#58;alert(1)</code>"
        );
        assert!(!link("https://x.example/<b>").contains("<b>"));
    }
}
