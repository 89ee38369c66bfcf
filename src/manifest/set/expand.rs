//! One account's `use` of a set, expanded: the set and parameters it names checked, then the
//! set's entries (minus `exclude`) substituted, read as the account's entries with its
//! `defaults`, and pinned with `ids`. Findings inside the set's entries go to
//! [`super::findings`] to be merged across accounts.

use super::findings::SetFinding;
use super::template::{expand_text, substitute_entry};
use super::use_clause::UseClause;
use super::{SetDef, Sets};
use crate::manifest::context::Ctx;
use crate::manifest::desired::{DesiredAccount, Diagnostic, Location, SetOrigin, Severity};
use crate::manifest::entry::{self, Defaults};
use crate::manifest::yaml::Pos;
use crate::rule::suggest;
use std::collections::HashMap;

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
        let substituted = substitute_entry(node, u, &mut touched);
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
    let Some((_, key_loc, value)) = u.value_of(param) else {
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
