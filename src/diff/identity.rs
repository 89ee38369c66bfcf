//! Identity (docs/reconcile.md): which live conversion each declared entry means. Pins first,
//! then names among what pins left.
//!
//! Several live conversions with an entry's name are sorted into those with the entry's
//! immutable fields (the same conversion, made twice: by two applies that met, or a create
//! whose answer was lost) and those without:
//! - all the same: **duplicates**. The oldest (creation time, then id) is kept, as it carries
//!   the history and the ads that optimise for it; the others are deleted (`duplicate`);
//! - one old one that differs, and the kept one matches the manifest in every field and is the
//!   *newer*: a replacement cut off half way. The old half is deleted (`replaced`), extra
//!   copies of the new half are duplicates;
//! - anything else (a different conversion someone made with the same name, an old one that is
//!   newer than ours): an error asking for an `id` pin. convctl never deletes what it cannot
//!   prove is its own.
//!
//! A live conversion whose name the API did not report is never matched by name (only a pin
//! can mean it). A pin whose id is gone is accepted, with a warning, when a live conversion has
//! the entry's name and declared immutable fields (a replaced pinned conversion); when none has
//! the name at all, the entry is created, with a warning to update the pin.

use super::error;
use super::fields::diff_fields;
use super::safety::parse_time;
use super::twins::{not_twins, twins_of};
use crate::manifest::{DesiredAccount, Diagnostic, Ensure};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use crate::model::names;
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

/// The outcome of matching an account's entries to its live conversions.
pub(super) struct Matching<'a> {
    /// Per entry (manifest order), the live conversion it means, if any.
    pub(crate) matched: Vec<Option<&'a LiveConversion>>,
    /// Old halves of interrupted replacements, keyed by the entry that finishes them.
    pub(crate) leftovers: HashMap<usize, &'a LiveConversion>,
    /// Extra copies of an entry's conversion, to delete (`duplicate`), keyed by the entry.
    pub(crate) duplicates: HashMap<usize, Vec<&'a LiveConversion>>,
    /// Every live id some entry accounts for (the rest is unmanaged or pruned).
    pub(crate) claimed: HashSet<&'a ConversionId>,
    pub(crate) warnings: Vec<String>,
    pub(crate) errors: Vec<Diagnostic>,
}

/// Matches every entry of `desired` among the `active` live conversions (neither archived nor
/// retired); `listed` is the whole listing, for what messages say of a pin that is not active.
pub(super) fn match_entries<'a>(
    desired: &DesiredAccount,
    active: &[&'a LiveConversion],
    by_id: &HashMap<&'a ConversionId, &'a LiveConversion>,
    listed: &[LiveConversion],
) -> Matching<'a> {
    let mut m = Matching {
        matched: vec![None; desired.conversions.len()],
        leftovers: HashMap::new(),
        duplicates: HashMap::new(),
        claimed: HashSet::new(),
        warnings: Vec::new(),
        errors: Vec::new(),
    };
    let mut matcher = Matcher {
        account: desired,
        active,
        listed,
        m: &mut m,
    };
    matcher.claim_existing_pins(by_id);
    matcher.finish_pinned_replacements();
    // Before names match anything: a pin must not reach what another entry means.
    let pin_errors = super::pins::check_pins(desired, active, by_id, &m.claimed, &|i| {
        m.leftovers.contains_key(&i)
    });
    m.errors.extend(pin_errors);
    let mut matcher = Matcher {
        account: desired,
        active,
        listed,
        m: &mut m,
    };
    matcher.resolve_missing_pins();
    matcher.match_by_name();
    // Entries still unmatched, by an earlier name (`renamed_from`): renamed in place.
    super::renames::match_earlier_names(
        desired,
        active,
        &mut m.matched,
        &mut m.claimed,
        &mut m.errors,
    );
    m
}

struct Matcher<'m, 'a> {
    account: &'m DesiredAccount,
    active: &'m [&'a LiveConversion],
    listed: &'m [LiveConversion],
    m: &'m mut Matching<'a>,
}

