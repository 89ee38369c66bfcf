//! What the client knows of one ad account's score (`model::access_tier`), learnt from its
//! usage headers: the tier, the score, and how fast it decays; and so how long a call of some
//! points must wait for room in it.
//!
//! The score at a moment is the last header's (`acc_id_util_pct` of the tier's maximum),
//! decayed linearly since at the rate its `reset_time_duration` implies (points per second =
//! score / seconds to 0; before any such figure, the tier's documented 300 s window), plus
//! the points of the calls in flight. A call goes only when its points fit under the maximum
//! less [`MARGIN`] (for rounding in the headers and the clocks), so that a paced account is
//! never refused: a development-tier account gets its writes spread at the pace its score
//! decays, instead of a block of 5 minutes after about 20 of them.
//!
//! Estimates err on the slow side: the decay is counted from when an answer arrived (after
//! the API made it), and points in flight are counted until an answer says what the score is.

use crate::model::access_tier::{AccessTier, DECAY_WINDOW, WRITE_POINTS};
use std::time::Duration;
use tokio::time::Instant;

/// Points kept free below the tier's maximum.
pub(crate) const MARGIN: f64 = 1.0;

/// One account's score, as far as the client knows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Score {
    tier: AccessTier,
    /// The score at `at`.
    points: f64,
    at: Instant,
    /// Points lost per second.
    rate: f64,
    /// The score of the header the rate was learnt from (0: the documented window): a header
    /// with a larger score tells the rate more exactly (its figures are rounded).
    rate_basis: f64,
    /// Points of calls admitted and not answered yet.
    reserved: f64,
}

impl Score {
    pub(crate) fn new(tier: AccessTier, now: Instant) -> Score {
        Score {
            tier,
            points: 0.0,
            at: now,
            rate: f64::from(tier.max_score()) / DECAY_WINDOW.as_secs_f64(),
            rate_basis: 0.0,
            reserved: 0.0,
        }
    }

    pub(crate) fn tier(&self) -> AccessTier {
        self.tier
    }

    fn max(&self) -> f64 {
        f64::from(self.tier.max_score())
    }

    /// The most a call may bring the score to.
    fn room(&self) -> f64 {
        self.max() - MARGIN
    }

    /// The score now, the calls in flight aside.
    fn current(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.points - self.rate * elapsed).max(0.0)
    }

    /// What a usage header said: the score is `pct` percent of the tier's maximum and decays
    /// to 0 in `reset` (`None`: it is 0, or the header did not say).
    pub(crate) fn observe(
        &mut self,
        tier: AccessTier,
        pct: f64,
        reset: Option<Duration>,
        now: Instant,
    ) {
        if tier != self.tier {
            let reserved = self.reserved;
            *self = Score::new(tier, now);
            self.reserved = reserved;
        }
        self.points = (pct / 100.0 * self.max()).clamp(0.0, self.max());
        self.at = now;
        // The rate from this header, unless an earlier one told it from a larger score (the
        // rounding of a small score and its short reset time would blur it), or once the
        // score is a tenth of the maximum: precise enough whatever came before.
        if let Some(reset) = reset.filter(|r| !r.is_zero())
            && self.points > 0.0
            && (self.points >= self.rate_basis || self.points >= self.max() / 10.0)
        {
            self.rate = self.points / reset.as_secs_f64();
            self.rate_basis = self.points;
        }
    }

    /// How long a call of `points` waits before its points fit (a call larger than the room
    /// waits for an empty score).
    pub(crate) fn wait(&self, points: u32, now: Instant) -> Duration {
        self.time_for(f64::from(points).min(self.room()), now)
    }

    /// How long `points` take to decay.
    pub(crate) fn decay_time(&self, points: u32) -> Duration {
        Duration::from_secs_f64(f64::from(points) / self.rate)
    }

    /// How long until `points` more fit, calls in flight included.
    fn time_for(&self, points: f64, now: Instant) -> Duration {
        let over = self.current(now) + self.reserved + points - self.room();
        if over <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(over / self.rate)
        }
    }

    /// A call of `points` was admitted: counted until its answer comes.
    pub(crate) fn reserve(&mut self, points: u32) {
        self.reserved += f64::from(points);
    }

    /// The answer to a call of `points` came. `told`: its usage header said what the score is
    /// now (it holds the call's points); otherwise they are counted in, as the API did.
    pub(crate) fn settle(&mut self, points: u32, told: bool, now: Instant) {
        self.reserved = (self.reserved - f64::from(points)).max(0.0);
        if !told {
            self.points = (self.current(now) + f64::from(points)).min(self.max());
            self.at = now;
        }
    }

    /// The most writes one request may carry: as many as fit in an empty score (19 at the
    /// development tier, with the margin).
    pub(crate) fn writes_per_request(&self) -> usize {
        ((self.room() / f64::from(WRITE_POINTS)).floor() as usize).max(1)
    }

    /// How long the score makes `points` more wait, from now: the last of them goes when the
    /// score has decayed enough for all of them.
    pub(crate) fn time_needed(&self, points: u32, now: Instant) -> Duration {
        self.time_for(f64::from(points), now)
    }

    /// The time the score takes to decay from its maximum to 0 (300 s on the real API).
    pub(crate) fn window(&self) -> Duration {
        Duration::from_secs_f64(self.max() / self.rate)
    }

    /// `development access tier: about 20 writes per 5 minutes`.
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}: about {} writes per {}",
            self.tier,
            self.tier.writes_per_window(),
            spoken(self.window())
        )
    }
}

