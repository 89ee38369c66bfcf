//! The text rendering: a Terraform-style plan per account (`+` create, `~` update, `-/+`
//! replace, `-` delete), field-level diffs with `# forces replacement` beside the fields that
//! force it, rules pretty-printed and diffed line by line (with `similar`), and the summary line.
//! Colours only when asked to (the caller decides: a terminal or `--color always`).

use super::LineChange;
use super::digest::Attention;
use super::{Mode, RenderOptions, quoted, summary_line};
use crate::model::names::{escaped, visible};
use crate::plan::{AccountPlan, Action, ConversionState, Field, FieldChange, PlanDocument};
use anstyle::{AnsiColor, Style};
use serde_json::Value;
use std::fmt::Write;
use std::io;

/// Paints text when colours are on; a no-op otherwise.
#[derive(Clone, Copy)]
pub(crate) struct Painter(pub bool);

impl Painter {
    pub(crate) fn paint(self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
    pub(super) fn green(self, t: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), t)
    }
    pub(super) fn yellow(self, t: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default(), t)
    }
    pub(super) fn red(self, t: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), t)
    }
    pub(super) fn bold(self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    pub(super) fn dim(self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
}

/// The whole document as text, ending with the summary line.
pub fn render(doc: &PlanDocument, opts: RenderOptions) -> String {
    let mut out = Vec::new();
    render_to(&mut out, doc, opts).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("the rendering is built from strings")
}

/// The same text, written to `out` one account at a time: a plan of 50,000 creates renders to
/// some 16 MB, which need not all be in memory at once (`plan` and `apply` write to stdout).
pub(crate) fn render_to(
    out: &mut impl io::Write,
    doc: &PlanDocument,
    opts: RenderOptions,
) -> io::Result<()> {
    let p = Painter(opts.color);
    let mut account_text = String::new();
    // What apply refuses and every warning, under the totals, before any account's changes.
    attention_head(&mut account_text, doc, opts.mode, p);
    // What sets change the same way in several accounts is shown once, first.
    let set_groups = super::set_groups::group(doc);
    if !set_groups.groups.is_empty() {
        account_text.push_str(&p.bold(
            "Changes from sets, grouped across the accounts that use them (each account's own changes follow):",
        ));
        account_text.push('\n');
        for group in &set_groups.groups {
            account_text.push('\n');
            super::set_groups::render_group(&mut account_text, group, opts.mode, p);
        }
        account_text.push('\n');
        out.write_all(account_text.as_bytes())?;
    }
    let mut only_grouped = 0usize;
    for (a, account) in doc.accounts.iter().enumerate() {
        let own = |i: usize| !set_groups.grouped.contains(&(a, i));
        let has_own = (0..account.actions.len()).any(own);
        if !account.actions.is_empty()
            && !has_own
            && account.unmanaged.is_empty()
            && account.warnings.is_empty()
            && account.refusals.is_empty()
        {
            only_grouped += 1;
            continue;
        }
        account_text.clear();
        render_account(&mut account_text, account, opts.mode, p, &own);
        out.write_all(account_text.as_bytes())?;
    }
    if only_grouped > 0 {
        writeln!(
            out,
            "{only_grouped} more account(s) change only as the sets above show.\n"
        )?;
    }
    writeln!(out, "{}", p.bold(&summary_line(&doc.summary, opts.mode)))?;
    let refusals = Attention::of(doc).refusals;
    if !refusals.is_empty() {
        writeln!(
            out,
            "{} {} (listed at the top).",
            p.red(&p.bold(refused_lead(opts.mode))),
            accounts_phrase(Attention::accounts(&refusals))
        )?;
    }
    Ok(())
}

/// `Apply will refuse this plan as it stands:` (or, for drift, the plan that converges it).
fn refused_lead(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "Apply will refuse this plan as it stands:",
        Mode::Drift => "Apply would refuse to converge this drift as it stands:",
    }
}

fn accounts_phrase(n: usize) -> String {
    match n {
        1 => "1 account".to_string(),
        n => format!("{n} accounts"),
    }
}

