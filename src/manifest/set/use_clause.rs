//! An account's `use:` list: each item names a set, gives its parameter values, and may
//! `exclude` entries and pin their `ids`. Read here, checked against the set in
//! [`super::expand`].

use crate::manifest::context::{Ctx, id_text, mapping, shorten, string};
use crate::manifest::desired::Location;
use crate::manifest::format::UseEntry;
use crate::manifest::yaml::{Kind, Node, key_text};
use crate::model::ids::ObjectId;

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

impl UseClause {
    /// The value of parameter `name` in this use: the name, where its key is, the value.
    pub(super) fn value_of(&self, name: &str) -> Option<&(String, Location, Node)> {
        self.params.iter().find(|(n, _, _)| n == name)
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
    let f = mapping::<UseEntry>(ctx, node, "a `use` item", &elsewhere)?;
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
                let Some(text) = id_text(ctx, v, "ids", "23850000000000001") else {
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
