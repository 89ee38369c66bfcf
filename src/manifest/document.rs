//! One YAML document → one [`DesiredAccount`]: the top-level keys (`version`, `account`,
//! `defaults`, `prune`, `conversions`), then the checks that span the entries of an account
//! (duplicate names and ids naming both places, protected tombstones, the 100 cap).

use super::context::{Ctx, boolean, id_text, mapping};
use super::entry::{self, DEFAULTS_KEYS, ENTRY_KEYS};
use super::model::{DesiredAccount, DesiredConversion, Ensure};
use super::yaml::{Kind, Node, Resolved};
use crate::ACCOUNT_CAP;
use crate::model::ids::AdAccountId;
use std::collections::HashMap;

pub const DOCUMENT_KEYS: &[&str] = &["version", "account", "defaults", "prune", "conversions"];

/// The account a document declares, or `None` when it has errors (already reported).
pub fn account(ctx: &mut Ctx, root: &Node) -> Option<DesiredAccount> {
    let elsewhere = |k: &str| {
        if ENTRY_KEYS.contains(&k) {
            Some(format!(
                "`{k}` belongs to a conversion entry: put it in a `- name: ...` item under `conversions:`"
            ))
        } else if DEFAULTS_KEYS.contains(&k) {
            Some(format!("`{k}` belongs under `defaults:` or on an entry"))
        } else {
            None
        }
    };
    let what = "a manifest document";
    let f = mapping(ctx, root, what, DOCUMENT_KEYS, &elsewhere)?;
    let errors_before = ctx.errors;

    if let Some(v) = f.get("version") {
        let ok = matches!(v.as_scalar().map(|s| s.resolve()), Some(Resolved::Number { value, integral: true }) if value == 1.0);
        if !ok {
            ctx.error(
                v.pos,
                format!(
                    "unsupported manifest version {}; this convctl reads version 1",
                    v.as_scalar()
                        .map_or_else(|| v.describe().to_string(), |s| format!("`{}`", s.text))
                ),
                "write version: 1 (or leave it out)",
            );
        }
    }
    let account = match (f.get("account"), f.key_pos("account")) {
        (Some(node), Some(key_pos)) => {
            id_text(ctx, node, "account", "act_1234567890").and_then(|text| {
                AdAccountId::parse(&text)
                    .map_err(|e| {
                        ctx.error(
                            node.pos,
                            e,
                            "write account: act_1234567890 (bare digits are accepted too)",
                        )
                    })
                    .ok()
                    .map(|id| (id, key_pos))
            })
        }
        _ => {
            ctx.error(
                root.pos,
                "the document does not say which ad account it declares",
                "add `account: act_1234567890` at the top of the document",
            );
            None
        }
    };
    let defaults = f
        .get("defaults")
        .map(|n| entry::defaults(ctx, n))
        .unwrap_or_default();
    let prune = f
        .get("prune")
        .and_then(|n| boolean(ctx, n, "prune"))
        .unwrap_or(false);
    let mut conversions = Vec::new();
    if let Some(list) = f.get("conversions") {
        match &list.kind {
            Kind::Seq(items) => {
                for item in items {
                    if let Some(c) = entry::entry(ctx, item, &defaults) {
                        conversions.push(c);
                    }
                }
            }
            _ if list.is_null() => {}
            _ => ctx.error(
                list.pos,
                format!(
                    "`conversions` must be a list of entries, found {}",
                    list.describe()
                ),
                "write each conversion as a `- name: ...` item",
            ),
        }
    }
    let (account, key_pos) = account?;
    check_account(ctx, &account, &conversions);
    if ctx.errors > errors_before {
        return None;
    }
    Some(DesiredAccount {
        account,
        location: ctx.loc(key_pos),
        prune,
        conversions,
    })
}

/// Checks across the entries of one account.
fn check_account(ctx: &mut Ctx, account: &AdAccountId, conversions: &[DesiredConversion]) {
    let mut names: HashMap<&str, &DesiredConversion> = HashMap::new();
    let mut ids: HashMap<&str, &DesiredConversion> = HashMap::new();
    for c in conversions {
        if !c.name.is_empty()
            && let Some(first) = names.insert(c.name.as_str(), c)
        {
            names.insert(first.name.as_str(), first);
            let pos = pos_of(c);
            ctx.error(
                pos,
                format!(
                    "duplicate conversion name \"{}\" in {account}: also declared at {}",
                    c.name, first.location
                ),
                "names are unique within an account; rename one, or pin the live one with `id:`",
            );
        }
        if let Some(id) = &c.id
            && let Some(first) = ids.insert(id.as_str(), c)
        {
            ids.insert(id.as_str(), first);
            ctx.error(
                pos_of(c),
                format!(
                    "duplicate id {id} in {account}: also declared at {}",
                    first.location
                ),
                "each entry pins a different live conversion; remove one of them",
            );
        }
    }
    let present: Vec<&DesiredConversion> = conversions
        .iter()
        .filter(|c| c.ensure == Ensure::Present)
        .collect();
    if present.len() > ACCOUNT_CAP {
        let extra = present[ACCOUNT_CAP];
        ctx.error(
            pos_of(extra),
            format!(
                "{account} declares {} present conversions; the API allows at most {ACCOUNT_CAP} per ad account (the {}st starts here)",
                present.len(),
                ACCOUNT_CAP + 1
            ),
            "remove conversions or mark old ones `ensure: absent`",
        );
    }
}

fn pos_of(c: &DesiredConversion) -> super::yaml::Pos {
    super::yaml::Pos {
        line: c.location.line,
        column: c.location.column,
    }
}