/// The totals, what apply refuses and every warning, each naming its account: the first lines
/// of a plan that has any (a plan without them starts with its changes, as before).
pub(crate) fn attention_head(out: &mut String, doc: &PlanDocument, mode: Mode, p: Painter) {
    let attention = Attention::of(doc);
    if attention.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", p.bold(&summary_line(&doc.summary, mode)));
    if !attention.refusals.is_empty() {
        let _ = writeln!(
            out,
            "\n{} {}:",
            p.red(&p.bold(refused_lead(mode))),
            accounts_phrase(Attention::accounts(&attention.refusals))
        );
        for (account, text) in &attention.refusals {
            let _ = writeln!(out, "  {} {account}: {text}", p.red("refused:"));
        }
    }
    if !attention.warnings.is_empty() {
        let _ = writeln!(
            out,
            "\n{} ({}):",
            p.yellow(&p.bold(&format!(
                "{} warning{}",
                attention.warnings.len(),
                if attention.warnings.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ))),
            accounts_phrase(Attention::accounts(&attention.warnings))
        );
        for (account, text) in &attention.warnings {
            let _ = writeln!(out, "  {} {account}: {text}", p.yellow("warning:"));
        }
    }
    out.push('\n');
}

fn render_account(
    out: &mut String,
    account: &AccountPlan,
    mode: Mode,
    p: Painter,
    own: &dyn Fn(usize) -> bool,
) {
    let title = format!("{} ({})", account.account, escaped(&account.source));
    if account.actions.is_empty() {
        let state = match mode {
            Mode::Plan => "no changes",
            Mode::Drift => "in sync",
        };
        let _ = writeln!(out, "{}: {state}.", p.bold(&title));
    } else {
        let intro = match mode {
            Mode::Plan => "will change",
            Mode::Drift => "has drifted from its manifest (values shown live -> manifest)",
        };
        let _ = writeln!(out, "{} {intro}:", p.bold(&title));
    }
    let mut from_sets = 0usize;
    for (i, action) in account.actions.iter().enumerate() {
        if !own(i) {
            from_sets += 1;
            continue;
        }
        out.push('\n');
        out.push_str(&action_block(action, mode, p));
    }
    if from_sets > 0 {
        let _ = writeln!(
            out,
            "\n  {}",
            p.dim(&format!(
                "# and {from_sets} change(s) from sets, shown above with the other accounts"
            ))
        );
    }
    if !account.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "\n  Unmanaged ({}): live, declared nowhere; listed only (`prune: true` deletes them):",
            account.unmanaged.len()
        );
        for u in &account.unmanaged {
            let _ = writeln!(out, "    {} {} (id {})", p.dim("?"), quoted(&u.name), u.id);
        }
    }
    for refusal in &account.refusals {
        let _ = writeln!(out, "\n  {} {refusal}", p.red(&p.bold("Refused:")));
    }
    for warning in &account.warnings {
        let _ = writeln!(
            out,
            "\n  {} {}",
            p.yellow(&p.bold("Warning:")),
            visible(warning)
        );
    }
    out.push('\n');
}

/// One action as a Terraform-style block.
fn action_block(action: &Action, mode: Mode, p: Painter) -> String {
    let mut out = String::new();
    // Names are user text: quoted and escaped (a line break or a quote in a name must not
    // break the block, nor a code fence around it in markdown).
    let name = quoted(action.name());
    let label = super::set_groups::label(action);
    match action {
        Action::Create { after, .. } => {
            let what = match mode {
                Mode::Plan => "will be created",
                Mode::Drift => "is declared but missing live",
            };
            let _ = writeln!(out, "  {}", p.dim(&format!("# {label} {what}")));
            let _ = writeln!(out, "  {} conversion {name} {{", p.green("+"));
            let rows = state_rows(after)
                .into_iter()
                .map(|(f, v)| (f.as_str(), v))
                .collect();
            value_rows(&mut out, rows, "+", |t| p.green(t));
            let _ = writeln!(out, "    }}");
        }
        Action::Update { id, changes, .. } => {
            let what = match mode {
                Mode::Plan => "will be updated in place",
                Mode::Drift => "differs (fixable in place)",
            };
            let _ = writeln!(out, "  {}", p.dim(&format!("# {label} (id {id}) {what}")));
            let _ = writeln!(out, "  {} conversion {name} {{", p.yellow("~"));
            change_rows(&mut out, id.as_str(), changes, &[], p);
            let _ = writeln!(out, "    }}");
        }
        Action::Replace {
            id,
            forced_by,
            order,
            changes,
            ..
        } => {
            let how = super::replace_order_text(*order);
            let what = match mode {
                Mode::Plan => format!("must be replaced: {how}"),
                Mode::Drift => "differs in fields that force replacement".to_string(),
            };
            let _ = writeln!(out, "  {}", p.dim(&format!("# {label} (id {id}) {what}")));
            let _ = writeln!(out, "{} conversion {name} {{", p.red("-/+"));
            change_rows(&mut out, id.as_str(), changes, forced_by, p);
            let _ = writeln!(out, "    }}");
        }
        Action::Delete {
            id, reason, before, ..
        } => {
            let what = match mode {
                Mode::Plan => "will be deleted",
                Mode::Drift => "exists live but should not",
            };
            let _ = writeln!(
                out,
                "  {}",
                p.dim(&format!(
                    "# {label} (id {id}) {what} ({})",
                    reason.describe()
                ))
            );
            let _ = writeln!(out, "  {} conversion {name} {{", p.red("-"));
            let mut rows = vec![("id", Value::String(id.to_string()))];
            if let Some(before) = before {
                rows.extend(state_rows(before).into_iter().map(|(f, v)| (f.as_str(), v)));
            }
            value_rows(&mut out, rows, "-", |t| p.red(t));
            let _ = writeln!(out, "    }}");
        }
    }
    out
}

