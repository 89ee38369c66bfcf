//! The per-file checking context: where diagnostics go, and the small typed readers over YAML
//! nodes (mapping with known keys, string, bool, number, id, enum) that every part of the
//! loader shares. Readers report what is wrong at the node's position and return `None`, so
//! that one run reports every error instead of stopping at the first.

use super::desired::{Diagnostic, Location, Severity};
use super::format;
use super::yaml::{Kind, Node, Pos, Resolved, key_text};
use crate::rule::suggest;
use serde::de::DeserializeOwned;
use std::path::Path;

pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a Path,
    pub(crate) diags: &'a mut Vec<Diagnostic>,
    /// Errors reported through this context (warnings do not count).
    pub(crate) errors: usize,
}

impl Ctx<'_> {
    pub(crate) fn loc(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line: pos.line,
            column: pos.column,
        }
    }

    pub(crate) fn error(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Severity::Error, pos, message.into(), hint.into());
    }

    pub(crate) fn warn(&mut self, pos: Pos, message: impl Into<String>, hint: impl Into<String>) {
        self.push(Severity::Warning, pos, message.into(), hint.into());
    }

    fn push(&mut self, severity: Severity, pos: Pos, message: String, hint: String) {
        if severity == Severity::Error {
            self.errors += 1;
        }
        let location = Some(self.loc(pos));
        let hint = (!hint.is_empty()).then_some(hint);
        self.diags.push(Diagnostic {
            severity,
            location,
            message,
            hint,
        });
    }
}

/// The keys of a mapping, checked against the keys of its type in [`super::format`].
pub(crate) struct Fields<'n> {
    entries: Vec<(&'n str, &'n Node, &'n Node)>,
    /// Known keys suggested for misspelled ones (`nmae` → `name`): a missing `name` is then
    /// already explained.
    suggested: Vec<String>,
}

impl<'n> Fields<'n> {
    /// The value of `key`, when present.
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }

    /// The position of `key` itself.
    pub(crate) fn key_pos(&self, key: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, k, _)| k.pos)
    }

    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Present, or reported as misspelled: either way no "missing" error is needed.
    pub(crate) fn has_or_misspelled(&self, key: &str) -> bool {
        self.has(key) || self.suggested.iter().any(|s| s == key)
    }
}

/// Reads `node` as a mapping of the format type `T`: its keys are the ones `T` declares
/// ([`format::keys`]), so the schema, `import` and the loader know the same keys. Keys set to
/// null are left out. Unknown keys get a "did you mean" (or a note on where they belong, from
/// `elsewhere`), duplicate keys name the first one.
pub(crate) fn mapping<'n, T: DeserializeOwned>(
    ctx: &mut Ctx,
    node: &'n Node,
    what: &str,
    elsewhere: &dyn Fn(&str) -> Option<String>,
) -> Option<Fields<'n>> {
    let known = format::keys::<T>();
    let Kind::Map(pairs) = &node.kind else {
        ctx.error(
            node.pos,
            format!(
                "{what} must be a mapping (`key: value` lines), found {}",
                node.describe()
            ),
            format!("the keys of {what} are: {}", known.join(", ")),
        );
        return None;
    };
    let mut entries: Vec<(&str, &Node, &Node)> = Vec::with_capacity(pairs.len());
    let mut suggested = Vec::new();
    for (key, value) in pairs {
        let Some(name) = key.as_scalar().map(|s| s.text.as_str()) else {
            ctx.error(
                key.pos,
                format!(
                    "a key of {what} must be a plain word, found {}",
                    key.describe()
                ),
                format!("the keys of {what} are: {}", known.join(", ")),
            );
            continue;
        };
        if let Some((_, first, _)) = entries.iter().find(|(k, _, _)| *k == name) {
            let first = ctx.loc(first.pos);
            ctx.error(
                key.pos,
                format!("duplicate key `{name}` in {what} (first set at {first})"),
                "remove one of them: YAML keeps only one value per key",
            );
            continue;
        }
        if !known.contains(&name) {
            let hint = if name == "<<" {
                "YAML merge keys are not supported; put shared settings under `defaults:`"
                    .to_string()
            } else if let Some(s) = suggest(name, known) {
                suggested.push(s.to_string());
                format!("did you mean `{s}`?")
            } else if let Some(note) = elsewhere(name) {
                note
            } else {
                format!("the keys of {what} are: {}", known.join(", "))
            };
            ctx.error(
                key.pos,
                format!("unknown key `{}` in {what}", shorten(name)),
                hint,
            );
            continue;
        }
        // `key:` with no value (or `~`, `null`) means "not set", as it does for serde and in
        // schema.json; required keys are then reported as missing.
        if value.is_null() {
            continue;
        }
        entries.push((name, key, value));
    }
    Some(Fields { entries, suggested })
}

