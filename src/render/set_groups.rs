//! Set groups: a change to one entry of a set, made in 400 accounts, is one change to review.
//!
//! Actions that come from the same set entry (same set, same kind, same name) in two or more
//! accounts are grouped: one block names the accounts, shows the fields that are the same in
//! all of them once, and for a field that differs, each distinct value with the accounts that
//! have it ("per-account detail where they differ"). Actions of one account only, and actions
//! of an account's own entries, stay in that account's section. The JSON plan is not grouped:
//! it keeps one action per account (with `"set"`), and `apply` reports per account.

use super::text::{Painter, Shown, line_diff, shown, state_rows};
use super::{Mode, quoted};
use crate::model::ids::AdAccountId;
use crate::model::names::escaped;
use crate::plan::{Action, DeleteFirst, Field, FieldChange, PlanDocument, ReplaceOrder};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// How many account ids a list shows before "and N more" (the JSON plan lists every one).
const SHOWN_ACCOUNTS: usize = 10;

/// `"Purchase" (set ecommerce)`, or just the quoted name for an account's own entry.
pub(crate) fn label(action: &Action) -> String {
    match action.set() {
        Some(set) => format!("{} (set {})", quoted(action.name()), escaped(set)),
        None => quoted(action.name()),
    }
}

/// The same action (kind, set, name) in several accounts.
pub(crate) struct Group<'a> {
    pub(crate) members: Vec<(&'a AdAccountId, &'a Action)>,
}

/// The groups of a document, and which actions (account index, action index) they hold.
pub(crate) struct SetGroups<'a> {
    pub(crate) groups: Vec<Group<'a>>,
    pub(crate) grouped: HashSet<(usize, usize)>,
}

fn kind(action: &Action) -> u8 {
    match action {
        Action::Create { .. } => 0,
        Action::Update { .. } => 1,
        Action::Replace { .. } => 2,
        Action::Delete { .. } => 3,
        Action::Retire { .. } => 4,
    }
}

/// Groups the actions that come from sets across accounts (in order of first appearance).
pub(crate) fn group(doc: &PlanDocument) -> SetGroups<'_> {
    let mut index: HashMap<(&str, u8, &str), usize> = HashMap::new();
    let mut found: Vec<Vec<(usize, usize)>> = Vec::new();
    for (a, account) in doc.accounts.iter().enumerate() {
        for (i, action) in account.actions.iter().enumerate() {
            let Some(set) = action.set() else { continue };
            // The entry as the set names it: `Lead (${domain})` is one change in every
            // account, whatever each calls it.
            let key = (
                set,
                kind(action),
                action.set_entry().unwrap_or(action.name()),
            );
            let slot = *index.entry(key).or_insert_with(|| {
                found.push(Vec::new());
                found.len() - 1
            });
            found[slot].push((a, i));
        }
    }
    let mut groups = Vec::new();
    let mut grouped = HashSet::new();
    for members in found {
        let accounts: HashSet<usize> = members.iter().map(|(a, _)| *a).collect();
        if accounts.len() < 2 {
            continue;
        }
        grouped.extend(members.iter().copied());
        groups.push(Group {
            members: members
                .into_iter()
                .map(|(a, i)| (&doc.accounts[a].account, &doc.accounts[a].actions[i]))
                .collect(),
        });
    }
    SetGroups { groups, grouped }
}

/// `act_1, act_2, ... and 390 more`.
fn accounts_list(accounts: &[&AdAccountId]) -> String {
    let shown: Vec<String> = accounts
        .iter()
        .take(SHOWN_ACCOUNTS)
        .map(|a| a.to_string())
        .collect();
    let more = accounts.len().saturating_sub(SHOWN_ACCOUNTS);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// What happens, as the one-account block words it.
fn what(action: &Action, mode: Mode) -> String {
    super::what_happens(action, mode)
}

/// One row of a block: the marker, the field, and the value as shown (one line, or lines).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Row {
    marker: &'static str,
    field: &'static str,
    /// `true` when `text` goes below the field line (a multi-line value or a line diff).
    below: bool,
    text: String,
    forces: bool,
}

fn value_row(marker: &'static str, field: Field, value: &Value) -> Row {
    match shown(value) {
        Shown::Lines(lines) => Row {
            marker,
            field: field.as_str(),
            below: true,
            text: lines,
            forces: false,
        },
        Shown::Line(text) => Row {
            marker,
            field: field.as_str(),
            below: false,
            text,
            forces: false,
        },
    }
}