/// A window as people say it: `5 minutes`, `minute`, `90 seconds`, `2 seconds`, `0.5 seconds`.
/// It is learnt from rounded figures, so within 5% of whole minutes or seconds it is taken as
/// those (59.9 s is a minute).
fn spoken(d: Duration) -> String {
    let secs = d.as_secs_f64();
    let near = |value: f64| value >= 0.95 && (value - value.round()).abs() <= 0.05 * value;
    let minutes = secs / 60.0;
    if near(minutes) {
        match minutes.round() as u64 {
            1 => "minute".to_string(),
            n => format!("{n} minutes"),
        }
    } else if near(secs) {
        match secs.round() as u64 {
            1 => "second".to_string(),
            n => format!("{n} seconds"),
        }
    } else {
        format!("{secs:.1} seconds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Equal within a millisecond (the figures are floating point).
    #[track_caller]
    fn close(a: Duration, b: Duration) {
        assert!(a.abs_diff(b) < Duration::from_millis(1), "{a:?} vs {b:?}");
    }

    /// After a listing (1 point of 60) and 19 writes, the next write waits until 3 points have
    /// decayed: at the documented 0.2 points per second, 15 s.
    #[test]
    fn development_spreads_writes_at_the_pace_of_the_decay() {
        let t0 = Instant::now();
        let mut score = Score::new(AccessTier::Development, t0);
        assert_eq!(score.writes_per_request(), 19);
        score.observe(AccessTier::Development, 100.0 / 60.0, Some(secs(5.0)), t0);
        assert_eq!(score.wait(57, t0), Duration::ZERO, "1 + 57 = 58 ≤ 59");
        score.reserve(57);
        close(score.wait(3, t0), secs(2.0 / 0.2)); // the 57 in flight count
        score.observe(
            AccessTier::Development,
            58.0 / 60.0 * 100.0,
            Some(secs(290.0)),
            t0,
        );
        score.settle(57, true, t0);
        close(score.wait(3, t0), secs(2.0 / 0.2));
        close(score.wait(57, t0 + secs(280.0)), Duration::ZERO);
        assert_eq!(
            score.describe(),
            "development access tier: about 20 writes per 5 minutes"
        );
        close(
            score.time_needed(300, t0),
            secs((58.0 + 300.0 - 59.0) / 0.2),
        );
    }

    /// An answer without a usage header: the call's points are counted in; with one, the
    /// header is the score.
    #[test]
    fn answers_without_headers_count_their_points() {
        let t0 = Instant::now();
        let mut score = Score::new(AccessTier::Development, t0);
        score.reserve(30);
        score.settle(30, false, t0);
        close(score.wait(30, t0), secs(1.0 / 0.2));
        score.observe(AccessTier::Development, 0.0, None, t0);
        assert_eq!(score.wait(57, t0), Duration::ZERO);
    }

    /// The decay rate is learnt from the headers: a window shortened to 2 s shows in
    /// `reset_time_duration`, and the waits shrink with it.
    #[test]
    fn the_rate_comes_from_the_headers() {
        let t0 = Instant::now();
        let mut score = Score::new(AccessTier::Development, t0);
        score.observe(AccessTier::Development, 50.0, Some(secs(1.0)), t0);
        close(score.window(), secs(2.0));
        close(score.wait(57, t0), secs((30.0 + 57.0 - 59.0) / 30.0));
        assert_eq!(
            score.describe(),
            "development access tier: about 20 writes per 2 seconds"
        );
        let standard = Score::new(AccessTier::Standard, t0);
        assert_eq!(standard.writes_per_request(), 2999);
        assert_eq!(spoken(secs(60.0)), "minute");
        assert_eq!(spoken(secs(59.88)), "minute");
        assert_eq!(spoken(secs(301.0)), "5 minutes");
        assert_eq!(spoken(secs(90.0)), "90 seconds");
        assert_eq!(spoken(secs(1.018)), "second");
        assert_eq!(spoken(secs(1.2)), "1.2 seconds");
        assert_eq!(spoken(secs(0.5)), "0.5 seconds");
    }
}