/// `field = value` rows of a created (`+`) or deleted (`-`) conversion, every row marked and
/// painted alike; multi-line values (rules) go below their field.
fn value_rows(
    out: &mut String,
    rows: Vec<(&str, Value)>,
    marker: &str,
    paint: impl Fn(&str) -> String,
) {
    let width = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(0);
    let marker = paint(marker);
    for (field, value) in rows {
        match shown(&value) {
            Shown::Lines(lines) => {
                let _ = writeln!(out, "      {marker} {field:width$} =");
                for line in lines.lines() {
                    let _ = writeln!(out, "            {}", paint(line));
                }
            }
            Shown::Line(text) => {
                let _ = writeln!(out, "      {marker} {field:width$} = {text}");
            }
        }
    }
}

/// The declared fields of a state, in plan order (empty description left out).
pub(super) fn state_rows(state: &ConversionState) -> Vec<(Field, Value)> {
    [
        Field::Name,
        Field::Description,
        Field::CustomEventType,
        Field::DefaultConversionValue,
        Field::EventSourceId,
        Field::ActionSourceType,
        Field::Rule,
        Field::AdvancedRule,
    ]
    .into_iter()
    .filter_map(|f| state.get(f).map(|v| (f, v)))
    .filter(|(f, v)| !(*f == Field::Description && v.as_str() == Some("")))
    .collect()
}