/// The rows of an action, without its id (ids differ per account; the JSON plan has them).
fn rows(action: &Action, p: Painter) -> Vec<Row> {
    match action {
        Action::Create { after, .. } => state_rows(after)
            .iter()
            .map(|(f, v)| value_row("+", *f, v))
            .collect(),
        Action::Delete { before, .. } => before
            .as_deref()
            .map(|b| {
                state_rows(b)
                    .iter()
                    .map(|(f, v)| value_row("-", *f, v))
                    .collect()
            })
            .unwrap_or_default(),
        Action::Update { changes, .. } | Action::Replace { changes, .. } => {
            let forced: &[Field] = match action {
                Action::Replace { forced_by, .. } => forced_by,
                _ => &[],
            };
            change_rows(changes, forced, p)
        }
        Action::Retire { .. } => change_rows(&super::retirement_changes(action), &[], p),
    }
}

/// `~` rows of changed fields, `# forces replacement` where `forced` says.
fn change_rows(changes: &[FieldChange], forced: &[Field], p: Painter) -> Vec<Row> {
    changes
        .iter()
        .map(|c| {
            let forces = forced.contains(&c.field);
            match (shown(&c.before), shown(&c.after)) {
                (Shown::Line(before), Shown::Line(after)) => Row {
                    marker: "~",
                    field: c.field.as_str(),
                    below: false,
                    text: format!("{before} -> {after}"),
                    forces,
                },
                (before, after) => {
                    let mut text = String::new();
                    line_diff(&mut text, before.text(), after.text(), p);
                    Row {
                        marker: "~",
                        field: c.field.as_str(),
                        below: true,
                        text,
                        forces,
                    }
                }
            }
        })
        .collect()
}

/// Renders one group: a header naming the accounts, the common rows once, and for a field
/// that differs each value with its accounts.
pub(crate) fn render_group(out: &mut String, group: &Group, mode: Mode, p: Painter) {
    let (_, first) = group.members[0];
    // Named as the set names the entry (`Lead (${domain})`): each account's own name for it
    // shows below when they differ.
    let name = quoted(first.set_entry().unwrap_or(first.name()));
    group_header(out, group, &name, mode, p);
    let marker = match first {
        Action::Create { .. } => format!("  {}", p.green("+")),
        Action::Update { .. } => format!("  {}", p.yellow("~")),
        Action::Replace { .. } => p.red("-/+"),
        Action::Delete { .. } => format!("  {}", p.red("-")),
        Action::Retire { .. } => format!("  {}", p.yellow("~")),
    };
    let _ = writeln!(out, "{marker} conversion {name} {{");
    let per_member: Vec<Vec<Row>> = group.members.iter().map(|(_, a)| rows(a, p)).collect();
    // Fields in the order they first appear.
    let mut fields: Vec<(&'static str, &'static str)> = Vec::new();
    for row in per_member.iter().flatten() {
        if !fields.iter().any(|(f, _)| *f == row.field) {
            fields.push((row.field, row.marker));
        }
    }
    let width = fields.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    for (field, marker) in fields {
        let values: Vec<Option<&Row>> = per_member
            .iter()
            .map(|rows| rows.iter().find(|r| r.field == field))
            .collect();
        let painted = paint_marker(marker, p);
        let same = values.windows(2).all(|w| w[0] == w[1]);
        if same && let Some(Some(row)) = values.first() {
            let forces = forces_note(row, p);
            write_row(
                out,
                &format!("      {painted} {field:width$} ="),
                row,
                &forces,
                marker,
                p,
            );
            continue;
        }
        differing_row(out, group, &values, (field, marker, width), p);
    }
    let _ = writeln!(out, "    }}");
}