/// Long junk keys are cut in messages.
pub(crate) fn shorten(text: &str) -> String {
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

pub(crate) fn string(ctx: &mut Ctx, node: &Node, field: &str) -> Option<String> {
    match node.as_scalar().map(|s| (s, s.resolve())) {
        Some((_, Resolved::Str(t))) => Some(t.to_string()),
        Some((s, _)) if !node.is_null() => {
            ctx.error(
                node.pos,
                format!(
                    "`{field}` must be a string, found {} `{}`",
                    node.describe(),
                    shorten(&s.text)
                ),
                format!("quote it: {field}: \"{}\"", shorten(&s.text)),
            );
            None
        }
        _ => {
            ctx.error(
                node.pos,
                format!("`{field}` must be a string, found {}", node.describe()),
                format!("write one line of text, e.g. {field}: \"High value purchase\""),
            );
            None
        }
    }
}

pub(crate) fn boolean(ctx: &mut Ctx, node: &Node, field: &str) -> Option<bool> {
    match node.as_scalar().map(|s| s.resolve()) {
        Some(Resolved::Bool(b)) => Some(b),
        _ => {
            ctx.error(
                node.pos,
                format!("`{field}` must be true or false, found {}", node.describe()),
                format!("write {field}: true or {field}: false (unquoted)"),
            );
            None
        }
    }
}

/// A finite number (an integer or a decimal).
pub(crate) fn number(ctx: &mut Ctx, node: &Node, field: &str) -> Option<f64> {
    match node.as_scalar().map(|s| s.resolve()) {
        Some(Resolved::Number { value, .. }) if value.is_finite() => Some(value),
        Some(Resolved::Str(t)) if t.trim().parse::<f64>().is_ok_and(f64::is_finite) => {
            ctx.error(
                node.pos,
                format!(
                    "`{field}` must be a number, found the string \"{}\"",
                    shorten(t)
                ),
                format!("remove the quotes: {field}: {}", t.trim()),
            );
            None
        }
        _ => {
            ctx.error(
                node.pos,
                format!("`{field}` must be a number, found {}", node.describe()),
                format!("write e.g. {field}: 25"),
            );
            None
        }
    }
}

/// The digits of an id written as a string or an integer (the text is kept, never converted
/// through a float: ids exceed 2^53). `prefix` is accepted and stripped (`act_`).
pub(crate) fn id_text(ctx: &mut Ctx, node: &Node, field: &str, example: &str) -> Option<String> {
    let text = match node.as_scalar().map(|s| (s, s.resolve())) {
        Some((s, Resolved::Str(_))) => s.text.trim().to_string(),
        Some((s, Resolved::Number { integral: true, .. })) => {
            s.text.trim_start_matches('+').to_string()
        }
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "`{field}` must be an id (a string of digits), found {}",
                    node.describe()
                ),
                format!("write e.g. {field}: \"{example}\""),
            );
            return None;
        }
    };
    Some(text)
}

/// One value of a closed vocabulary, with a suggestion for near misses (`purchase`).
pub(crate) fn enumerated<T: Copy>(
    ctx: &mut Ctx,
    node: &Node,
    field: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Option<T> {
    let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
    let text = match node.as_scalar().map(|s| s.resolve()) {
        Some(Resolved::Str(t)) => t,
        _ => {
            ctx.error(
                node.pos,
                format!(
                    "`{field}` must be one of the names below, found {}",
                    node.describe()
                ),
                format!("one of: {}", names.join(", ")),
            );
            return None;
        }
    };
    if let Some(v) = all.iter().copied().find(|v| name(*v) == text) {
        return Some(v);
    }
    let meant = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(text))
        .copied()
        .or_else(|| suggest(text, &names));
    let message = match meant {
        Some(s) => format!(
            "`{}` is not a valid {field}; did you mean `{s}`?",
            shorten(text)
        ),
        None => format!("`{}` is not a valid {field}", shorten(text)),
    };
    let hint = format!("values are case-sensitive; one of: {}", names.join(", "));
    ctx.error(node.pos, message, hint);
    None
}

/// The text of a key, for messages.
pub(crate) fn key_name(key: &Node) -> String {
    shorten(&key_text(key))
}
