//! Meta's ads API access tiers and the ad-account score each allows (reference: Errors and
//! Rate-limit headers; Meta's Marketing API rate limiting page): the one table the emulator
//! enforces and the client paces by.
//!
//! Every call about an ad account adds to that account's score (a read 1 point, a write 3;
//! each entry of a batch and each id of a multi-id read counts); the score decays to 0 over
//! [`DECAY_WINDOW`]. A call that would take it past the tier's maximum is refused (code 17,
//! subcode 2446079) and the account is blocked for the tier's block time. So a
//! development-tier app gets about 20 writes per 5 minutes per account.
//!
//! The shape of the decay is not documented; both sides read it as linear (a leaky bucket:
//! `max / DECAY_WINDOW` points per second), which `X-Ad-Account-Usage` reports as
//! `acc_id_util_pct` (the score in percent of the maximum) and `reset_time_duration` (seconds
//! until it is back to 0).

use std::fmt;
use std::time::Duration;

/// Points a read costs.
pub const READ_POINTS: u32 = 1;
/// Points a write (create, update, delete) costs.
pub const WRITE_POINTS: u32 = 3;
/// The time the score takes to decay from its maximum to 0, in both tiers.
pub const DECAY_WINDOW: Duration = Duration::from_secs(300);

/// An app's ads API access tier (`ads_api_access_tier` in the usage headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AccessTier {
    /// New apps: a maximum score of 60, blocked 300 s.
    Development,
    /// After Meta grants Standard access (App Review of the Ads Management Standard Access
    /// feature): a maximum of 9000, blocked 60 s.
    #[default]
    Standard,
}

impl AccessTier {
    /// The highest score an account may reach.
    pub fn max_score(self) -> u32 {
        match self {
            AccessTier::Development => 60,
            AccessTier::Standard => 9000,
        }
    }

    /// How long an account is blocked once a call would pass the maximum.
    pub fn block_time(self) -> Duration {
        match self {
            AccessTier::Development => Duration::from_secs(300),
            AccessTier::Standard => Duration::from_secs(60),
        }
    }

    /// The `ads_management` Business Use Case budget: calls per ad account per hour
    /// (`300 + 40 × active ads` at the development tier, `100000 + 40 × active ads` at the
    /// standard one; custom conversions are not ads, so without the ads term).
    pub fn calls_per_hour(self) -> u32 {
        match self {
            AccessTier::Development => 300,
            AccessTier::Standard => 100_000,
        }
    }

    /// As the usage headers name it.
    pub fn header_value(self) -> &'static str {
        match self {
            AccessTier::Development => "development_access",
            AccessTier::Standard => "standard_access",
        }
    }

    /// From the usage headers' `ads_api_access_tier`; any other value (an older
    /// `limited_access`, say) is `None`: unknown.
    pub fn from_header(value: &str) -> Option<AccessTier> {
        match value.trim() {
            "development_access" => Some(AccessTier::Development),
            "standard_access" => Some(AccessTier::Standard),
            _ => None,
        }
    }

    /// Whole writes that fit in an empty score: 20 at the development tier.
    pub fn writes_per_window(self) -> u32 {
        self.max_score() / WRITE_POINTS
    }
}

impl fmt::Display for AccessTier {
    /// `development access tier`, as a person reads it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccessTier::Development => "development access tier",
            AccessTier::Standard => "standard access tier",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_figures() {
        assert_eq!(AccessTier::Development.writes_per_window(), 20);
        assert_eq!(AccessTier::Standard.writes_per_window(), 3000);
        for tier in [AccessTier::Development, AccessTier::Standard] {
            assert_eq!(AccessTier::from_header(tier.header_value()), Some(tier));
        }
        assert_eq!(AccessTier::from_header("limited_access"), None);
        assert_eq!(AccessTier::default(), AccessTier::Standard);
    }
}
