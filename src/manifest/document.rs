//! One YAML document → one [`DesiredAccount`]: the top-level keys (`version`, `account`,
//! `defaults`, `prune`, `deletion`, `token_env`, `safety`, `use`, `conversions`), then (once the sets it
//! uses are expanded, see [`super::set`]) the checks that span the entries of an account
//! (duplicate names and ids naming both places, earlier names also declared, the 100 cap).

use super::context::{Ctx, boolean, enumerated, id_text, mapping, number, string};
use super::desired::{
    Deletion, DesiredAccount, DesiredConversion, Diagnostic, Ensure, Safety, Severity,
};
use super::entry::{self, Defaults};
use super::format::{ConversionEntry, DefaultsEntry, ManifestDocument, SafetyEntry, keys};
use super::set::{self, UseClause};
use super::yaml::{Kind, Node, Resolved};
use crate::ACCOUNT_CAP;
use crate::model::ids::AdAccountId;
use crate::model::names;
use std::collections::HashMap;

/// An account as its document declares it, before the sets it uses are expanded.
pub(crate) struct PendingAccount {
    /// Its own entries only; [`finish_account`] adds the sets' and checks the whole.
    pub(crate) account: DesiredAccount,
    /// Applied to the sets' entries too.
    pub(crate) defaults: Defaults,
    pub(crate) uses: Vec<UseClause>,
}

/// The account a document declares, or `None` when it has errors (already reported).
pub(crate) fn account(ctx: &mut Ctx, root: &Node) -> Option<PendingAccount> {
    let elsewhere = |k: &str| {
        if keys::<ConversionEntry>().contains(&k) {
            Some(format!(
                "`{k}` belongs to a conversion entry: put it in a `- name: ...` item under `conversions:`"
            ))
        } else if keys::<DefaultsEntry>().contains(&k) {
            Some(format!("`{k}` belongs under `defaults:` or on an entry"))
        } else {
            None
        }
    };
    let what = "a manifest document";
    let f = mapping::<ManifestDocument>(ctx, root, what, &elsewhere)?;
    let errors_before = ctx.errors;

    if let Some(v) = f.get("version") {
        check_version(ctx, v);
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
                        );
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
    let deletion = f
        .get("deletion")
        .and_then(|n| enumerated(ctx, n, "deletion", Deletion::ALL, Deletion::as_str))
        .unwrap_or_default();
    let token_env = f.get("token_env").and_then(|n| token_env(ctx, n));
    let safety = f.get("safety").and_then(|n| safety(ctx, n));
    let uses = f
        .get("use")
        .map(|n| set::use_list(ctx, n))
        .unwrap_or_default();
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
    if ctx.errors > errors_before {
        return None;
    }
    Some(PendingAccount {
        account: DesiredAccount {
            account,
            location: ctx.loc(key_pos),
            prune,
            deletion,
            token_env,
            safety,
            conversions,
        },
        defaults,
        uses,
    })
}

/// `version: 1` (the only one).
pub(crate) fn check_version(ctx: &mut Ctx, v: &Node) {
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

/// `token_env: META_TOKEN_CLIENT_A`: the name of an environment variable (never a token).
fn token_env(ctx: &mut Ctx, node: &Node) -> Option<String> {
    let name = string(ctx, node, "token_env")?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        // Never echo the value: a token pasted here by mistake must not reach a log.
        ctx.error(
            node.pos,
            "`token_env` must be the name of an environment variable (letters, digits and `_`), not a token",
            "write e.g. token_env: META_TOKEN_CLIENT_A, and put the token in that variable",
        );
        return None;
    }
    Some(name)
}

/// `safety: {max_deletes: 20, max_delete_pct: 50}`; a key left out keeps its default.
fn safety(ctx: &mut Ctx, node: &Node) -> Option<Safety> {
    let f = mapping::<SafetyEntry>(ctx, node, "`safety`", &|_| None)?;
    let mut read = |key: &str, max: Option<f64>| -> Option<Option<usize>> {
        let Some(n) = f.get(key) else {
            return Some(None);
        };
        let v = number(ctx, n, key)?;
        if v < 0.0 || v.fract() != 0.0 || max.is_some_and(|m| v > m) {
            ctx.error(
                n.pos,
                format!(
                    "`{key}` must be a whole number{}, found {v}",
                    if max.is_some() {
                        " from 0 to 100"
                    } else {
                        " of 0 or more"
                    }
                ),
                "write e.g. safety: {max_deletes: 20, max_delete_pct: 50}",
            );
            return None;
        }
        Some(Some(v as usize))
    };
    let max_deletes = read("max_deletes", None)?;
    let max_delete_pct = read("max_delete_pct", Some(100.0))?;
    Some(Safety {
        max_deletes: max_deletes.unwrap_or(Safety::default().max_deletes),
        max_delete_pct: max_delete_pct.unwrap_or(Safety::default().max_delete_pct),
    })
}

