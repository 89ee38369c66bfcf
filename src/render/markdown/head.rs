//! The head of the markdown: the title, the totals, what apply refuses and the warnings (each
//! naming its account), and the table of accounts with the rows that need attention marked.
//! It is what the first screen of a comment shows, so it is always written, within its room.

use super::inline::{code, escape, thousands};
use crate::plan::{AccountPlan, PlanDocument, Summary};
use crate::render::digest::{AccountGroups, Attention};
use crate::render::{Mode, summary_line};
use std::fmt::Write;

/// The title, totals, attention blocks and the table, as parts whose sizes are known.
pub(super) struct Head {
    /// Title, totals, attention blocks and the table's header.
    top: String,
    /// One row per group of accounts (a lone account is a group of one).
    pub(super) rows: Vec<String>,
    /// The count of accounts with nothing to do.
    bottom: String,
    /// Every account of each grouped row, named: written at the end of the comment (a long
    /// list in a table cell would push the first change off the first screen).
    pub(super) members: String,
}

impl Head {
    /// `attention_room`: at most this many bytes for the refusal and warning blocks; the items
    /// past it are counted, not listed.
    pub(super) fn of(
        doc: &PlanDocument,
        mode: Mode,
        groups: &AccountGroups,
        attention_room: usize,
    ) -> Head {
        let title = match mode {
            Mode::Plan => "convctl plan",
            Mode::Drift => "convctl drift",
        };
        let mut top = format!("### {title}\n\n");
        let active: usize = groups.groups.iter().map(Vec::len).sum();
        let quiet = doc.accounts.len() - active;
        let _ = write!(top, "**{}**", summary_line(&doc.summary, mode));
        if active > 0 && quiet > 0 {
            let _ = write!(
                top,
                " {} of {} accounts to review.",
                thousands(active),
                thousands(doc.accounts.len())
            );
        } else if active > 1 {
            let _ = write!(top, " {} accounts to review.", thousands(active));
        }
        top.push_str("\n\n");
        for notice in &doc.notices {
            let _ = writeln!(top, "> **Note:** {}\n", escape(notice));
        }
        attention(&mut top, &Attention::of(doc), mode, attention_room);
        let mut bottom = String::new();
        let state = match mode {
            Mode::Plan => "no changes",
            Mode::Drift => "in sync",
        };
        if doc.accounts.is_empty() {
            top.push_str("No accounts selected.\n");
        } else if active == 0 {
            let _ = writeln!(top, "{}: {state}.", accounts_count(quiet, "All"));
        } else {
            // The Retire column is there only when some account retires.
            if doc.summary.retire > 0 {
                top.push_str(
                    "| Account | Manifest | Create | Update | Replace | Delete | Retire | Unmanaged | Review |\n",
                );
                top.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
            } else {
                top.push_str(
                    "| Account | Manifest | Create | Update | Replace | Delete | Unmanaged | Review |\n",
                );
                top.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
            }
            if quiet > 0 {
                let other = if quiet == 1 { "account" } else { "accounts" };
                let _ = writeln!(
                    bottom,
                    "\n{} other {other}: {state} (not listed).",
                    thousands(quiet)
                );
            }
        }
        let rows = groups
            .groups
            .iter()
            .map(|members| row(doc, members))
            .collect();
        let mut listed = String::new();
        for members in groups.groups.iter().filter(|m| m.len() > 1) {
            let ids: Vec<String> = members
                .iter()
                .map(|a| format!("`{}`", doc.accounts[*a].account))
                .collect();
            let _ = writeln!(
                listed,
                "\n**The {} accounts of the row {}:** {}.",
                thousands(members.len()),
                group_label(doc, members),
                ids.join(", ")
            );
        }
        Head {
            top,
            rows,
            bottom,
            members: listed,
        }
    }

    /// Its size with the first `rows` rows.
    pub(super) fn len(&self, rows: usize) -> usize {
        self.top.len()
            + self.rows.iter().take(rows).map(String::len).sum::<usize>()
            + self.bottom.len()
            + self.members.len()
    }

    pub(super) fn write(&self, out: &mut String, rows: usize) {
        out.push_str(&self.top);
        for row in self.rows.iter().take(rows) {
            out.push_str(row);
        }
        out.push_str(&self.bottom);
    }
}

