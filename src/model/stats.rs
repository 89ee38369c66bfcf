//! Daily counts of a custom conversion, as the `stats` edge reports them
//! (`GET /<id>/stats?aggregation=count`): how many events it matched on each day of a window.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Days a report's counts cover (today included).
pub const STATS_DAYS: usize = 28;

/// The days counted: whole UTC days from `first` to `last` (the day the report is made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatsWindow {
    pub first: Date,
    pub last: Date,
}

impl StatsWindow {
    /// The [`STATS_DAYS`] days ending with the day of `now` (UTC).
    pub fn ending_at(now: jiff::Timestamp) -> StatsWindow {
        let last = utc_day(now.as_second());
        let first = last
            .checked_sub(jiff::Span::new().days(STATS_DAYS as i64 - 1))
            .unwrap_or(last);
        StatsWindow { first, last }
    }

    /// Unix seconds of the first day's start and of the day after the last: the window's
    /// `start_time` and `end_time`.
    pub fn bounds(&self) -> (i64, i64) {
        (day_start(self.first), day_start(self.last) + 86_400)
    }

    /// The number of days in the window.
    pub fn len(&self) -> usize {
        (self.first.until(self.last).map_or(0, |s| s.get_days()) + 1).max(0) as usize
    }

    /// Always false: a window has its last day at least.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The day's index in the window, when it is in it.
    pub fn index_of(&self, day: Date) -> Option<usize> {
        if day < self.first || day > self.last {
            return None;
        }
        self.first
            .until(day)
            .ok()
            .map(|s| s.get_days().max(0) as usize)
    }
}

/// The UTC day of a unix time.
pub fn utc_day(unix_seconds: i64) -> Date {
    let days = unix_seconds.div_euclid(86_400);
    EPOCH
        .checked_add(jiff::Span::new().days(days))
        .unwrap_or(EPOCH)
}

/// Unix seconds at the start (UTC) of a day.
pub fn day_start(day: Date) -> i64 {
    EPOCH.until(day).map_or(0, |s| i64::from(s.get_days())) * 86_400
}

const EPOCH: Date = Date::constant(1970, 1, 1);

/// A conversion's counts over a window: one number per day, the first day first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyCounts {
    pub daily: Vec<u64>,
}

impl DailyCounts {
    pub fn total(&self) -> u64 {
        self.daily.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_28_utc_days_ending_today() {
        let now: jiff::Timestamp = "2026-12-06T23:30:00Z".parse().unwrap();
        let w = StatsWindow::ending_at(now);
        assert_eq!(w.first.to_string(), "2026-11-09");
        assert_eq!(w.last.to_string(), "2026-12-06");
        assert_eq!(w.len(), 28);
        let (start, end) = w.bounds();
        assert_eq!(end - start, 28 * 86_400);
        assert_eq!(w.index_of("2026-11-09".parse().unwrap()), Some(0));
        assert_eq!(w.index_of("2026-12-06".parse().unwrap()), Some(27));
        assert_eq!(w.index_of("2026-12-07".parse().unwrap()), None);
    }
}