/// Checks across the entries of one account, own and expanded from sets (so that locations
/// may be in other files: each diagnostic carries its own).
pub(crate) fn check_account(account: &DesiredAccount, diags: &mut Vec<Diagnostic>) {
    let conversions = &account.conversions;
    let account_id = &account.account;
    let mut error = |c: &DesiredConversion, message: String, hint: &str| {
        diags.push(Diagnostic {
            severity: Severity::Error,
            location: Some(c.location.clone()),
            message: match &c.set {
                None => message,
                Some(o) => format!(
                    "{message} (in set {}, used by {account_id} at {})",
                    o.name, o.used_at
                ),
            },
            hint: Some(hint.to_string()),
        });
    };
    check_names(account, &mut error);
    let present: Vec<&DesiredConversion> = conversions
        .iter()
        .filter(|c| c.ensure == Ensure::Present)
        .collect();
    if present.len() > ACCOUNT_CAP {
        let extra = present[ACCOUNT_CAP];
        error(
            extra,
            format!(
                "{account_id} declares {} present conversions; the API allows at most {ACCOUNT_CAP} per ad account (the {}st starts here)",
                present.len(),
                ACCOUNT_CAP + 1
            ),
            "remove conversions or mark old ones `ensure: absent`",
        );
    }
    check_rules(account, diags);
}

