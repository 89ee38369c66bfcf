//! Sets: a `set:` document declares conversions once, with `params`; an account's `use:` takes
//! a set with its parameter values, may `exclude` entries and pin their `ids`
//! ([docs/manifest.md](../../../docs/manifest.md#sets-conversions-shared-by-many-accounts)).
//!
//! A set is read once ([`document`]: its YAML tree kept, its `${...}` templates checked against
//! its `params`); each `use` ([`use_clause`]) then expands it once ([`expand`]): the tree is
//! copied with the account's values substituted ([`template`]) and checked by the same entry
//! reader as an account's own entries, with the account's `defaults`. So every error in a
//! set's entry names the set's file:line:col **and** the account's `use` that hit it, and an
//! error the same in every account is reported once, naming them all ([`findings`]). An error
//! that a parameter's value causes (a number where a number is needed, a bad regex made of a
//! domain) points at the value, in the account.
//!
//! Parameters work in every string (keys included); a string that is exactly one `${p}` takes
//! the value with its type (`default_conversion_value: ${value}` is a number when the value
//! is). `$${` writes a literal `${`.

mod document;
mod expand;
mod findings;
mod template;
mod use_clause;

pub(crate) use document::set_doc;
pub(crate) use expand::expand;
pub(crate) use findings::{SetFinding, merge_findings};
pub(crate) use template::{Piece, pieces};
pub(crate) use use_clause::{UseClause, use_list};

use super::desired::{Diagnostic, Location, Severity};
use super::yaml::{Kind, Node};
use std::collections::HashMap;
use std::path::PathBuf;

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

#[cfg(test)]
mod tests;
