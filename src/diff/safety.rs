//! Safety checks shared by `plan` (as warnings) and `apply` (as refusals): the mass-delete
//! guard and "fired recently". Pure functions; they never decide what to change.

use crate::plan::AccountPlan;
use std::fmt;

/// A plan that deletes or replaces more than this many conversions of an account...
pub(crate) const MASS_DELETE_COUNT: usize = 10;
/// ...and more than this share (percent) of its live ones is refused without --allow-mass-delete.
pub(crate) const MASS_DELETE_PERCENT: usize = 30;
/// A conversion that fired within this many days carries a warning when destroyed.
pub(crate) const RECENT_DAYS: i64 = 7;

/// An account plan that trips the mass-delete guard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MassDelete {
    pub(crate) account: String,
    pub destroyed: usize,
    pub live: usize,
    /// The thresholds applied (the account's `safety`, or 10 and 30).
    pub(crate) max_deletes: usize,
    pub(crate) max_delete_pct: usize,
    pub(crate) own_thresholds: bool,
}

impl fmt::Display for MassDelete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the plan deletes or replaces {} of the {} live conversions of {} (more than {} and more than {}%{})",
            self.destroyed,
            self.live,
            self.account,
            self.max_deletes,
            self.max_delete_pct,
            if self.own_thresholds {
                ", the account's `safety`"
            } else {
                ""
            }
        )
    }
}

/// `Some` when the plan deletes or replaces more than 10 conversions AND more than 30% of the
/// account's `live` (non-archived) ones; an account's `safety` (carried by its plan) replaces
/// both thresholds.
pub fn mass_delete(plan: &AccountPlan, live: usize) -> Option<MassDelete> {
    let (max_deletes, max_delete_pct) = plan
        .safety
        .map_or((MASS_DELETE_COUNT, MASS_DELETE_PERCENT), |s| {
            (s.max_deletes, s.max_delete_pct)
        });
    let destroyed = plan.actions.iter().filter(|a| a.is_destructive()).count();
    (destroyed > max_deletes && destroyed * 100 > live * max_delete_pct).then(|| MassDelete {
        account: plan.account.to_string(),
        destroyed,
        live,
        max_deletes,
        max_delete_pct,
        own_thresholds: plan.safety.is_some(),
    })
}

/// How long ago (`"3 hours ago"`-style, without the "ago") a `last_fired_time` was, when it is
/// within the last 7 days. Accepts RFC 3339, the API's `+0000` offsets and unix seconds; an
/// unreadable time is treated as recent (a warning too many beats a silent loss).
pub fn fired_recently(text: &str, now: jiff::Timestamp) -> Option<String> {
    let when = parse_time(text);
    let Some(when) = when else {
        return Some(format!("at {text} (unreadable time)"));
    };
    let seconds = now.as_second() - when.as_second();
    if seconds > RECENT_DAYS * 86_400 {
        return None;
    }
    Some(match seconds {
        s if s < 3_600 => "less than an hour ago".to_string(),
        s if s < 2 * 86_400 => format!("{} hours ago", s / 3_600),
        s => format!("{} days ago", s / 86_400),
    })
}

pub(super) fn parse_time(text: &str) -> Option<jiff::Timestamp> {
    crate::model::parse_api_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The manifest's default `safety` is this guard's.
    #[test]
    fn manifest_defaults_are_the_guard_defaults() {
        let d = crate::manifest::Safety::default();
        assert_eq!(
            (d.max_deletes, d.max_delete_pct),
            (MASS_DELETE_COUNT, MASS_DELETE_PERCENT)
        );
    }

    #[test]
    fn reads_the_api_time_formats() {
        let now: jiff::Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        assert_eq!(
            fired_recently("2026-11-25T10:00:00+0000", now).as_deref(),
            Some("2 hours ago")
        );
        assert_eq!(
            fired_recently("2026-11-20T12:00:00Z", now).as_deref(),
            Some("5 days ago")
        );
        assert_eq!(fired_recently("2026-11-01T12:00:00+0000", now), None);
        let secs = now.as_second() - 600;
        assert_eq!(
            fired_recently(&secs.to_string(), now).as_deref(),
            Some("less than an hour ago")
        );
        assert!(
            fired_recently("yesterday-ish", now)
                .unwrap()
                .contains("unreadable")
        );
    }
}