/// A table row: one account, or accounts whose changes read the same (the first named, the
/// others listed at the end of the comment; the counts are each account's).
fn row(doc: &PlanDocument, members: &[usize]) -> String {
    let first = &doc.accounts[members[0]];
    let s = Summary::of([first]);
    let (account, manifest) = match members {
        [_] => (format!("`{}`", first.account), code(&first.source)),
        _ => {
            let same_file = members
                .iter()
                .all(|a| doc.accounts[*a].source == first.source);
            (
                format!("{} (each; listed at the end)", group_label(doc, members)),
                if same_file {
                    code(&first.source)
                } else {
                    format!("{} files", thousands(members.len()))
                },
            )
        }
    };
    let retire = if doc.summary.retire > 0 {
        format!(" {} |", s.retire)
    } else {
        String::new()
    };
    format!(
        "| {account} | {manifest} | {} | {} | {} | {} |{retire} {} | {} |\n",
        s.create,
        s.update,
        s.replace,
        s.delete,
        s.unmanaged,
        review(first)
    )
}

/// `` `act_1000` and 58 more ``: a grouped row's first account and how many more.
fn group_label(doc: &PlanDocument, members: &[usize]) -> String {
    format!(
        "`{}` and {} more",
        doc.accounts[members[0]].account,
        thousands(members.len() - 1)
    )
}

/// The mark of a row that needs attention, in words as well as a sign.
fn review(account: &AccountPlan) -> String {
    let warnings = match account.warnings.len() {
        0 => String::new(),
        1 => "⚠️ 1 warning".to_string(),
        n => format!("⚠️ {n} warnings"),
    };
    match (account.refusals.is_empty(), warnings.is_empty()) {
        (true, _) => warnings,
        (false, true) => "⛔ **refused**".to_string(),
        (false, false) => format!("⛔ **refused**, {warnings}"),
    }
}

/// What apply refuses (a `CAUTION` note) and the warnings (a `WARNING` note), each item naming
/// its account, within `room` bytes: items past it are counted.
fn attention(out: &mut String, attention: &Attention, mode: Mode, room: usize) {
    let mut room = room;
    if !attention.refusals.is_empty() {
        let lead = match mode {
            Mode::Plan => "**Apply will refuse this plan** as it stands",
            Mode::Drift => "**Apply would refuse to converge this drift** as it stands",
        };
        let block = note_block(
            "CAUTION",
            &format!(
                "{lead} ({}):",
                accounts_phrase(Attention::accounts(&attention.refusals))
            ),
            &attention.refusals,
            &mut room,
        );
        out.push_str(&block);
    }
    if !attention.warnings.is_empty() {
        let n = attention.warnings.len();
        let block = note_block(
            "WARNING",
            &format!(
                "**{} {}** ({}):",
                thousands(n),
                if n == 1 { "warning" } else { "warnings" },
                accounts_phrase(Attention::accounts(&attention.warnings))
            ),
            &attention.warnings,
            &mut room,
        );
        out.push_str(&block);
    }
}

fn note_block(
    kind: &str,
    lead: &str,
    items: &[(&crate::model::ids::AdAccountId, &str)],
    room: &mut usize,
) -> String {
    let mut block = format!("> [!{kind}]\n> {lead}\n");
    // Room for the "and N more" line, at its largest.
    let more_line = format!(
        "> - and {} more, in the full plan\n",
        thousands(items.len())
    );
    let mut listed = 0;
    for (account, text) in items {
        let item = format!("> - `{account}`: {}\n", escape(text));
        if block.len() + item.len() + more_line.len() + 1 > *room {
            break;
        }
        block.push_str(&item);
        listed += 1;
    }
    if listed < items.len() {
        let _ = writeln!(
            block,
            "> - and {} more, in the full plan",
            thousands(items.len() - listed)
        );
    }
    block.push('\n');
    *room = room.saturating_sub(block.len());
    block
}

fn accounts_phrase(n: usize) -> String {
    match n {
        1 => "1 account".to_string(),
        n => format!("{} accounts", thousands(n)),
    }
}

fn accounts_count(n: usize, all: &str) -> String {
    match n {
        1 => "The account".to_string(),
        n => format!("{all} {} accounts", thousands(n)),
    }
}