/// The group's comment lines: which entry, what happens to it, in which accounts (and where it
/// deletes first).
fn group_header(out: &mut String, group: &Group, name: &str, mode: Mode, p: Painter) {
    let (_, first) = group.members[0];
    let accounts: Vec<&AdAccountId> = group.members.iter().map(|(a, _)| *a).collect();
    let _ = writeln!(
        out,
        "  {}",
        p.dim(&format!(
            "# {name} (set {}) {}, in {} accounts: {}",
            escaped(first.set().unwrap_or_default()),
            what(first, mode),
            accounts.len(),
            accounts_list(&accounts)
        ))
    );
    for (why, reason) in [
        ("account at its limit", None),
        (
            "the new one keeps the rule of the old one, which Meta refuses to hold twice",
            Some(DeleteFirst::SameRule),
        ),
    ] {
        let delete_first: Vec<&AdAccountId> = group
            .members
            .iter()
            .filter(|(_, a)| match a {
                Action::Replace {
                    order: ReplaceOrder::DeleteBeforeCreate,
                    delete_first,
                    ..
                } => (*delete_first == Some(DeleteFirst::SameRule)) == reason.is_some(),
                _ => false,
            })
            .map(|(acc, _)| *acc)
            .collect();
        if !delete_first.is_empty() && mode == Mode::Plan {
            let _ = writeln!(
                out,
                "  {}",
                p.dim(&format!(
                    "# delete-before-create ({why}) in: {}",
                    accounts_list(&delete_first)
                ))
            );
        }
    }
}

/// A field whose value differs across the group: each distinct value, with its accounts, in
/// order of first appearance.
fn differing_row(
    out: &mut String,
    group: &Group,
    values: &[Option<&Row>],
    (field, marker, width): (&str, &str, usize),
    p: Painter,
) {
    let painted = paint_marker(marker, p);
    let forces = if values.iter().flatten().any(|r| r.forces) {
        format!(" {}", p.red("# forces replacement"))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "      {painted} {field:width$} = (differs per account){forces}"
    );
    // Each distinct value, with its accounts, in order of first appearance.
    let mut variants: Vec<(Option<&Row>, Vec<&AdAccountId>)> = Vec::new();
    let mut seen: HashMap<Option<&Row>, usize> = HashMap::new();
    for (value, (account, _)) in values.iter().zip(&group.members) {
        match seen.get(value) {
            Some(&i) => variants[i].1.push(account),
            None => {
                seen.insert(*value, variants.len());
                variants.push((*value, vec![account]));
            }
        }
    }
    for (value, list) in variants {
        let who = format!("          in {}:", accounts_list(&list));
        match value {
            Some(row) => write_row(out, &who, row, "", marker, p),
            None => {
                let _ = writeln!(out, "{who} (unchanged)");
            }
        }
    }
}

fn forces_note(row: &Row, p: Painter) -> String {
    if row.forces {
        format!(" {}", p.red("# forces replacement"))
    } else {
        String::new()
    }
}

fn paint_marker(marker: &str, p: Painter) -> String {
    match marker {
        "+" => p.green("+"),
        "-" => p.red("-"),
        _ => p.yellow(marker),
    }
}

/// `lead value`, or `lead` and the value's lines below it.
fn write_row(out: &mut String, lead: &str, row: &Row, forces: &str, marker: &str, p: Painter) {
    if !row.below {
        let _ = writeln!(out, "{lead} {}{forces}", row.text);
        return;
    }
    let _ = writeln!(out, "{lead}{forces}");
    match marker {
        // A line diff is already laid out (and painted) line by line.
        "~" => out.push_str(&row.text),
        m => {
            for line in row.text.lines() {
                let line = match m {
                    "+" => p.green(line),
                    _ => p.red(line),
                };
                let _ = writeln!(out, "            {line}");
            }
        }
    }
}

/// The text rendering laid out for GitHub's diff colouring: a line's `+`/`-` marker moves to
/// column 0 (green, red), a `~` or `-/+` header becomes `!` (orange), and every other line
/// starts with a space (plain), so no line can read as a diff header.
fn markers_in_column_0(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let rest = line.trim_start();
        let indent = &line[..line.len() - rest.len()];
        let (marker, body) = if let Some(body) = rest.strip_prefix("-/+ ") {
            ('!', body)
        } else if let Some(body) = rest.strip_prefix("~ ") {
            ('!', body)
        } else if let Some(body) = rest.strip_prefix("+ ") {
            ('+', body)
        } else if let Some(body) = rest.strip_prefix("- ") {
            ('-', body)
        } else {
            (' ', rest)
        };
        let _ = writeln!(out, "{marker}{indent} {body}");
    }
    out
}

