//! Fleets (spec section 1b): a `set:` document declares conversions once, with `params`; an
//! account's `use:` takes a set with its parameter values, may `exclude` entries and pin their
//! `ids`.
//!
//! A set is read once (its YAML tree kept, its `${...}` templates checked against its
//! `params`); each `use` then expands it once: the tree is copied with the account's values
//! substituted and checked by the same entry reader as an account's own entries, with the
//! account's `defaults`. So every error in a set's entry names the set's file:line:col **and**
//! the account's `use` that hit it, and an error the same in every account is reported once,
//! naming them all. An error that a parameter's value causes (a number where a number is
//! needed, a bad regex made of a domain) points at the value, in the account.
//!
//! Parameters work in every string (keys included); a string that is exactly one `${p}` takes
//! the value with its type (`default_conversion_value: ${value}` is a number when the value
//! is). `$${` writes a literal `${`.

use super::context::{Ctx, mapping, shorten, string};
use super::desired::{DesiredAccount, Diagnostic, Location, SetOrigin, Severity};
use super::document::check_version;
use super::entry::{self, Defaults};
use super::yaml::{Kind, Node, Pos, Scalar, key_text};
use crate::model::ids::ObjectId;
use crate::rule::suggest;
use std::collections::HashMap;
use std::path::PathBuf;

pub(crate) const SET_DOCUMENT_KEYS: &[&str] = &["version", "set", "params", "conversions"];
const USE_KEYS: &[&str] = &["set", "params", "exclude", "ids"];

/// A set as declared: its entries kept as YAML trees, to be expanded per account.
#[derive(Debug)]
pub(crate) struct SetDef {
    pub(crate) name: String,
    /// The `set:` key.
    pub(crate) location: Location,
    pub(crate) file: PathBuf,
    /// Declared parameters, in order.
    pub(crate) params: Vec<String>,
    /// The entries, as written (templates unexpanded).
    pub(crate) entries: Vec<Node>,
}

impl SetDef {
    /// The name of an entry as written in the set (`Lead (${domain})`), if it has one.
    pub(crate) fn raw_name(entry: &Node) -> Option<&str> {
        let Kind::Map(pairs) = &entry.kind else {
            return None;
        };
        pairs
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == "name"))
            .and_then(|(_, v)| v.as_scalar())
            .map(|s| s.text.as_str())
    }
}

/// Every set found under the paths given, by name.
#[derive(Debug, Default)]
pub(crate) struct Sets {
    by_name: HashMap<String, SetDef>,
}