/// One rule per account: Meta refuses to create a conversion whose rule (by meaning) the
/// account already holds (code 100, subcode 1760002; reference: Custom conversions). Two present
/// entries with the same rule on the same event source are an error naming both places; on
/// different event sources (Meta may accept them) or when both pin live ids (both exist
/// already: only a re-creation would be refused) a warning.
fn check_rules(account: &DesiredAccount, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<String, Vec<&DesiredConversion>> = HashMap::new();
    for c in account
        .conversions
        .iter()
        .filter(|c| c.ensure == Ensure::Present)
    {
        let Some(key) = rule_key(c) else { continue };
        let earlier = seen.entry(key).or_default();
        // One finding per entry, about the first earlier one with its rule (on its source if
        // there is one): n copies make n-1 findings, not n².
        let first = earlier
            .iter()
            .find(|e| e.event_source_id == c.event_source_id)
            .or_else(|| earlier.first())
            .copied();
        if let Some(first) = first {
            let sources = (&first.event_source_id, &c.event_source_id);
            let same_source = sources.0 == sources.1;
            let both_pinned = first.id.is_some() && c.id.is_some();
            let source = match (same_source, sources.0) {
                (true, Some(id)) => format!("on the same event source ({id})"),
                (true, None) => "(neither declares an event source)".to_string(),
                (false, _) => format!(
                    "on another event source ({} and {})",
                    sources.0.as_ref().map_or("none", |s| s.as_str()),
                    sources.1.as_ref().map_or("none", |s| s.as_str())
                ),
            };
            let from_set = match &c.set {
                None => String::new(),
                Some(o) => format!(" (in set {}, used at {})", o.name, o.used_at),
            };
            let message = format!(
                "{}{from_set} has the same rule as {} (declared at {}) in {} {source}: Meta refuses a second conversion with a rule the account holds (code 100, subcode 1760002){}",
                names::quoted(&c.name),
                names::quoted(&first.name),
                first.place(),
                account.account,
                match (same_source, both_pinned) {
                    (false, _) => ", though it may accept it on another source",
                    (true, true) =>
                        "; both pin live ids, so only creating one again would be refused",
                    (true, false) => "",
                }
            );
            diags.push(Diagnostic {
                severity: if same_source && !both_pinned {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                location: Some(c.location.clone()),
                message,
                hint: Some(
                    "give each conversion its own rule (a condition more or less), or keep only one of them"
                        .to_string(),
                ),
            });
        }
        earlier.push(c);
    }
}

/// An entry's rule, by meaning (see `rule::stored_rule_key`).
fn rule_key(c: &DesiredConversion) -> Option<String> {
    match c.rule.as_ref()? {
        super::desired::RuleSpec::Rule(rule) => Some(rule.meaning_key()),
        super::desired::RuleSpec::Advanced(value) => Some(crate::rule::advanced_key(value)),
    }
}

/// Names and ids are unique within an account; an earlier name (`renamed_from`) is no
/// declared name; no name takes the form convctl gives the conversions it retires.
fn check_names(account: &DesiredAccount, error: &mut impl FnMut(&DesiredConversion, String, &str)) {
    let conversions = &account.conversions;
    let account = &account.account;
    let mut names: HashMap<&str, &DesiredConversion> = HashMap::new();
    let mut ids: HashMap<&str, &DesiredConversion> = HashMap::new();
    for c in conversions {
        for name in std::iter::once(&c.name).chain(&c.renamed_from) {
            if name.starts_with(crate::model::retired::RETIRED_PREFIX) {
                error(
                    c,
                    format!(
                        "{} has the form convctl gives the conversions it retires (\"[retired YYYY-MM-DD] ...\"): a retired conversion is never matched again, so an entry may not carry such a name",
                        names::quoted(name)
                    ),
                    "give the entry another name; to manage a conversion convctl retired, rename it in Events Manager first",
                );
            }
        }
        if !c.name.is_empty()
            && let Some(first) = names.insert(c.name.as_str(), c)
        {
            names.insert(first.name.as_str(), first);
            let hint = match (&first.set, &c.set) {
                (Some(a), Some(b)) if a.name != b.name => {
                    "two sets this account uses declare the name: `exclude` it from one of the uses"
                }
                (None, Some(_)) | (Some(_), None) => {
                    "an own entry cannot redeclare an entry of a set it uses: `exclude` the set's entry in the `use`, or rename the own entry"
                }
                _ => {
                    "names are unique within an account; rename one, or pin the live one with `id:`"
                }
            };
            error(
                c,
                format!(
                    "duplicate conversion name \"{}\" in {account}: also declared at {}",
                    c.name,
                    first.place()
                ),
                hint,
            );
        }
        if let Some(id) = &c.id
            && let Some(first) = ids.insert(id.as_str(), c)
        {
            ids.insert(id.as_str(), first);
            error(
                c,
                format!(
                    "duplicate id {id} in {account}: also declared at {}",
                    first.place()
                ),
                "each entry pins a different live conversion; remove one of them",
            );
        }
    }
    // One earlier name, one entry: with two, file order would decide which one renames the
    // live conversion in place and which one replaces it (losing its history).
    let mut earlier: HashMap<&str, &DesiredConversion> = HashMap::new();
    for c in conversions {
        for old in &c.renamed_from {
            match earlier.get(old.as_str()) {
                Some(first) if !std::ptr::eq(*first, c) => error(
                    c,
                    format!(
                        "{} lists {} in `renamed_from`, and so does {} at {}: which one is the live {} is ambiguous",
                        names::quoted(&c.name),
                        names::quoted(old),
                        names::quoted(&first.name),
                        first.place(),
                        names::quoted(old)
                    ),
                    "list an earlier name in one entry only (the one the live conversion becomes); pin the other entry's conversion with `id:` if it has one",
                ),
                Some(_) => {}
                None => {
                    earlier.insert(old.as_str(), c);
                }
            }
        }
    }
    for c in conversions {
        for old in &c.renamed_from {
            if let Some(other) = names.get(old.as_str()) {
                error(
                    c,
                    format!(
                        "\"{}\" lists \"{old}\" in `renamed_from`, but \"{old}\" is also declared in {account} at {}",
                        c.name,
                        other.place()
                    ),
                    "an earlier name cannot also be a current one: remove it from `renamed_from`, or remove (or rename) the other entry",
                );
            }
        }
    }
}

/// The account with the sets it uses expanded and every cross-entry check done; `None` when
/// anything is wrong (reported in `diags`).
pub(crate) fn finish_account(
    pending: PendingAccount,
    sets: &set::Sets,
    diags: &mut Vec<Diagnostic>,
    findings: &mut Vec<set::SetFinding>,
) -> Option<DesiredAccount> {
    let PendingAccount {
        mut account,
        defaults,
        uses,
    } = pending;
    let errors_before = count_errors(diags);
    let findings_before = findings.len();
    for u in &uses {
        set::expand(&mut account, &defaults, u, sets, diags, findings);
    }
    check_account(&account, diags);
    let set_errors = findings[findings_before..]
        .iter()
        .any(|f| f.diag.severity == Severity::Error);
    (count_errors(diags) == errors_before && !set_errors).then_some(account)
}

fn count_errors(diags: &[Diagnostic]) -> usize {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}
