//! The kinds of finding, by their JSON names, most severe first.

use serde::Serialize;

/// What is wrong with a conversion (or worth a person's look). Ordered most severe first: the
/// report lists findings, and accounts, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Meta flagged it (`is_unavailable`): it silently matches nothing.
    Flagged,
    /// No `first_fired_time`, and created longer ago than its threshold.
    NeverFired,
    /// `last_fired_time` older than its threshold.
    StoppedFiring,
    /// Live, and no entry of the manifests declares it.
    Unmanaged,
    /// Renamed `[retired YYYY-MM-DD] …` by convctl: waiting to be archived in Events Manager.
    Retired,
    /// Archived (still listed, still counted toward the cap).
    Archived,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Flagged,
        Kind::NeverFired,
        Kind::StoppedFiring,
        Kind::Unmanaged,
        Kind::Retired,
        Kind::Archived,
    ];

    /// The JSON name, which `--fail-on` takes too.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Flagged => "flagged",
            Kind::NeverFired => "never_fired",
            Kind::StoppedFiring => "stopped_firing",
            Kind::Unmanaged => "unmanaged",
            Kind::Retired => "retired",
            Kind::Archived => "archived",
        }
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Flagged => "flagged by Meta",
            Kind::NeverFired => "never fired",
            Kind::StoppedFiring => "stopped firing",
            Kind::Unmanaged => "unmanaged",
            Kind::Retired => "retired",
            Kind::Archived => "archived",
        }
    }

    /// A conversion that counts nothing while ads may optimise for it: a problem. The others
    /// are housekeeping.
    pub fn is_problem(self) -> bool {
        matches!(self, Kind::Flagged | Kind::NeverFired | Kind::StoppedFiring)
    }

    /// A kind by its JSON name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
