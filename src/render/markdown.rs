//! The markdown rendering, for a pull-request comment or an alert: the summary line, a table
//! with one row per account, then per account its warnings and each action's details in a
//! collapsible `<details>` block (the text rendering of the action, uncoloured, in a `diff`
//! fence so that GitHub tints it).
//!
//! User text (conversion names, file names, warnings) is never trusted: it is written with
//! every markdown and HTML character as an entity, names inside `<code>` (where GitHub makes no
//! links or @mentions), and each fence is longer than any run of backticks it encloses, so a
//! hostile name cannot close a block, split a table row or end a fence.

use super::text::{Painter, action_block};
use super::{Mode, summary_line};
use crate::plan::{AccountPlan, Action, PlanDocument, Summary};
use std::fmt::Write;
use std::io;

pub fn render(doc: &PlanDocument, mode: Mode) -> String {
    let mut out = Vec::new();
    render_to(&mut out, doc, mode).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the rendering is built from strings")
}

/// The same markdown, written to `out` a part at a time (the table, then each account), so a
/// large plan is never one string in memory.
pub fn render_to(out: &mut impl io::Write, doc: &PlanDocument, mode: Mode) -> io::Result<()> {
    let mut part = String::new();
    head(&mut part, doc, mode);
    let fleet = super::fleet::group(doc);
    super::fleet::markdown_groups(&mut part, &fleet, mode, fence_for, code);
    out.write_all(part.as_bytes())?;
    for (a, account) in doc.accounts.iter().enumerate() {
        part.clear();
        account_details(&mut part, account, mode, &|i| {
            !fleet.grouped.contains(&(a, i))
        });
        out.write_all(part.as_bytes())?;
    }
    Ok(())
}

/// The title, the summary line and the table of accounts.
fn head(out: &mut String, doc: &PlanDocument, mode: Mode) {
    let title = match mode {
        Mode::Plan => "convctl plan",
        Mode::Drift => "convctl drift",
    };
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(out, "**{}**\n", summary_line(&doc.summary, mode));
    if doc.accounts.is_empty() {
        let _ = writeln!(out, "No accounts selected.");
        return;
    }
    let _ = writeln!(
        out,
        "| Account | Manifest | Create | Update | Replace | Delete | Unmanaged |"
    );
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for account in &doc.accounts {
        let s = Summary::of([account]);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} | {} |",
            account.account,
            code(&account.source),
            s.create,
            s.update,
            s.replace,
            s.delete,
            s.unmanaged
        );
    }
}

/// One account's warnings, actions and unmanaged conversions (nothing when it has none).
fn account_details(
    out: &mut String,
    account: &AccountPlan,
    mode: Mode,
    own: &dyn Fn(usize) -> bool,
) {
    if account.actions.is_empty() && account.unmanaged.is_empty() && account.warnings.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### `{}`\n", account.account);
    for warning in &account.warnings {
        let _ = writeln!(out, "> [!WARNING]\n> {}\n", escape(warning));
    }
    for (_, action) in account.actions.iter().enumerate().filter(|(i, _)| own(*i)) {
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
        let block = action_block(action, mode, Painter(false));
        let fence = fence_for(&block);
        let _ = writeln!(out, "{fence}diff\n{block}{fence}\n");
        let _ = writeln!(out, "</details>\n");
    }
    if !account.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} unmanaged (live, declared nowhere)</summary>\n",
            account.unmanaged.len()
        );
        for u in &account.unmanaged {
            let _ = writeln!(out, "- {} (id `{}`)", code(&u.name), u.id);
        }
        let _ = writeln!(out, "\n</details>");
    }
}

/// User text as inline markdown that renders literally: ASCII punctuation that markdown or
/// HTML could read (`<`, `|`, `` ` ``, `*`, `[`, `@`...) becomes a numeric entity, line
/// breaks become spaces. Entities never split a table row, open a tag or start emphasis.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '.' | ',' | '-' | '/' | ' ' | '"' | '\'' | '(' | ')' | '?' | '%' | '=' | '+' | ';' => {
                out.push(c)
            }
            c if c.is_ascii_punctuation() => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// User text in `<code>`: literal, and out of reach of GitHub's links and @mentions.
fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

/// A backtick fence longer than any run of backticks in `content` (at least four).
fn fence_for(content: &str) -> String {
    let longest = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(4))
}