impl Sets {
    /// Indexes the sets; a name declared twice is an error naming both places.
    pub(crate) fn new(defs: Vec<SetDef>, diags: &mut Vec<Diagnostic>) -> Sets {
        let mut by_name: HashMap<String, SetDef> = HashMap::new();
        for def in defs {
            if let Some(first) = by_name.get(&def.name) {
                diags.push(Diagnostic {
                    severity: Severity::Error,
                    location: Some(def.location.clone()),
                    message: format!(
                        "set \"{}\" is declared twice: here and at {}",
                        def.name, first.location
                    ),
                    hint: Some("a set's name is unique across the paths given; rename one".into()),
                });
                continue;
            }
            by_name.insert(def.name.clone(), def);
        }
        Sets { by_name }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&SetDef> {
        self.by_name.get(name)
    }

    pub(crate) fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
        names.sort();
        names
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &SetDef> {
        self.by_name.values()
    }
}

/// One item of an account's `use:` list.
#[derive(Debug, Clone)]
pub(crate) struct UseClause {
    pub(crate) set: String,
    /// The `- set:` item.
    pub(crate) location: Location,
    /// The set's name (its value).
    pub(crate) set_location: Location,
    /// Parameter values: name, where the key is, the value (a scalar).
    pub(crate) params: Vec<(String, Location, Node)>,
    /// Entries left out, by name as written in the set (or as expanded).
    pub(crate) exclude: Vec<(String, Location)>,
    /// Pins of the set's entries in this account.
    pub(crate) ids: Vec<(String, Location, ObjectId)>,
}

/// A finding of a set's expansion, before findings that are the same in several accounts are
/// merged into one (see [`merge_findings`]).
#[derive(Debug, Clone)]
pub(crate) struct SetFinding {
    pub(crate) diag: Diagnostic,
    pub(crate) set: String,
    /// `act_1 at a.yaml:7:5`.
    pub(crate) user: String,
}

/// A `set:` document, or `None` when it has errors (reported).
pub(crate) fn set_doc(ctx: &mut Ctx, root: &Node) -> Option<SetDef> {
    let elsewhere = |k: &str| match k {
        "account" => Some(
            "a document declares a set (`set:`) or an account (`account:`), not both".to_string(),
        ),
        "defaults" | "prune" | "token_env" | "safety" | "use" => Some(format!(
            "`{k}` belongs to an account; a set takes the account's `defaults` when it is used"
        )),
        _ => None,
    };
    let f = mapping(ctx, root, "a set document", SET_DOCUMENT_KEYS, &elsewhere)?;
    let errors_before = ctx.errors;
    if let Some(v) = f.get("version") {
        check_version(ctx, v);
    }
    let name = f.get("set").and_then(|n| string(ctx, n, "set"));
    if let (Some(name), Some(n)) = (&name, f.get("set"))
        && name.trim().is_empty()
    {
        ctx.error(
            n.pos,
            "the set's name is empty",
            "write e.g. set: ecommerce",
        );
    }
    let params = f
        .get("params")
        .map(|n| params_list(ctx, n))
        .unwrap_or_default();
    let entries = match f.get("conversions") {
        Some(Node {
            kind: Kind::Seq(items),
            ..
        }) => items.clone(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => {
            ctx.error(
                n.pos,
                format!(
                    "`conversions` must be a list of entries, found {}",
                    n.describe()
                ),
                "write each conversion as a `- name: ...` item",
            );
            Vec::new()
        }
        None => Vec::new(),
    };
    let mut used = vec![false; params.len()];
    for e in &entries {
        check_templates(ctx, e, &params, &mut used, name.as_deref().unwrap_or(""));
    }
    for ((p, _), used) in params.iter().zip(&used) {
        if !used && let Some(pos) = param_pos(f.get("params"), p) {
            ctx.warn(
                pos,
                format!("parameter `{p}` is declared but no entry uses it (`${{{p}}}`)"),
                "remove it from `params`, or use it in an entry",
            );
        }
    }
    let name = name?;
    let key_pos = f.key_pos("set").expect("`set` was read");
    if ctx.errors > errors_before {
        return None;
    }
    Some(SetDef {
        name,
        location: ctx.loc(key_pos),
        file: ctx.file.to_path_buf(),
        params: params.into_iter().map(|(p, _)| p).collect(),
        entries,
    })
}

fn param_pos(list: Option<&Node>, name: &str) -> Option<Pos> {
    let Some(Node {
        kind: Kind::Seq(items),
        ..
    }) = list
    else {
        return None;
    };
    items
        .iter()
        .find(|i| i.as_scalar().is_some_and(|s| s.text == name))
        .map(|i| i.pos)
}

/// `params: [domain, purchase_value]`: names of letters, digits and `_`, each once.
fn params_list(ctx: &mut Ctx, node: &Node) -> Vec<(String, Pos)> {
    let Kind::Seq(items) = &node.kind else {
        ctx.error(
            node.pos,
            format!(
                "`params` must be a list of names, found {}",
                node.describe()
            ),
            "write e.g. params: [domain, purchase_value]",
        );
        return Vec::new();
    };
    let mut out: Vec<(String, Pos)> = Vec::new();
    for item in items {
        let Some(name) = string(ctx, item, "params") else {
            continue;
        };
        if !is_param_name(&name) {
            ctx.error(
                item.pos,
                format!("`{}` is not a parameter name", shorten(&name)),
                "a parameter is a name of letters, digits and `_` (not starting with a digit), e.g. purchase_value",
            );
            continue;
        }
        if let Some((_, first)) = out.iter().find(|(p, _)| *p == name) {
            let first = ctx.loc(*first);
            ctx.error(
                item.pos,
                format!("parameter `{name}` is declared twice (first at {first})"),
                "remove one of them",
            );
            continue;
        }
        out.push((name, item.pos));
    }
    out
}

fn is_param_name(name: &str) -> bool {
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
fn check_templates(
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

/// `use:` of an account: a list of `- set: NAME` items.
pub(crate) fn use_list(ctx: &mut Ctx, node: &Node) -> Vec<UseClause> {
    let items: Vec<&Node> = match &node.kind {
        Kind::Seq(items) => items.iter().collect(),
        Kind::Map(_) => vec![node],
        _ => {
            ctx.error(
                node.pos,
                format!("`use` must be a list of sets, found {}", node.describe()),
                "write e.g. use: [{set: ecommerce, params: {domain: shop.example}}]",
            );
            return Vec::new();
        }
    };
    items
        .into_iter()
        .filter_map(|item| use_item(ctx, item))
        .collect()
}

fn use_item(ctx: &mut Ctx, node: &Node) -> Option<UseClause> {
    let elsewhere = |k: &str| match k {
        "name" => Some("a `use` item names its set with `set:`".to_string()),
        "exclude_entries" | "skip" => Some("did you mean `exclude`?".to_string()),
        _ => None,
    };
    let f = mapping(ctx, node, "a `use` item", USE_KEYS, &elsewhere)?;
    let errors_before = ctx.errors;
    let Some(set_node) = f.get("set") else {
        ctx.error(
            node.pos,
            "a `use` item needs `set:`, the name of the set it uses",
            "write e.g. - set: ecommerce",
        );
        return None;
    };
    let set = string(ctx, set_node, "set")?;
    let params = f
        .get("params")
        .map(|p| use_params(ctx, p))
        .unwrap_or_default();
    let exclude = f
        .get("exclude")
        .map(|e| use_exclude(ctx, e))
        .unwrap_or_default();
    let ids = f.get("ids").map(|i| use_ids(ctx, i)).unwrap_or_default();
    if ctx.errors > errors_before {
        return None;
    }
    Some(UseClause {
        set,
        location: ctx.loc(node.pos),
        set_location: ctx.loc(set_node.pos),
        params,
        exclude,
        ids,
    })
}

/// A `use`'s `params`: each a single value, given once (errors reported, bad ones left out).
fn use_params(ctx: &mut Ctx, p: &Node) -> Vec<(String, Location, Node)> {
    let mut params = Vec::new();
    match &p.kind {
        Kind::Map(pairs) => {
            for (k, v) in pairs {
                let name = key_text(k);
                if matches!(v.kind, Kind::Seq(_) | Kind::Map(_)) || v.is_null() {
                    ctx.error(
                        v.pos,
                        format!(
                            "parameter `{}` must be a single value (a string or a number), found {}",
                            shorten(&name),
                            v.describe()
                        ),
                        "write e.g. params: {domain: shop.example, purchase_value: 40}",
                    );
                    continue;
                }
                if params
                    .iter()
                    .any(|(q, _, _): &(String, Location, Node)| *q == name)
                {
                    ctx.error(
                        k.pos,
                        format!("parameter `{}` is given twice", shorten(&name)),
                        "remove one of them",
                    );
                    continue;
                }
                params.push((name, ctx.loc(k.pos), v.clone()));
            }
        }
        _ => ctx.error(
            p.pos,
            format!(
                "`params` of a `use` must be a mapping, found {}",
                p.describe()
            ),
            "write e.g. params: {domain: shop.example, purchase_value: 40}",
        ),
    }
    params
}

/// A `use`'s `exclude`: entry names (one, or a list).
fn use_exclude(ctx: &mut Ctx, e: &Node) -> Vec<(String, Location)> {
    let mut exclude = Vec::new();
    let items: Vec<&Node> = match &e.kind {
        Kind::Seq(items) => items.iter().collect(),
        _ => vec![e],
    };
    for item in items {
        if let Some(name) = string(ctx, item, "exclude") {
            exclude.push((name, ctx.loc(item.pos)));
        }
    }
    exclude
}

/// A `use`'s `ids`: entry name to pinned id.
fn use_ids(ctx: &mut Ctx, i: &Node) -> Vec<(String, Location, ObjectId)> {
    let mut ids = Vec::new();
    match &i.kind {
        Kind::Map(pairs) => {
            for (k, v) in pairs {
                let name = key_text(k);
                let Some(text) = super::context::id_text(ctx, v, "ids", "23850000000000001") else {
                    continue;
                };
                match ObjectId::parse(&text) {
                    Ok(id) => ids.push((name, ctx.loc(k.pos), id)),
                    Err(e) => ctx.error(
                        v.pos,
                        format!("`ids`: {e}"),
                        "write e.g. ids: {Purchase: \"23850000000000001\"}",
                    ),
                }
            }
        }
        _ => ctx.error(
            i.pos,
            format!(
                "`ids` must be a mapping of entry name to id, found {}",
                i.describe()
            ),
            "write e.g. ids: {Purchase: \"23850000000000001\"}",
        ),
    }
    ids
}

fn error(location: &Location, message: String, hint: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        location: Some(location.clone()),
        message,
        hint: Some(hint.into()),
    }
}

/// Expands one `use` into `account`: the set's entries (minus `exclude`), parameters
/// substituted, `defaults` applied, `ids` pinned. Problems of the `use` itself (unknown set or
/// parameter, a missing one, an `exclude` or `ids` name the set does not have) go to `diags`;
/// those of the set's entries to `findings` (merged across accounts later).
pub(crate) fn expand(
    account: &mut DesiredAccount,
    defaults: &Defaults,
    u: &UseClause,
    sets: &Sets,
    diags: &mut Vec<Diagnostic>,
    findings: &mut Vec<SetFinding>,
) {
    let Some(set) = used_set(account, u, sets, diags) else {
        return;
    };
    let before = diags.len();
    check_params(account, u, set, diags);
    let names: Vec<(Option<&str>, Option<String>)> = set
        .entries
        .iter()
        .map(|e| {
            let raw = SetDef::raw_name(e);
            (raw, raw.map(|r| expand_text(r, u)))
        })
        .collect();
    check_entry_names(u, set, &names, diags);
    if diags.len() > before {
        return;
    }
    expand_entries(account, defaults, u, set, &names, findings);
}

/// The set a `use` names; an error with a suggestion when no set of that name is declared.
fn used_set<'s>(
    account: &DesiredAccount,
    u: &UseClause,
    sets: &'s Sets,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'s SetDef> {
    let Some(set) = sets.get(&u.set) else {
        let names = sets.names();
        let hint = match suggest(&u.set, &names) {
            Some(s) => format!("did you mean `{s}`?"),
            None if names.is_empty() => "no set is declared under the paths given: pass the file or folder that holds the `set:` document too".to_string(),
            None => format!("the sets declared are: {}; or pass the file that declares it", names.join(", ")),
        };
        diags.push(error(
            &u.set_location,
            format!(
                "{} uses set \"{}\", which is declared nowhere under the paths given",
                account.account, u.set
            ),
            hint,
        ));
        return None;
    };
    Some(set)
}

/// Each name in `exclude` and `ids` is one of the set's entries (as written, or as expanded).
fn check_entry_names(
    u: &UseClause,
    set: &SetDef,
    names: &[(Option<&str>, Option<String>)],
    diags: &mut Vec<Diagnostic>,
) {
    let known = |name: &str| {
        names
            .iter()
            .any(|(raw, expanded)| *raw == Some(name) || expanded.as_deref() == Some(name))
    };
    let entry_names: Vec<&str> = names.iter().filter_map(|(raw, _)| *raw).collect();
    for (name, loc) in u
        .exclude
        .iter()
        .map(|(n, l)| (n, l))
        .chain(u.ids.iter().map(|(n, l, _)| (n, l)))
    {
        if !known(name) {
            let hint = match suggest(name, &entry_names) {
                Some(s) => format!("did you mean `{s}`? Entries are named as written in the set"),
                None => format!(
                    "the entries of set \"{}\" are: {}",
                    set.name,
                    entry_names.join(", ")
                ),
            };
            diags.push(error(
                loc,
                format!("set \"{}\" has no entry named \"{name}\"", set.name),
                hint,
            ));
        }
    }
}

/// The set's entries, parameters substituted, as this account's conversions (the excluded ones
/// left out, pins applied); findings inside the set are reported at the set's place.
fn expand_entries(
    account: &mut DesiredAccount,
    defaults: &Defaults,
    u: &UseClause,
    set: &SetDef,
    names: &[(Option<&str>, Option<String>)],
    findings: &mut Vec<SetFinding>,
) {
    let origin = SetOrigin {
        name: set.name.clone(),
        entry: String::new(),
        used_at: u.location.clone(),
    };
    let user = format!("{} at {}", account.account, u.location);
    let mut local = Vec::new();
    for (node, (raw, expanded)) in set.entries.iter().zip(names) {
        let matches = |n: &str| Some(n) == *raw || Some(n) == expanded.as_deref();
        if u.exclude.iter().any(|(n, _)| matches(n)) {
            continue;
        }
        let mut touched = HashMap::new();
        let substituted = substitute(node, u, &mut touched, false);
        let mut ctx = Ctx {
            file: &set.file,
            diags: &mut local,
            errors: 0,
        };
        let converted = entry::set_entry(&mut ctx, &substituted, defaults);
        for mut d in local.drain(..) {
            relocate(&mut d, &touched, u);
            findings.push(SetFinding {
                diag: d,
                set: set.name.clone(),
                user: user.clone(),
            });
        }
        let Some(mut c) = converted else { continue };
        c.id = u
            .ids
            .iter()
            .find(|(n, _, _)| matches(n))
            .map(|(_, _, id)| id.clone());
        c.set = Some(SetOrigin {
            entry: raw.unwrap_or(&c.name).to_string(),
            ..origin.clone()
        });
        account.conversions.push(c);
    }
}

/// Every declared parameter is given, and nothing else.
fn check_params(
    account: &DesiredAccount,
    u: &UseClause,
    set: &SetDef,
    diags: &mut Vec<Diagnostic>,
) {
    let declared: Vec<&str> = set.params.iter().map(String::as_str).collect();
    for (name, loc, _) in &u.params {
        if !set.params.contains(name) {
            let hint = match suggest(name, &declared) {
                Some(s) => format!("did you mean `{s}`?"),
                None if declared.is_empty() => format!("set \"{}\" takes no parameters", set.name),
                None => format!("set \"{}\" takes: {}", set.name, declared.join(", ")),
            };
            diags.push(error(
                loc,
                format!(
                    "unknown parameter `{name}` for set \"{}\" (declared at {})",
                    set.name, set.location
                ),
                hint,
            ));
        }
    }
    let missing: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|p| !u.params.iter().any(|(q, _, _)| q == p))
        .collect();
    if !missing.is_empty() {
        diags.push(error(
            &u.location,
            format!(
                "{} uses set \"{}\" without parameter{} {} (the set, at {}, needs every one of its params)",
                account.account,
                set.name,
                if missing.len() == 1 { "" } else { "s" },
                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
                set.location
            ),
            format!(
                "give them under `params:`, e.g. params: {{{}}}",
                missing.iter().map(|m| format!("{m}: ...")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
}

/// The value of parameter `name` in this use.
fn value_of<'u>(u: &'u UseClause, name: &str) -> Option<&'u (String, Location, Node)> {
    u.params.iter().find(|(n, _, _)| n == name)
}

/// `text` with the use's values substituted (as text).
fn expand_text(text: &str, u: &UseClause) -> String {
    let Ok(pieces) = pieces(text) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Param(p) => match value_of(u, p).and_then(|(_, _, v)| v.as_scalar()) {
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

/// A copy of `node` with the use's values substituted. A scalar that is exactly one `${p}`
/// (and not a mapping key) takes the value as written, with its type; others become strings.
/// `touched` records the positions of substituted scalars (and of the keys of substituted
/// values) with the parameter, so that an error there can point at the value.
fn substitute(
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
                if !is_key && let Some(value) = value_of(u, p).and_then(|(_, _, v)| v.as_scalar()) {
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

/// A finding at a substituted scalar is the value's doing: it points at the value in the
/// account, and names where the set uses it.
fn relocate(d: &mut Diagnostic, touched: &HashMap<Pos, String>, u: &UseClause) {
    let Some(loc) = &d.location else { return };
    let pos = Pos {
        line: loc.line,
        column: loc.column,
    };
    let Some(param) = touched.get(&pos) else {
        return;
    };
    let Some((_, key_loc, value)) = value_of(u, param) else {
        return;
    };
    let value_loc = Location {
        file: key_loc.file.clone(),
        line: value.pos.line,
        column: value.pos.column,
    };
    d.message = format!(
        "{} (the value of parameter `{param}`, used by the set at {loc})",
        d.message
    );
    d.location = Some(value_loc);
}

/// What makes two findings the same: place, message, hint and set.
type FindingKey = (Option<Location>, String, Option<String>, String);

/// Findings of set expansions that are the same (place, message) in several accounts become
/// one, naming the accounts; each names its set and the `use` that hit it.
pub(crate) fn merge_findings(findings: Vec<SetFinding>, diags: &mut Vec<Diagnostic>) {
    let mut order: Vec<(Diagnostic, String)> = Vec::new();
    let mut users: HashMap<FindingKey, (usize, Vec<String>)> = HashMap::new();
    for f in findings {
        let key = (
            f.diag.location.clone(),
            f.diag.message.clone(),
            f.diag.hint.clone(),
            f.set.clone(),
        );
        match users.get_mut(&key) {
            Some((_, list)) => list.push(f.user),
            None => {
                users.insert(key, (order.len(), vec![f.user]));
                order.push((f.diag, f.set));
            }
        }
    }
    let mut by_index: Vec<Vec<String>> = vec![Vec::new(); order.len()];
    for (_, (i, list)) in users {
        by_index[i] = list;
    }
    for ((mut d, set), list) in order.into_iter().zip(by_index) {
        let who = match list.as_slice() {
            [one] => format!("used by {one}"),
            many => {
                let shown: Vec<&str> = many.iter().take(3).map(String::as_str).collect();
                let more = many.len().saturating_sub(3);
                format!(
                    "used by {} accounts: {}{}",
                    many.len(),
                    shown.join(", "),
                    if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    }
                )
            }
        };
        d.message = format!("{} (set {set}, {who})", d.message);
        diags.push(d);
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
