//! `${param}` templates in a set's strings: split into text and parameter references
//! ([`pieces`]), checked against the set's `params` when the set is read, and filled with a
//! `use`'s values when it is expanded ([`substitute`]). `$${` writes a literal `${`.

use super::use_clause::UseClause;
use crate::manifest::context::{Ctx, shorten};
use crate::manifest::yaml::{Kind, Node, Pos, Resolved, Scalar, key_text};
use crate::rule::{strict_json, suggest};
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn is_param_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A piece of a string with parameters.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    Param(&'a str),
}

/// A `${` in a set's string that is not a parameter reference (the texts are shortened).
#[derive(Debug, PartialEq, thiserror::Error)]
pub(crate) enum PieceError {
    #[error("`{0}` opens a parameter with `${{` but never closes it with `}}`")]
    Unclosed(String),
    #[error("`${{{0}}}` is not a parameter reference")]
    NotAName(String),
}

/// Splits `text` at its `${name}` references (`$${` is a literal `${`).
pub(crate) fn pieces(text: &str) -> Result<Vec<Piece<'_>>, PieceError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        if at > 0 && rest.as_bytes()[at - 1] == b'$' {
            out.push(Piece::Text(&rest[..at - 1]));
            out.push(Piece::Text("${"));
            rest = &rest[at + 2..];
            continue;
        }
        out.push(Piece::Text(&rest[..at]));
        let after = &rest[at + 2..];
        let Some(end) = after.find('}') else {
            return Err(PieceError::Unclosed(shorten(text)));
        };
        let name = &after[..end];
        if !is_param_name(name) {
            return Err(PieceError::NotAName(shorten(name)));
        }
        out.push(Piece::Param(name));
        rest = &after[end + 1..];
    }
    out.push(Piece::Text(rest));
    out.retain(|p| *p != Piece::Text(""));
    Ok(out)
}

/// Every `${...}` of a set's entry refers to a declared parameter; marks the ones used.
pub(super) fn check_templates(
    ctx: &mut Ctx,
    node: &Node,
    params: &[(String, Pos)],
    used: &mut [bool],
    set: &str,
) {
    let mut check = |ctx: &mut Ctx, scalar: &Scalar, pos: Pos| {
        if !scalar.text.contains("${") {
            return;
        }
        match pieces(&scalar.text) {
            Err(message) => ctx.error(
                pos,
                format!("unresolved parameter: {message}"),
                "write a parameter as ${name} (one of the set's `params`), or `$${` for a literal `${`",
            ),
            Ok(pieces) => {
                for piece in pieces {
                    let Piece::Param(p) = piece else { continue };
                    match params.iter().position(|(q, _)| q == p) {
                        Some(i) => used[i] = true,
                        None => {
                            let names: Vec<&str> = params.iter().map(|(q, _)| q.as_str()).collect();
                            let hint = match suggest(p, &names) {
                                Some(s) => format!("did you mean `${{{s}}}`? Or add `{p}` to the set's `params`"),
                                None if names.is_empty() => format!("declare it: params: [{p}]"),
                                None => format!("the set's params are: {}; add `{p}` to them", names.join(", ")),
                            };
                            ctx.error(
                                pos,
                                format!("unknown parameter `${{{p}}}`: set \"{set}\" does not declare it"),
                                hint,
                            );
                        }
                    }
                }
            }
        }
    };
    let mut todo = vec![node];
    while let Some(n) = todo.pop() {
        match &n.kind {
            Kind::Scalar(s) => check(ctx, s, n.pos),
            Kind::Seq(items) => todo.extend(items),
            Kind::Map(pairs) => {
                for (k, v) in pairs {
                    todo.push(k);
                    todo.push(v);
                }
            }
        }
    }
}

/// `text` with the use's values substituted (as text).
pub(super) fn expand_text(text: &str, u: &UseClause) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Param(p) => match u.value_of(p).and_then(|(_, _, v)| v.as_scalar()) {
                Some(s) => out.push_str(&s.text),
                None => {
                    out.push_str("${");
                    out.push_str(p);
                    out.push('}');
                }
            },
        }
    }
    out
}

/// A set's entry with the use's values substituted ([`substitute`]), except a `rule` or
/// `advanced_rule` written as a JSON string: its values go into the parsed JSON's strings
/// ([`substitute_json`]), never into the JSON text.
pub(super) fn substitute_entry(
    node: &Node,
    u: &UseClause,
    touched: &mut HashMap<Pos, String>,
) -> Node {
    let Kind::Map(pairs) = &node.kind else {
        return substitute(node, u, touched, false);
    };
    let pairs = pairs
        .iter()
        .map(|(k, v)| {
            let json_text = matches!(key_text(k).as_str(), "rule" | "advanced_rule")
                && v.as_scalar()
                    .is_some_and(|s| matches!(s.resolve(), Resolved::Str(_)));
            let value = match json_text {
                true => substitute_json(v, u, touched),
                false => substitute(v, u, touched, false),
            };
            if let Some(p) = touched.get(&v.pos).cloned() {
                touched.entry(k.pos).or_insert(p);
            }
            (substitute(k, u, touched, true), value)
        })
        .collect();
    Node {
        kind: Kind::Map(pairs),
        pos: node.pos,
    }
}