impl<'a> Matcher<'_, 'a> {
    /// What became of a pinned id that is not active: `which no longer exists`, `which
    /// convctl retired ("[retired ...] ...")` or `which is archived`.
    fn gone(&self, id: &ConversionId) -> String {
        match self.listed.iter().find(|c| &c.id == id) {
            Some(c) if c.is_archived => "which is archived".to_string(),
            Some(c) if c.retired_on().is_some() => format!(
                "which convctl retired ({}: never managed again)",
                names::quoted(c.name.as_deref().unwrap_or_default())
            ),
            _ => "which no longer exists".to_string(),
        }
    }

    /// Live conversions with `name` that no entry claimed yet (never one without a name),
    /// names compared as the API stores them.
    fn unclaimed_named(&self, name: &str) -> Vec<&'a LiveConversion> {
        self.active
            .iter()
            .copied()
            .filter(|c| {
                c.name.as_deref().map(names::stored) == Some(names::stored(name))
                    && !self.m.claimed.contains(&c.id)
            })
            .collect()
    }

    /// Entry `i` keeps `kept`; `extra` copies of it are deleted as duplicates.
    fn keep(&mut self, i: usize, kept: &'a LiveConversion, extra: Vec<&'a LiveConversion>) {
        self.m.claimed.insert(&kept.id);
        self.m.matched[i] = Some(kept);
        if extra.is_empty() {
            return;
        }
        let entry = &self.account.conversions[i];
        for c in &extra {
            self.m.claimed.insert(&c.id);
        }
        self.m.warnings.push(format!(
            "{}: {} live conversions have this name and are identical in every field the API reported (made twice, by two applies at once or a lost answer): keeping the oldest, {}, and deleting {} as duplicate(s)",
            names::quoted(&entry.name),
            extra.len() + 1,
            kept.id,
            ids_of(&extra)
        ));
        self.m.duplicates.insert(i, extra);
    }

    /// 1. Pins that exist claim their conversion first, so that names never steal them.
    ///    Two entries pinning one id is an error naming both (`validate` refuses it too).
    fn claim_existing_pins(&mut self, by_id: &HashMap<&'a ConversionId, &'a LiveConversion>) {
        let account = self.account;
        let mut pinned_by: HashMap<&ConversionId, usize> = HashMap::new();
        for (i, entry) in account.conversions.iter().enumerate() {
            let Some(id) = &entry.id else { continue };
            // A conversion convctl retired is never managed again: only a tombstone that pins
            // it means it (to delete it); a present entry's pin to it is a pin that is gone.
            let retired_for_present = |live: &LiveConversion| {
                live.retired_on().is_some() && entry.ensure == Ensure::Present
            };
            if let Some(live) = by_id.get(id).filter(|l| !retired_for_present(l)) {
                if let Some(&first) = pinned_by.get(&live.id) {
                    let first = &account.conversions[first];
                    self.m.errors.push(error(
                        entry,
                        format!(
                            "id {id} of {} is pinned by {} at {} too: one live conversion cannot be claimed by two entries",
                            names::quoted(&entry.name),
                            names::quoted(&first.name),
                            first.place()
                        ),
                        "an id may be pinned by one entry only; check which entry it belongs to and remove the other pin",
                    ));
                }
                pinned_by.entry(&live.id).or_insert(i);
                self.m.claimed.insert(&live.id);
                self.m.matched[i] = Some(live);
            }
        }
    }

    /// 1b. A pinned replacement cut off half way: the pinned id still exists with the old
    ///     immutable fields, and an unclaimed conversion of the entry's name, newer than it,
    ///     matches the manifest in every field: that one is the new half (further copies of it
    ///     are duplicates); the pinned one is finished off.
    fn finish_pinned_replacements(&mut self) {
        let account = self.account;
        for (i, entry) in account.conversions.iter().enumerate() {
            let (Some(old), Some(_), Ensure::Present) =
                (self.m.matched[i], &entry.id, entry.ensure)
            else {
                continue;
            };
            if diff_fields(entry, old).forced_by.is_empty() {
                continue;
            }
            let mut same = self.unclaimed_named(&entry.name);
            same.retain(|c| diff_fields(entry, c).forced_by.is_empty());
            let Some(kept) = oldest(&same) else { continue };
            if !diff_fields(entry, kept).is_empty() || !newer(kept, old) {
                continue;
            }
            let extra = match twins_of(entry, kept, &same) {
                Ok(extra) => extra,
                Err(others) => {
                    self.m.errors.push(error(
                        entry,
                        format!(
                            "{} looks like an interrupted replacement of the pinned {}, but {} conversions have its name and declared fields: {}; convctl cannot tell which one is the new half",
                            names::quoted(&entry.name),
                            old.id,
                            same.len(),
                            not_twins(kept, &others)
                        ),
                        format!(
                            "pin the one to manage (`id: \"{}\"` is the oldest), and delete or rename the others",
                            kept.id
                        ),
                    ));
                    self.m.claimed.extend(same.iter().map(|c| &c.id));
                    continue;
                }
            };
            self.keep(i, kept, extra);
            self.m.leftovers.insert(i, old);
            self.m.warnings.push(format!(
                "{}: finishing an interrupted replacement: {} matches the manifest, the pinned old id {} will be deleted. Update the pin at {} to id: \"{}\"",
                names::quoted(&entry.name),
                kept.id,
                old.id,
                entry.location,
                kept.id
            ));
        }
    }

    /// 2. Pins that do not exist: gone for a tombstone. For a present entry: the live
    ///    conversion(s) with its name and declared immutable fields replaced it (the oldest is
    ///    taken, the others are duplicates); none with its name at all: it is created.
    fn resolve_missing_pins(&mut self) {
        let account = self.account;
        for (i, entry) in account.conversions.iter().enumerate() {
            let Some(id) = &entry.id else { continue };
            if self.m.matched[i].is_some() || entry.ensure == Ensure::Absent {
                continue;
            }
            let gone = self.gone(id);
            let named = self.unclaimed_named(&entry.name);
            let same: Vec<&LiveConversion> = named
                .iter()
                .copied()
                .filter(|c| diff_fields(entry, c).forced_by.is_empty())
                .collect();
            if let Some(kept) = oldest(&same) {
                let extra = match twins_of(entry, kept, &same) {
                    Ok(extra) => extra,
                    Err(others) => {
                        self.m.errors.push(error(
                            entry,
                            format!(
                                "{} is pinned to id {id}, {gone}, and {} live conversions have its name and declared fields: {}; convctl cannot tell which one replaced it",
                                names::quoted(&entry.name),
                                same.len(),
                                not_twins(kept, &others)
                            ),
                            "pin the one to manage (`convctl import` lists live ids), and delete or rename the others",
                        ));
                        continue;
                    }
                };
                self.keep(i, kept, extra);
                self.m.warnings.push(format!(
                    "{} is pinned to id {id}, {gone}; {} (same name and declared fields) is taken as its replacement. Update the pin at {} to id: \"{}\"",
                    names::quoted(&entry.name),
                    kept.id,
                    entry.location,
                    kept.id
                ));
            } else if named.is_empty() {
                // A delete-first replacement whose create failed, or a conversion deleted by
                // hand: nothing is left to confuse it with.
                self.m.warnings.push(format!(
                    "{} is pinned to id {id}, {gone}, and no live conversion of {} has its name: it will be created. Update the pin at {}: set it to the new id apply prints, or remove the `id:` line",
                    names::quoted(&entry.name),
                    account.account,
                    entry.location
                ));
            } else {
                self.m.errors.push(error(
                    entry,
                    format!(
                        "{} is pinned to id {id}, which does not exist in {} (or is archived); {} named {} differ(s) from it in fields that force a replacement",
                        names::quoted(&entry.name),
                        account.account,
                        ids_of(&named),
                        names::quoted(&entry.name)
                    ),
                    "check the id (`convctl import` lists live ids): pin the one to manage, or remove the `id:` line and rename or delete the others",
                ));
            }
        }
    }

    /// 3. Everything else by name, among the conversions no pin claimed.
    fn match_by_name(&mut self) {
        let account = self.account;
        for (i, entry) in account.conversions.iter().enumerate() {
            if entry.id.is_some() {
                continue;
            }
            match self.unclaimed_named(&entry.name).as_slice() {
                [] => {}
                [only] => {
                    self.m.claimed.insert(&only.id);
                    self.m.matched[i] = Some(only);
                }
                many => self.several_named(i, many),
            }
        }
    }

    /// Several live conversions carry an unpinned entry's name (see the module doc).
    fn several_named(&mut self, i: usize, many: &[&'a LiveConversion]) {
        let entry = &self.account.conversions[i];
        let (same, differ): (Vec<&LiveConversion>, Vec<&LiveConversion>) = many
            .iter()
            .copied()
            .partition(|c| diff_fields(entry, c).forced_by.is_empty());
        let why_not = match oldest(&same) {
            Some(kept) if entry.ensure == Ensure::Present => {
                match self.copies_or_interrupted(i, kept, &same, &differ) {
                    Several::Resolved => return,
                    Several::Ambiguous { why_not } => why_not,
                }
            }
            _ => String::new(),
        };
        let ids: Vec<String> = many.iter().map(|c| c.id.to_string()).collect();
        let differ_note = match (entry.ensure, differ.is_empty()) {
            (Ensure::Present, false) => format!(
                "; {} differ(s) from the manifest in fields that force a replacement",
                ids_of(&differ)
            ),
            _ => String::new(),
        };
        self.m.errors.push(error(
            entry,
            format!(
                "{} live conversions in {} are named {} (ids {}): convctl cannot tell which one this entry means{differ_note}{why_not}",
                many.len(),
                self.account.account,
                names::quoted(&entry.name),
                ids.join(", ")
            ),
            format!(
                "pin the one to manage with `id: \"{}\"` on this entry (and delete or rename the others)",
                ids[0]
            ),
        ));
    }

    /// Several live conversions named like entry `i`: `same` have its declared immutable
    /// fields (`kept` the oldest of them), `differ` do not. Resolved when the others of `same`
    /// are exact twins of `kept` (duplicates) and either nothing differs, or one older
    /// conversion differs while `kept` matches the manifest in every field (the old half of
    /// an interrupted replacement). Otherwise why not, for the error (maybe nothing to add).
    fn copies_or_interrupted(
        &mut self,
        i: usize,
        kept: &'a LiveConversion,
        same: &[&'a LiveConversion],
        differ: &[&'a LiveConversion],
    ) -> Several {
        let entry = &self.account.conversions[i];
        let extra = match twins_of(entry, kept, same) {
            Ok(extra) => extra,
            Err(others) => {
                return Several::Ambiguous {
                    why_not: format!(
                        "; {} (made by hand?), so none of them is deleted as a duplicate",
                        not_twins(kept, &others)
                    ),
                };
            }
        };
        let matches_manifest = diff_fields(entry, kept).is_empty();
        match differ {
            [] => {
                self.keep(i, kept, extra);
                Several::Resolved
            }
            [old] if matches_manifest && newer(kept, old) => {
                self.keep(i, kept, extra);
                self.m.claimed.insert(&old.id);
                self.m.leftovers.insert(i, old);
                self.m.warnings.push(format!(
                    "{}: finishing an interrupted replacement: {} matches the manifest, the old {} will be deleted",
                    names::quoted(&entry.name),
                    kept.id,
                    old.id
                ));
                Several::Resolved
            }
            [old] if matches_manifest => Several::Ambiguous {
                why_not: format!(
                    "; {} differs from the manifest and is not older than {}, so it is not the old half of an interrupted replacement (made by hand?)",
                    old.id, kept.id
                ),
            },
            _ => Several::Ambiguous {
                why_not: String::new(),
            },
        }
    }
}

/// Several live conversions with an entry's name: sorted out, or an error to report (with
/// what to add to its message).
enum Several {
    Resolved,
    Ambiguous { why_not: String },
}

/// `1, 2 and 3`.
fn ids_of(conversions: &[&LiveConversion]) -> String {
    let ids: Vec<String> = conversions.iter().map(|c| c.id.to_string()).collect();
    match ids.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// When a conversion was made, for ordering: creation time when readable, then the id (ids
/// compared as numbers: `9` before `10`).
fn age(c: &LiveConversion) -> (Option<i64>, u128, &str) {
    let time = c
        .creation_time
        .as_deref()
        .and_then(parse_time)
        .map(|t| t.as_second());
    (
        time,
        c.id.as_str().parse().unwrap_or(u128::MAX),
        c.id.as_str(),
    )
}

/// The oldest: earliest creation time (an unknown time counts as newest), then lowest id.
fn oldest<'a>(conversions: &[&'a LiveConversion]) -> Option<&'a LiveConversion> {
    conversions.iter().copied().min_by(|a, b| {
        let (ta, ia, sa) = age(a);
        let (tb, ib, sb) = age(b);
        let time = match (ta, tb) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        time.then(ia.cmp(&ib)).then(sa.cmp(sb))
    })
}

/// `a` was provably made after `b`: both creation times are known and `a`'s is later, or the
/// same second and `a`'s id is higher. Unknown times prove nothing.
fn newer(a: &LiveConversion, b: &LiveConversion) -> bool {
    let ((Some(ta), ia, _), (Some(tb), ib, _)) = (age(a), age(b)) else {
        return false;
    };
    ta > tb || (ta == tb && ia > ib)
}