/// The groups for a pull-request comment: one collapsible block each, the text rendering
/// (uncoloured, markers in column 0) in a `diff` fence (`fence_for` picks a fence longer than
/// any backtick run).
pub(crate) fn markdown_groups(
    out: &mut String,
    set_groups: &SetGroups,
    mode: Mode,
    fence_for: fn(&str) -> String,
    code: fn(&str) -> String,
) {
    if set_groups.groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### Changes from sets, grouped across accounts\n");
    for group in &set_groups.groups {
        let (_, first) = group.members[0];
        let mut text = String::new();
        render_group(&mut text, group, mode, Painter(false));
        let block = markers_in_column_0(&text);
        let fence = fence_for(&block);
        let _ = writeln!(
            out,
            "<details><summary>{} accounts: set {}</summary>\n\n{fence}diff\n{block}{fence}\n\n</details>\n",
            group.members.len(),
            code(first.set().unwrap_or_default())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_markers_stand_in_column_0() {
        let text = "  ~ \"Purchase\" (set ecommerce), in 2 accounts\n      description: \"a\" -> \"b\"\n        + {\"a\": 1}\n        - {\"a\": 2}\n";
        let laid = markers_in_column_0(text);
        let firsts: Vec<char> = laid.lines().map(|l| l.chars().next().unwrap()).collect();
        assert_eq!(firsts, ['!', ' ', '+', '-'], "{laid}");
    }
    use crate::plan::{AccountPlan, FieldChange};
    use crate::render::{RenderOptions, text};
    use serde_json::json;

    fn update(id: &str, before: &str, value: (i64, i64)) -> Action {
        Action::Update {
            id: crate::model::ids::ObjectId::parse(id).unwrap(),
            name: "Purchase".into(),
            set: Some("ecommerce".into()),
            set_entry: Some("Purchase".into()),
            changes: vec![
                FieldChange {
                    field: Field::Description,
                    before: json!(before),
                    after: json!("b"),
                },
                FieldChange {
                    field: Field::DefaultConversionValue,
                    before: json!(value.0),
                    after: json!(value.1),
                },
            ],
        }
    }

    fn account(n: usize, actions: Vec<Action>) -> AccountPlan {
        AccountPlan {
            account: AdAccountId::parse(&format!("act_{n}")).unwrap(),
            source: "conversions/fleet.yaml".into(),
            live_fingerprint: String::new(),
            digest: None,
            actions,
            unmanaged: vec![],
            warnings: vec![],
            refusals: vec![],
            safety: None,
            token_env: None,
            notes: vec![],
            retired: vec![],
            info: vec![],
        }
    }

    /// 12 accounts take the same change to a set's entry; one of them differs in a value.
    fn set_doc() -> PlanDocument {
        let mut accounts: Vec<AccountPlan> = (1..=12)
            .map(|n| account(n, vec![update(&n.to_string(), "a", (40, 50))]))
            .collect();
        accounts[11] = account(12, vec![update("12", "a", (40, 60))]);
        // An own entry of act_3: stays in its account's section.
        accounts[2].actions.push(Action::Delete {
            id: crate::model::ids::ObjectId::parse("99").unwrap(),
            name: "Old".into(),
            set: None,
            set_entry: None,
            reason: crate::plan::DeleteReason::Absent,
            before: None,
            frees_rule_for: None,
            flagged: false,
        });
        PlanDocument::new("v26.0", accounts)
    }

    #[test]
    fn identical_set_actions_are_one_block() {
        let text = text::render(&set_doc(), RenderOptions::plain(Mode::Plan));
        insta::assert_snapshot!(text);
        assert_eq!(text.matches("conversion \"Purchase\"").count(), 1, "{text}");
        assert!(text.contains("in 12 accounts: act_1, act_2"), "{text}");
        assert!(text.contains("Plan: 0 to create, 12 to update, 0 to replace, 1 to delete."));
    }

    #[test]
    fn markdown_groups_too() {
        let md = crate::render::markdown::render(&set_doc(), Mode::Plan);
        assert_eq!(md.matches("conversion \"Purchase\"").count(), 1, "{md}");
        assert!(md.contains("12 accounts: set"), "{md}");
        assert!(md.contains("\"Old\""), "own entries stay per account: {md}");
    }

    #[test]
    fn one_account_set_actions_stay_in_their_account() {
        let doc = PlanDocument::new("v26.0", vec![account(1, vec![update("1", "a", (1, 2))])]);
        let text = text::render(&doc, RenderOptions::plain(Mode::Plan));
        assert!(
            text.contains("# \"Purchase\" (set ecommerce) (id 1) will be updated in place"),
            "{text}"
        );
        assert!(!text.contains("accounts:"), "{text}");
    }
}
