//! Pins checked against names before anything is matched by name: a pinned id is typed or
//! pasted by a person, and a wrong one must not reach a conversion another entry means, nor
//! delete a conversion other than the one a tombstone names. Each rule is an error at the
//! pinning entry that names the other place:
//! - a pinned conversion whose name is not the entry's but another entry's (or, when that
//!   entry's own name is not live, one of its earlier names): two entries would claim one
//!   conversion, and whichever came first would decide what happens to it;
//! - a tombstone whose pinned conversion has another name than the tombstone's (a retired
//!   conversion counts with the name it had): the id is not the conversion it names. A
//!   tombstone without a name deletes its id whatever the name;
//! - a present entry pinned to a conversion with another name while an unclaimed live
//!   conversion has the entry's name: the plan would rename the pinned one onto the other's
//!   name and leave the other unmanaged, or prune it.

use super::error;
use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use crate::model::names::{quoted, stored};
use crate::model::retired::{RETIRED_PREFIX, retired_on};
use std::collections::{HashMap, HashSet};

const CHECK_THE_ID: &str = "check the id (`convctl import` lists live ids)";

/// Every pin of `desired` that reaches what another entry means (see the module doc).
/// `claimed`: the live ids entries have claimed so far (pins, finished replacements);
/// `finishing`: entries whose pinned conversion is the old half of their own replacement.
pub(super) fn check_pins(
    desired: &DesiredAccount,
    active: &[&LiveConversion],
    by_id: &HashMap<&ConversionId, &LiveConversion>,
    claimed: &HashSet<&ConversionId>,
    finishing: &dyn Fn(usize) -> bool,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for (i, entry) in desired.conversions.iter().enumerate() {
        let Some(id) = &entry.id else { continue };
        let Some(live) = by_id.get(id) else { continue };
        // A present entry's pin to a conversion convctl retired is a pin that is gone (the
        // matcher says so); only a tombstone means a retired one.
        if entry.ensure == Ensure::Present && live.retired_on().is_some() {
            continue;
        }
        let Some(live_name) = live.name.as_deref() else {
            continue;
        };
        if stored(live_name) == stored(&entry.name) {
            continue;
        }
        if let Some(problem) = claimed_by_name(desired, active, i, live, live_name) {
            errors.push(problem);
        } else if entry.ensure == Ensure::Absent {
            if !entry.name.is_empty() && !retired_from(live_name, &entry.name) {
                errors.push(error(
                    entry,
                    format!(
                        "the tombstone {} pins id {id}, which is named {}: applying it would delete {}, not {}",
                        quoted(&entry.name),
                        quoted(live_name),
                        quoted(live_name),
                        quoted(&entry.name)
                    ),
                    format!(
                        "{CHECK_THE_ID}; to delete {} write its name in the tombstone, or leave `name:` out to delete the id whatever its name",
                        quoted(live_name)
                    ),
                ));
            }
        } else if !finishing(i) {
            let others: Vec<&LiveConversion> = active
                .iter()
                .copied()
                .filter(|c| {
                    c.id != live.id
                        && !claimed.contains(&c.id)
                        && c.name.as_deref().map(stored) == Some(stored(&entry.name))
                })
                .collect();
            if let Some(other) = others.first() {
                errors.push(error(
                    entry,
                    format!(
                        "{} pins id {id}, which is named {}, while {} is named {}: the plan would rename {id} to a name {} already has, and leave {} unmanaged (or prune it)",
                        quoted(&entry.name),
                        quoted(live_name),
                        other.id,
                        quoted(&entry.name),
                        other.id,
                        other.id
                    ),
                    format!(
                        "{CHECK_THE_ID}: if {} is the conversion this entry means, pin it instead; if {id} is, delete or rename {} first",
                        other.id, other.id
                    ),
                ));
            }
        }
    }
    errors
}

/// Entry `i` pins `live`, named `live_name`, which another entry means by name (or by an
/// earlier name, when its own name is not live): an error naming both.
fn claimed_by_name(
    desired: &DesiredAccount,
    active: &[&LiveConversion],
    i: usize,
    live: &LiveConversion,
    live_name: &str,
) -> Option<Diagnostic> {
    let entry = &desired.conversions[i];
    let is_live = |name: &str| {
        active
            .iter()
            .any(|c| c.name.as_deref().map(stored) == Some(stored(name)))
    };
    let (other, how) = desired
        .conversions
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .find_map(|(_, other)| {
            if stored(&other.name) == stored(live_name) {
                Some((other, "by its name"))
            } else if other.id.is_none()
                && other
                    .renamed_from
                    .iter()
                    .any(|old| stored(old) == stored(live_name))
                && !is_live(&other.name)
            {
                Some((other, "by an earlier name (`renamed_from`)"))
            } else {
                None
            }
        })?;
    let protected = match (entry.protect, other.protect) {
        (_, true) => format!(
            "; {} is protected (protect: true), and a plan must never delete or replace it through another entry",
            quoted(&other.name)
        ),
        (true, false) => format!("; {} is protected (protect: true)", describe(entry)),
        (false, false) => String::new(),
    };
    Some(error(
        entry,
        format!(
            "{} pins id {}, which is named {}, and the entry {} at {} means that conversion {how}: one live conversion cannot be claimed by two entries{protected}",
            describe(entry),
            live.id,
            quoted(live_name),
            quoted(&other.name),
            other.place()
        ),
        format!(
            "{CHECK_THE_ID}: a pin must be the conversion its entry names; if it is, rename or remove the entry at {}",
            other.place()
        ),
    ))
}

/// An entry in messages: its name, or what it is when it has none (a tombstone by id).
fn describe(entry: &DesiredConversion) -> String {
    match (entry.name.is_empty(), entry.ensure) {
        (false, Ensure::Present) => quoted(&entry.name),
        (false, Ensure::Absent) => format!("the tombstone {}", quoted(&entry.name)),
        (true, _) => "the tombstone".to_string(),
    }
}

/// `live_name` is the retired form of `name` (`[retired 2026-12-06] Old spring`, maybe cut at
/// the name limit).
fn retired_from(live_name: &str, name: &str) -> bool {
    if retired_on(live_name).is_none() {
        return false;
    }
    let rest = live_name
        .strip_prefix(RETIRED_PREFIX)
        .and_then(|r| r.split_once("] "))
        .map_or("", |(_, original)| original);
    !rest.is_empty() && stored(name).starts_with(stored(rest))
}

#[cfg(test)]
mod tests {
    use super::retired_from;

    #[test]
    fn a_retired_conversion_keeps_the_name_it_had() {
        assert!(retired_from(
            "[retired 2026-12-06] Old spring",
            "Old spring"
        ));
        assert!(retired_from("[retired 2026-12-06] Old spr", "Old spring"));
        assert!(!retired_from("[retired 2026-12-06] Summer", "Old spring"));
        assert!(!retired_from("Old spring", "Old spring"));
        assert!(!retired_from("[retired 2026-12-06]", "Old spring"));
    }
}
