//! Identity (spec section 2): which live conversion each declared entry means. Pins first,
//! then names among what pins left; a name carried by two live conversions is an error unless
//! it is a replacement cut off half way (then the new half is matched and the old one is left
//! to delete); a pin whose id is gone is accepted, with a warning, when exactly one live
//! conversion has that name and the declared immutable fields (a replaced pinned conversion).

use super::compare::compare;
use super::error;
use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Ensure};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use std::collections::{HashMap, HashSet};

/// The outcome of matching an account's entries to its live conversions.
pub(super) struct Matching<'a> {
    /// Per entry (manifest order), the live conversion it means, if any.
    pub matched: Vec<Option<&'a LiveConversion>>,
    /// Old halves of interrupted replacements, keyed by the entry that finishes them.
    pub leftovers: HashMap<usize, &'a LiveConversion>,
    /// Every live id some entry accounts for (the rest is unmanaged or pruned).
    pub claimed: HashSet<&'a ConversionId>,
    pub warnings: Vec<String>,
    pub errors: Vec<Diagnostic>,
}

/// Matches every entry of `desired` among the `active` (non-archived) live conversions.
pub(super) fn match_entries<'a>(
    desired: &DesiredAccount,
    active: &[&'a LiveConversion],
    by_id: &HashMap<&'a ConversionId, &'a LiveConversion>,
) -> Matching<'a> {
    let account = &desired.account;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut claimed: HashSet<&ConversionId> = HashSet::new();
    let mut matched: Vec<Option<&LiveConversion>> = vec![None; desired.conversions.len()];
    // Old halves of interrupted replacements, keyed by the entry that finishes them.
    let mut leftovers: HashMap<usize, &LiveConversion> = HashMap::new();

    // 1. Pins that exist claim their conversion first, so that names never steal them.
    for (i, entry) in desired.conversions.iter().enumerate() {
        let Some(id) = &entry.id else { continue };
        if let Some(live) = by_id.get(id) {
            if !claimed.insert(&live.id) {
                errors.push(error(
                    entry,
                    format!(
                        "id {id} of \"{}\" is pinned by another entry of {account} too",
                        entry.name
                    ),
                    "an id may be pinned by one entry only; remove the duplicate pin",
                ));
            }
            matched[i] = Some(live);
        }
    }
    // 1b. A pinned replacement cut off half way: the pinned id still exists with the old
    //     immutable fields, and one unclaimed conversion of that name matches the manifest in
    //     every field: that one is the new half; the pinned one is finished off.
    for (i, entry) in desired.conversions.iter().enumerate() {
        let (Some(old), Ensure::Present) = (matched[i], entry.ensure) else {
            continue;
        };
        if compare(entry, old).forced_by.is_empty() {
            continue;
        }
        let finished: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| {
                c.name == entry.name && !claimed.contains(&c.id) && compare(entry, c).is_empty()
            })
            .collect();
        if let [new] = finished.as_slice() {
            claimed.insert(&new.id);
            matched[i] = Some(new);
            leftovers.insert(i, old);
            warnings.push(format!(
                "\"{}\": finishing an interrupted replacement: {} matches the manifest, the pinned old id {} will be deleted. Update the pin at {} to id: \"{}\"",
                entry.name, new.id, old.id, entry.location, new.id
            ));
        }
    }
    // 2. Pins that do not exist: gone for a tombstone; for a present entry, the replaced-pin
    //    exception (one live conversion with that name and the declared immutable fields).
    for (i, entry) in desired.conversions.iter().enumerate() {
        let Some(id) = &entry.id else { continue };
        if matched[i].is_some() || entry.ensure == Ensure::Absent {
            continue;
        }
        let candidates: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| c.name == entry.name && !claimed.contains(&c.id))
            .filter(|c| compare(entry, c).forced_by.is_empty())
            .collect();
        if let [only] = candidates.as_slice() {
            claimed.insert(&only.id);
            matched[i] = Some(only);
            warnings.push(format!(
                "\"{}\" is pinned to id {id}, which no longer exists; {} (same name and declared fields) is taken as its replacement. Update the pin at {} to id: \"{}\"",
                entry.name, only.id, entry.location, only.id
            ));
        } else {
            errors.push(error(
                entry,
                format!("\"{}\" is pinned to id {id}, which does not exist in {account} (or is archived)", entry.name),
                "check the id (`convctl import` lists live ids), or remove the `id:` line to match by name",
            ));
        }
    }
    // 3. Everything else by name, among the conversions no pin claimed.
    for (i, entry) in desired.conversions.iter().enumerate() {
        if entry.id.is_some() {
            continue;
        }
        let candidates: Vec<&LiveConversion> = active
            .iter()
            .copied()
            .filter(|c| c.name == entry.name && !claimed.contains(&c.id))
            .collect();
        match candidates.as_slice() {
            [] => {}
            [only] => {
                claimed.insert(&only.id);
                matched[i] = Some(only);
            }
            many => {
                if let Some((new, old)) = interrupted_replacement(entry, many) {
                    claimed.insert(&new.id);
                    claimed.insert(&old.id);
                    matched[i] = Some(new);
                    leftovers.insert(i, old);
                    warnings.push(format!(
                        "\"{}\": finishing an interrupted replacement: {} matches the manifest, the old {} will be deleted",
                        entry.name, new.id, old.id
                    ));
                } else {
                    let ids: Vec<String> = many.iter().map(|c| c.id.to_string()).collect();
                    errors.push(error(
                        entry,
                        format!(
                            "{} live conversions in {account} are named \"{}\" (ids {}); convctl cannot tell which one this entry means",
                            many.len(),
                            entry.name,
                            ids.join(", ")
                        ),
                        format!("pin the one to manage with `id: \"{}\"` on this entry (and delete or rename the others)", ids[0]),
                    ));
                }
            }
        }
    }

    // 4. Entries still unmatched, by an earlier name (`renamed_from`): renamed in place.
    super::renames::match_earlier_names(desired, active, &mut matched, &mut claimed, &mut errors);

    Matching {
        matched,
        leftovers,
        claimed,
        warnings,
        errors,
    }
}

/// Two (or more) live conversions carry the entry's name: a replacement cut off after its
/// create left the new one (matching the manifest in every field) and the old one (differing
/// in a field that forces replacement). Anything else is ambiguous.
fn interrupted_replacement<'a>(
    entry: &DesiredConversion,
    candidates: &[&'a LiveConversion],
) -> Option<(&'a LiveConversion, &'a LiveConversion)> {
    if entry.ensure != Ensure::Present || candidates.len() != 2 {
        return None;
    }
    let (a, b) = (candidates[0], candidates[1]);
    let (ca, cb) = (compare(entry, a), compare(entry, b));
    match (ca.is_empty(), cb.is_empty()) {
        (true, false) if !cb.forced_by.is_empty() => Some((a, b)),
        (false, true) if !ca.forced_by.is_empty() => Some((b, a)),
        _ => None,
    }
}
