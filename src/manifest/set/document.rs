//! A `set:` document: its name, its `params` and its entries, kept as YAML trees (templates
//! unexpanded) after their `${...}` references are checked against the `params`.

use super::SetDef;
use super::template::{check_templates, is_param_name};
use crate::manifest::context::{Ctx, mapping, shorten, string};
use crate::manifest::document::check_version;
use crate::manifest::format::{ManifestDocument, SetDocument, keys};
use crate::manifest::yaml::{Kind, Node, Pos};

/// A `set:` document, or `None` when it has errors (reported).
pub(crate) fn set_doc(ctx: &mut Ctx, root: &Node) -> Option<SetDef> {
    let elsewhere = |k: &str| {
        match k {
        "account" => Some(
            "a document declares a set (`set:`) or an account (`account:`), not both".to_string(),
        ),
        "deletion" => Some(
            "`deletion` belongs to an account: a set's entries land in the accounts that use it, and each account's `deletion` governs them"
                .to_string(),
        ),
        _ if keys::<ManifestDocument>().contains(&k) => Some(format!(
            "`{k}` belongs to an account; a set takes the account's `defaults` when it is used"
        )),
        _ => None,
    }
    };
    let f = mapping::<SetDocument>(ctx, root, "a set document", &elsewhere)?;
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
