//! The markdown rendering, for a pull-request comment or an alert: the summary line, a table
//! with one row per account, then per account its warnings and each action's details in a
//! collapsible `<details>` block (the text rendering of the action, uncoloured, in a `diff`
//! fence so that GitHub tints it).

use super::text::{Painter, action_block};
use super::{Mode, summary_line};
use crate::plan::{Action, PlanDocument, Summary};
use std::fmt::Write;

pub fn render(doc: &PlanDocument, mode: Mode) -> String {
    let mut out = String::new();
    let title = match mode {
        Mode::Plan => "convctl plan",
        Mode::Drift => "convctl drift",
    };
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(out, "**{}**\n", summary_line(&doc.summary, mode));
    if doc.accounts.is_empty() {
        let _ = writeln!(out, "No accounts selected.");
        return out;
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
            "| `{}` | `{}` | {} | {} | {} | {} | {} |",
            account.account,
            cell(&account.source),
            s.create,
            s.update,
            s.replace,
            s.delete,
            s.unmanaged
        );
    }
    for account in &doc.accounts {
        if account.actions.is_empty() && account.unmanaged.is_empty() && account.warnings.is_empty()
        {
            continue;
        }
        let _ = writeln!(out, "\n#### `{}`\n", account.account);
        for warning in &account.warnings {
            let _ = writeln!(out, "> [!WARNING]\n> {}\n", escape(warning));
        }
        for action in &account.actions {
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
                escape(action.name())
            );
            let _ = writeln!(
                out,
                "````diff\n{}````\n",
                action_block(action, mode, Painter(false))
            );
            let _ = writeln!(out, "</details>\n");
        }
        if !account.unmanaged.is_empty() {
            let _ = writeln!(
                out,
                "<details><summary>{} unmanaged (live, declared nowhere)</summary>\n",
                account.unmanaged.len()
            );
            for u in &account.unmanaged {
                let _ = writeln!(out, "- {} (id `{}`)", escape(&u.name), u.id);
            }
            let _ = writeln!(out, "\n</details>");
        }
    }
    out
}

/// Names are user text: keep them from opening HTML tags or breaking a table row.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', " ")
}

fn cell(text: &str) -> String {
    escape(text).replace('|', "\\|")
}
