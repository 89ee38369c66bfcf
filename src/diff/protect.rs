//! `protect: true`: a conversion a protected entry matches is never deleted or replaced,
//! through that entry or any other (a tombstone with a pasted id, another entry's pin, its
//! duplicates, prune). The guard holds, per live id, the protected entry that guards it: the
//! conversion the entry matched, the one it pins, and every live conversion with its name (a
//! copy named like a protected conversion is never pruned: the pin may be the wrong one).

use super::error;
use crate::manifest::{DesiredAccount, DesiredConversion, Diagnostic, Severity};
use crate::model::LiveConversion;
use crate::model::ids::ConversionId;
use crate::model::names::{quoted, stored};
use std::collections::HashMap;

/// Which protected entry (its index) guards each live id.
pub(super) struct Guard<'a> {
    guarded: HashMap<&'a ConversionId, usize>,
}

impl<'a> Guard<'a> {
    pub(super) fn new(
        desired: &DesiredAccount,
        active: &[&'a LiveConversion],
        matched: &[Option<&'a LiveConversion>],
    ) -> Guard<'a> {
        let mut guarded = HashMap::new();
        for (p, entry) in desired.conversions.iter().enumerate() {
            if !entry.protect {
                continue;
            }
            for live in active {
                let named = live.name.as_deref().map(stored) == Some(stored(&entry.name));
                let pinned = entry.id.as_ref() == Some(&live.id);
                if named || pinned {
                    guarded.entry(&live.id).or_insert(p);
                }
            }
            if let Some(live) = matched[p] {
                guarded.insert(&live.id, p);
            }
        }
        Guard { guarded }
    }

    /// The refusal when `actor` (an entry's index; `None`: prune) would `verb` `live`, which
    /// another entry protects; `None` when it may.
    pub(super) fn refusal(
        &self,
        desired: &DesiredAccount,
        actor: Option<usize>,
        live: &LiveConversion,
        verb: &str,
    ) -> Option<Diagnostic> {
        let p = *self.guarded.get(&live.id)?;
        if actor == Some(p) {
            // The entry's own actions: `protect_error` says so.
            return None;
        }
        let guard = &desired.conversions[p];
        let what = format!(
            "{} ({})",
            live.name
                .as_deref()
                .map_or_else(|| "(name not reported)".into(), quoted),
            live.id
        );
        let message = format!(
            "{} would {verb} {what}, which the protected entry {} at {} {} (protect: true)",
            match actor {
                Some(a) => format!("the entry {}", quoted(&desired.conversions[a].name)),
                None => "prune".to_string(),
            },
            quoted(&guard.name),
            guard.place(),
            if guard.id.as_ref() == Some(&live.id) {
                "pins"
            } else {
                "matches by its name"
            }
        );
        let hint = "a protected conversion is never deleted or replaced through another entry or by prune: check the ids pinned, and delete or rename it by hand if it really must go";
        Some(match actor {
            Some(a) => error(&desired.conversions[a], message, hint),
            None => Diagnostic {
                severity: Severity::Error,
                location: Some(desired.location.clone()),
                message,
                hint: Some(hint.into()),
            },
        })
    }
}

/// The entry's own plan would destroy the conversion it protects.
pub(super) fn protect_error(entry: &DesiredConversion, what: &str) -> Diagnostic {
    error(
        entry,
        format!(
            "{} is protected (protect: true), but the plan would {what}",
            quoted(&entry.name)
        ),
        "revert the change, or remove `protect: true` from this entry if you really mean it",
    )
}
