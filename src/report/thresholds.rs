//! How long a conversion may go without an event: `expect_fire_within` on its entry (or the
//! account's `defaults`), else the report's defaults, all overridden by `--expect-fire-within`.

use super::ThresholdsShown;
use crate::manifest::FireExpectation;
use crate::model::duration::duration_text;
use std::time::Duration;

/// The default before the first event: a conversion created a week ago that never fired is dead.
pub const NEVER_FIRED_DEFAULT: Duration = Duration::from_secs(7 * 86_400);
/// The default after the last event.
pub const STOPPED_FIRING_DEFAULT: Duration = Duration::from_secs(30 * 86_400);

/// The thresholds a report judges by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub never_fired: Duration,
    pub stopped_firing: Duration,
    /// `--expect-fire-within`: replaces every entry's, and both defaults.
    pub overridden: Option<FireExpectation>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            never_fired: NEVER_FIRED_DEFAULT,
            stopped_firing: STOPPED_FIRING_DEFAULT,
            overridden: None,
        }
    }
}

/// What one conversion is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Effective {
    /// `None`: not judged (`off`).
    pub(crate) never_fired: Option<Duration>,
    pub(crate) stopped_firing: Option<Duration>,
}

impl Thresholds {
    /// The thresholds of a conversion whose entry says `entry` (`None`: it says nothing, or
    /// no entry declares it).
    pub(crate) fn effective(&self, entry: Option<FireExpectation>) -> Effective {
        match self.overridden.or(entry) {
            Some(FireExpectation::Off) => Effective {
                never_fired: None,
                stopped_firing: None,
            },
            Some(FireExpectation::Within(d)) => Effective {
                never_fired: Some(d),
                stopped_firing: Some(d),
            },
            None => Effective {
                never_fired: Some(self.never_fired),
                stopped_firing: Some(self.stopped_firing),
            },
        }
    }

    pub(crate) fn shown(&self) -> ThresholdsShown {
        ThresholdsShown {
            never_fired: duration_text(self.never_fired),
            stopped_firing: duration_text(self.stopped_firing),
            overridden_by_flag: self.overridden.map(|o| o.to_string()),
        }
    }
}

impl Effective {
    /// `2d`, `off`, or `7d/30d` when the two differ.
    pub(crate) fn label(&self) -> String {
        match (self.never_fired, self.stopped_firing) {
            (None, _) | (_, None) => "off".to_string(),
            (Some(a), Some(b)) if a == b => duration_text(a),
            (Some(a), Some(b)) => format!("{}/{}", duration_text(a), duration_text(b)),
        }
    }
}