/// A rule written as a JSON string, with the use's values substituted into its parsed strings
/// (keys included) and written back as JSON: a value is text in a string, so a backslash stays
/// a backslash (`\bthank\b` is not two backspaces) and a quote cannot end the string and add a
/// condition (`"}},{...`). A string that is exactly one `${p}` takes the value with its type,
/// as in a YAML rule (`"${min}"` is the number 40). Text that is not JSON is left as it is,
/// for the rule's reader to report (a `${p}` outside a JSON string among it).
fn substitute_json(node: &Node, u: &UseClause, touched: &mut HashMap<Pos, String>) -> Node {
    let Some(scalar) = node.as_scalar().filter(|s| s.text.contains("${")) else {
        return node.clone();
    };
    let Ok(mut value) = strict_json(&scalar.text) else {
        return node.clone();
    };
    let mut first = None;
    fill_json(&mut value, u, &mut first);
    if let Some(p) = first {
        touched.insert(node.pos, p);
    }
    Node {
        kind: Kind::Scalar(Scalar {
            text: value.to_string(),
            is_string: true,
        }),
        pos: node.pos,
    }
}

/// Substitutes the use's values into every string of `value` (see [`substitute_json`]);
/// `first` gets the first parameter used.
fn fill_json(value: &mut Value, u: &UseClause, first: &mut Option<String>) {
    match value {
        Value::String(text) => {
            if !text.contains("${") {
                return;
            }
            let Ok(parts) = pieces(text) else { return };
            if let Some(p) = parts.iter().find_map(|p| match p {
                Piece::Param(p) => Some(*p),
                Piece::Text(_) => None,
            }) {
                first.get_or_insert_with(|| p.to_string());
            }
            if let [Piece::Param(p)] = parts.as_slice()
                && p.len() + 3 == text.len()
                && let Some((_, _, given)) =
                    u.value_of(p).filter(|(_, _, v)| v.as_scalar().is_some())
            {
                *value = given.to_json();
                return;
            }
            *text = expand_text(text, u);
        }
        Value::Array(items) => items.iter_mut().for_each(|i| fill_json(i, u, first)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                fill_json(&mut item, u, first);
                let key = match key.contains("${") {
                    true => expand_text(&key, u),
                    false => key,
                };
                map.insert(key, item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A copy of `node` with the use's values substituted. A scalar that is exactly one `${p}`
/// (and not a mapping key) takes the value as written, with its type; others become strings.
/// `touched` records the positions of substituted scalars (and of the keys of substituted
/// values) with the parameter, so that an error there can point at the value.
pub(super) fn substitute(
    node: &Node,
    u: &UseClause,
    touched: &mut HashMap<Pos, String>,
    is_key: bool,
) -> Node {
    match &node.kind {
        Kind::Scalar(s) => {
            if !s.text.contains("${") {
                return node.clone();
            }
            let Ok(parts) = pieces(&s.text) else {
                return node.clone();
            };
            if let Some(Piece::Param(p)) = parts.first().filter(|_| parts.len() == 1)
                && p.len() + 3 == s.text.len()
            {
                touched.insert(node.pos, p.to_string());
                if !is_key && let Some(value) = u.value_of(p).and_then(|(_, _, v)| v.as_scalar()) {
                    return Node {
                        kind: Kind::Scalar(value.clone()),
                        pos: node.pos,
                    };
                }
            }
            if let Some(Piece::Param(p)) = parts.iter().find(|p| matches!(p, Piece::Param(_))) {
                touched.insert(node.pos, p.to_string());
            }
            Node {
                kind: Kind::Scalar(Scalar {
                    text: expand_text(&s.text, u),
                    is_string: true,
                }),
                pos: node.pos,
            }
        }
        Kind::Seq(items) => Node {
            kind: Kind::Seq(
                items
                    .iter()
                    .map(|i| substitute(i, u, touched, false))
                    .collect(),
            ),
            pos: node.pos,
        },
        Kind::Map(pairs) => Node {
            kind: Kind::Map(
                pairs
                    .iter()
                    .map(|(k, v)| {
                        let v2 = substitute(v, u, touched, false);
                        if let Some(p) = touched.get(&v.pos).cloned() {
                            touched.entry(k.pos).or_insert(p);
                        }
                        (substitute(k, u, touched, true), v2)
                    })
                    .collect(),
            ),
            pos: node.pos,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_split_parameters_and_escapes() {
        assert_eq!(
            pieces("a ${x} b${y_2}").unwrap(),
            vec![
                Piece::Text("a "),
                Piece::Param("x"),
                Piece::Text(" b"),
                Piece::Param("y_2")
            ]
        );
        assert_eq!(
            pieces("$${x}").unwrap(),
            vec![Piece::Text("${"), Piece::Text("x}")]
        );
        assert_eq!(
            pieces("${x").unwrap_err().to_string(),
            "`${x` opens a parameter with `${` but never closes it with `}`"
        );
        assert_eq!(
            pieces("${1x}").unwrap_err().to_string(),
            "`${1x}` is not a parameter reference"
        );
        assert_eq!(pieces("plain").unwrap(), vec![Piece::Text("plain")]);
    }
}