fn change_rows(
    out: &mut String,
    id: &str,
    changes: &[FieldChange],
    forced_by: &[Field],
    p: Painter,
) {
    let width = changes
        .iter()
        .map(|c| c.field.as_str().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let _ = writeln!(out, "        {:width$} = \"{id}\"", "id");
    for change in changes {
        let forces = if forced_by.contains(&change.field) {
            format!(" {}", p.red("# forces replacement"))
        } else {
            String::new()
        };
        let marker = p.yellow("~");
        let field = change.field.as_str();
        match (shown(&change.before), shown(&change.after)) {
            (Shown::Line(before), Shown::Line(after)) => {
                let _ = writeln!(
                    out,
                    "      {marker} {field:width$} = {before} -> {after}{forces}"
                );
            }
            (before, after) => {
                let _ = writeln!(out, "      {marker} {field:width$} ={forces}");
                line_diff(out, before.text(), after.text(), p);
            }
        }
    }
}

/// How a value is shown: on its field's line, or pretty-printed below it (rules that do not fit
/// on one line).
pub(super) enum Shown {
    Line(String),
    Lines(String),
}

impl Shown {
    pub(super) fn text(&self) -> &str {
        match self {
            Shown::Line(text) | Shown::Lines(text) => text,
        }
    }
}

pub(super) fn shown(value: &Value) -> Shown {
    match value {
        Value::Object(_) | Value::Array(_) => {
            let mut out = String::new();
            pretty(&mut out, value, 0);
            // Without a line break, `pretty` wrote the value inline, as `scalar` would.
            match out.contains('\n') {
                true => Shown::Lines(out),
                false => Shown::Line(out),
            }
        }
        _ => Shown::Line(scalar(value)),
    }
}

/// Pretty JSON where each condition (`{"url": {"i_contains": "x"}}`) stays on one line, so that
/// a rule reads like a list of conditions and its line diff shows whole conditions. It is valid
/// JSON (commas between items), because reviewers copy rules out of plans into tools and
/// manifests; the price is that appending an item also shows the previous last line changing.
fn pretty(out: &mut String, value: &Value, indent: usize) {
    if !has_bracket(value) {
        let start = out.len();
        inline_to(out, value);
        if out.len() - start <= 72 {
            return;
        }
        out.truncate(start);
    }
    let pad = "  ".repeat(indent + 1);
    match value {
        Value::Array(items) => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                pretty(out, item, indent + 1);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{\n");
            for (i, (key, item)) in map.iter().enumerate() {
                out.push_str(&pad);
                json_string(out, key);
                out.push_str(": ");
                pretty(out, item, indent + 1);
                if i + 1 < map.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
        }
        Value::String(text) => json_string(out, text),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Whether the value's JSON text has a `[` (an array, or a `[` in a string or a key), without
/// writing the text: JSON escaping never adds nor removes one.
fn has_bracket(value: &Value) -> bool {
    match value {
        Value::Array(_) => true,
        Value::String(s) => s.contains('['),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('[') || has_bracket(v)),
        _ => false,
    }
}

/// One-line JSON with a space after `:` and `,`, appended to `out`.
fn inline_to(out: &mut String, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inline_to(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json_string(out, key);
                out.push_str(": ");
                inline_to(out, item);
            }
            out.push('}');
        }
        Value::String(text) => json_string(out, text),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// `text` as a JSON string literal, appended to `out`, with what a reader would not see as it
/// is escaped (a rule's strings and keys are user text too).
fn json_string(out: &mut String, text: &str) {
    out.push_str(&quoted(text));
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_string(),
        Value::Object(_) | Value::Array(_) => {
            let mut out = String::new();
            inline_to(&mut out, value);
            out
        }
        Value::String(text) => quoted(text),
        other => other.to_string(),
    }
}

/// A line-by-line diff of two pretty-printed values (`super::line_changes`), indented under
/// its field, removed lines red and added ones green.
pub(super) fn line_diff(out: &mut String, before: &str, after: &str, p: Painter) {
    for (change, line) in super::line_changes(before, after) {
        let _ = match change {
            LineChange::Same => writeln!(out, "            {line}"),
            LineChange::Removed => writeln!(out, "          {}", p.red(&format!("- {line}"))),
            LineChange::Added => writeln!(out, "          {}", p.green(&format!("+ {line}"))),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A value pretty-printed over several lines; `None` when it is shown on one line.
    fn multiline(value: &Value) -> Option<String> {
        match shown(value) {
            Shown::Lines(lines) => Some(lines),
            Shown::Line(_) => None,
        }
    }

    /// Reviewers copy rules out of plans: the pretty form must be valid JSON meaning the same
    /// rule, with each condition on its own line.
    #[test]
    fn pretty_rules_are_valid_json_one_condition_per_line() {
        let rule = json!({"and": [
            {"event": {"eq": "Purchase"}},
            {"or": [{"url": {"i_contains": "/a"}}, {"url": {"i_contains": "/b"}}]},
            {"value": {"gt": 100}}
        ]});
        let text = multiline(&rule).unwrap();
        let back: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not valid JSON ({e}):\n{text}"));
        assert_eq!(back, rule);
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert!(
            lines.contains(&r#"{"event": {"eq": "Purchase"}},"#),
            "{text}"
        );
        assert!(
            lines.contains(&r#"{"url": {"i_contains": "/a"}},"#),
            "{text}"
        );
        assert!(
            lines.contains(&r#"{"url": {"i_contains": "/b"}}"#),
            "{text}"
        );
        assert!(lines.contains(&r#"{"value": {"gt": 100}}"#), "{text}");
    }

    #[test]
    fn appending_a_condition_shows_one_added_line() {
        let before = json!({"or": [{"url": {"i_contains": "/a"}}]});
        let after = json!({"or": [{"url": {"i_contains": "/a"}}, {"url": {"i_contains": "/b"}}]});
        let mut out = String::new();
        line_diff(
            &mut out,
            &multiline(&before).unwrap(),
            &multiline(&after).unwrap(),
            Painter(false),
        );
        let changed: Vec<&str> = out
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
            .collect();
        assert_eq!(changed, [r#"+     {"url": {"i_contains": "/b"}}"#], "{out}");
        assert!(out.contains(r#"{"url": {"i_contains": "/a"}},"#), "{out}");
    }

    /// The layout as it was before `shown`/`inline_to` (each subtree written out twice):
    /// the reference the faster one must match byte for byte.
    mod reference {
        use serde_json::Value;

        pub(crate) fn multiline(value: &Value) -> Option<String> {
            match value {
                Value::Object(_) | Value::Array(_) => {
                    let mut out = String::new();
                    pretty(&mut out, value, 0);
                    out.contains('\n').then_some(out)
                }
                _ => None,
            }
        }

        fn pretty(out: &mut String, value: &Value, indent: usize) {
            let inline = inline(value);
            if !value.to_string().contains('[') && inline.len() <= 72 {
                out.push_str(&inline);
                return;
            }
            let pad = "  ".repeat(indent + 1);
            match value {
                Value::Array(items) => {
                    out.push_str("[\n");
                    for (i, item) in items.iter().enumerate() {
                        out.push_str(&pad);
                        pretty(out, item, indent + 1);
                        if i + 1 < items.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    out.push_str(&"  ".repeat(indent));
                    out.push(']');
                }
                Value::Object(map) => {
                    out.push_str("{\n");
                    for (i, (key, item)) in map.iter().enumerate() {
                        out.push_str(&pad);
                        out.push_str(&Value::String(key.clone()).to_string());
                        out.push_str(": ");
                        pretty(out, item, indent + 1);
                        if i + 1 < map.len() {
                            out.push(',');
                        }
                        out.push('\n');
                    }
                    out.push_str(&"  ".repeat(indent));
                    out.push('}');
                }
                other => out.push_str(&other.to_string()),
            }
        }

        fn inline(value: &Value) -> String {
            match value {
                Value::Array(items) => format!(
                    "[{}]",
                    items.iter().map(inline).collect::<Vec<_>>().join(", ")
                ),
                Value::Object(map) => format!(
                    "{{{}}}",
                    map.iter()
                        .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), inline(v)))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                other => other.to_string(),
            }
        }

        pub(crate) fn scalar(value: &Value) -> String {
            match value {
                Value::Null => "(none)".to_string(),
                Value::Object(_) | Value::Array(_) => inline(value),
                other => other.to_string(),
            }
        }
    }

    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = "[a-z\\[\\]\"\\\\/ é\n]{0,30}";
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text.prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map(text, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn assert_shown_as_before(value: &Value) {
        let got = shown(value);
        match reference::multiline(value) {
            Some(lines) => assert!(matches!(&got, Shown::Lines(l) if *l == lines), "{value}"),
            None => assert!(
                matches!(&got, Shown::Line(l) if *l == reference::scalar(value)),
                "{value}"
            ),
        }
    }

    /// Around the 72-character limit of one line, with and without brackets.
    #[test]
    fn values_at_the_line_limit_are_shown_as_before() {
        for n in 0..90 {
            let needle = "x".repeat(n);
            let bracketed = format!("[{needle}");
            for value in [
                json!({"url": {"i_contains": needle}}),
                json!({"url": {"i_contains": bracketed}}),
                json!({"and": [{"url": {"i_contains": needle}}, {"value": {"gt": n}}]}),
                json!({"or": [{"url": {"i_contains": needle}}]}),
                json!({"not": {"and": [{"event": {"eq": needle}}]}}),
                json!({needle.clone(): {"x": null}}),
                json!([needle]),
            ] {
                assert_shown_as_before(&value);
            }
        }
    }

    proptest::proptest! {
        /// Plans show values exactly as before the layout was made cheaper.
        #[test]
        fn values_are_shown_as_before(value in any_value()) {
            let expected = match reference::multiline(&value) {
                Some(lines) => Shown::Lines(lines),
                None => Shown::Line(reference::scalar(&value)),
            };
            let got = shown(&value);
            proptest::prop_assert_eq!(got.text(), expected.text());
            proptest::prop_assert_eq!(
                matches!(got, Shown::Lines(_)),
                matches!(expected, Shown::Lines(_))
            );
        }
    }
}
