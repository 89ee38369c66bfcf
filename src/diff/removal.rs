//! How the plan removes a conversion (a tombstone, a prune, a duplicate, the old half of a
//! replacement): deleted, or retired where this app may not delete.
//!
//! Most apps may not delete custom conversions (reference: Custom conversions): `DELETE`
//! answers a permissions error. An account retires instead of deleting when its manifest says
//! `deletion: retire`, or when convctl has learnt that deletes are refused there: a conversion
//! convctl retired after a refused delete is listed (archived or not; its description says so,
//! see [`crate::model::retired`]). A plain `deletion: delete` account plans deletes, and apply
//! retires whatever Meta refuses to delete. A flagged conversion can be neither renamed nor,
//! where deletes are refused, deleted: it is left, with a warning.

use crate::manifest::{Deletion, DesiredAccount};
use crate::model::LiveConversion;
use crate::model::retired::retired_after_refusal;
use crate::plan::{Action, ConversionState, DeleteReason, RetireWhy, Retirement};

/// How one account removes conversions.
pub(super) struct Removal {
    /// `Some`: conversions are retired, never deleted, and why.
    pub(super) retire: Option<RetireWhy>,
    /// The listed conversion that shows deletes are refused here (when that is why).
    pub(super) learnt_from: Option<String>,
    /// The day retirements are dated (the plan's).
    today: jiff::civil::Date,
}

/// Where a removal is planned from: the conversion, the name the plan shows, and the entry's
/// set (when it comes from one).
pub(super) struct Target<'a> {
    pub(super) live: &'a LiveConversion,
    pub(super) name: String,
    pub(super) reason: DeleteReason,
    pub(super) set: Option<String>,
    pub(super) set_entry: Option<String>,
}

impl Removal {
    pub(super) fn of(
        desired: &DesiredAccount,
        live: &[LiveConversion],
        now: jiff::Timestamp,
    ) -> Removal {
        let today = now.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let learnt_from = live
            .iter()
            .find(|c| retired_after_refusal(c.name.as_deref(), c.description.as_deref()))
            .map(|c| format!("{} ({})", super::shown_name(c), c.id));
        let retire = match (desired.deletion, &learnt_from) {
            (Deletion::Retire, _) => Some(RetireWhy::Setting),
            (Deletion::Delete, Some(_)) => Some(RetireWhy::Refused),
            (Deletion::Delete, None) => None,
        };
        Removal {
            retire,
            learnt_from,
            today,
        }
    }

    /// Deletes are known to be refused here (`deletion: retire`, or learnt).
    pub(super) fn deletes_refused(&self) -> bool {
        self.retire.is_some()
    }

    /// Why deletes are refused, for messages: `its manifest says deletion: retire`, or what
    /// showed it.
    pub(super) fn why_refused(&self) -> String {
        match (&self.retire, &self.learnt_from) {
            (Some(RetireWhy::Setting), _) => "the manifest says `deletion: retire`".to_string(),
            (_, Some(from)) => format!(
                "Meta refused to delete one before: convctl retired {from} after a refused delete"
            ),
            _ => "deletes are refused".to_string(),
        }
    }

    /// How the old half of a replacement of `live` goes: `None` deleted, `Some` retired.
    pub(super) fn retire_old(&self, live: &LiveConversion) -> Option<Box<Retirement>> {
        let because = self.retire?;
        Some(Box::new(self.retirement(because, live, None)))
    }

    fn retirement(
        &self,
        because: RetireWhy,
        live: &LiveConversion,
        shown: Option<&str>,
    ) -> Retirement {
        let name = live.name.as_deref().or(shown).unwrap_or_default();
        Retirement::new(
            because,
            self.today,
            name,
            live.description.as_deref().unwrap_or_default(),
        )
    }

    /// The action that removes `target`, or `None` when nothing convctl may send removes it (a
    /// flagged conversion where deletes are refused: it cannot be renamed either).
    pub(super) fn action(&self, target: Target<'_>) -> Option<Action> {
        let Target {
            live,
            name,
            reason,
            set,
            set_entry,
        } = target;
        let before = Some(Box::new(ConversionState::from_live(live)));
        match self.retire {
            Some(_) if live.is_unavailable => None,
            Some(because) => Some(Action::Retire {
                id: live.id.clone(),
                retirement: Box::new(self.retirement(because, live, Some(&name))),
                name,
                set,
                set_entry,
                reason,
                before,
            }),
            None => Some(Action::Delete {
                id: live.id.clone(),
                name,
                set,
                set_entry,
                reason,
                before,
                frees_rule_for: None,
                flagged: live.is_unavailable,
            }),
        }
    }

    /// The warning for a conversion [`action`](Self::action) cannot remove.
    pub(super) fn cannot_remove(&self, live: &LiveConversion, what: &str) -> String {
        format!(
            "{} ({}) is flagged by Meta and this app may not delete ({}), so convctl cannot {what}: Meta refuses to rename a flagged conversion too; archive it in Events Manager",
            super::shown_name(live),
            live.id,
            self.why_refused()
        )
    }
}
