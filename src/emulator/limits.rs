//! Meta's limits on an ad account, as the emulator enforces and reports them (reference:
//! Rate-limit headers; `model::access_tier`): the ad-account score of the access tier
//! (`--tier`), the `ads_management` Business Use Case budget (`--rate-limit N` replaces it with
//! N calls a minute), the blocks they impose, and the usage headers that report them.
//!
//! - **Score.** Every call about an account adds its points (a read 1, a write 3); the score
//!   decays linearly to 0 over the window (`--score-window`, 300 s like Meta's). A call that
//!   would take it past the tier's maximum is refused and blocks the account for the tier's
//!   block time, scaled like the window (300 s or 60 s at 300 s).
//! - **Business Use Case.** Calls per account per hour, the tier's budget (300 or 100,000),
//!   the hour scaled like the window; or `--rate-limit N` calls per minute. At the budget a call
//!   is refused until the period ends.
//! - **Headers.** Every answer about an account carries `X-Ad-Account-Usage`
//!   (`acc_id_util_pct`: the score in percent of the maximum, 100 while blocked;
//!   `reset_time_duration`: seconds until it has decayed to 0, to a ten-thousandth (Meta sends
//!   whole seconds) so that a short window stays exact; `ads_api_access_tier`) and `X-Business-Use-Case-Usage` (`call_count`
//!   in percent of the budget, `estimated_time_to_regain_access` in minutes, above 0 only while
//!   the account is blocked), errors included. No `X-App-Usage`: Marketing API calls are not
//!   counted against the Graph API's platform limits (Meta's Conversions API reference), so
//!   the app's figures never move.
//!
//! Refused calls are not counted. Time is tokio's clock, so tests can pause it.

use crate::model::access_tier::{AccessTier, DECAY_WINDOW};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// `--rate-limit N`'s period (N calls per account per minute).
const RATE_LIMIT_PERIOD: Duration = Duration::from_secs(60);
/// The Business Use Case budget's period, before scaling with the window.
const HOUR: Duration = Duration::from_secs(3600);

/// Which limit refused a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Throttle {
    /// The ad-account score: code 17, subcode 2446079.
    Score,
    /// The Business Use Case budget (or `--rate-limit`): code 80004.
    BusinessUseCase,
}

/// One account's usage.
#[derive(Debug)]
struct Account {
    /// The score at `at`.
    score: f64,
    at: Instant,
    blocked_until: Option<Instant>,
    /// Calls in the Business Use Case period that started at `period_started`.
    calls: u64,
    period_started: Instant,
}

impl Account {
    fn new(now: Instant) -> Account {
        Account {
            score: 0.0,
            at: now,
            blocked_until: None,
            calls: 0,
            period_started: now,
        }
    }

    /// Brings the account to `now`: the score decayed, an ended block or period forgotten.
    fn settle(&mut self, now: Instant, rate: f64, period: Duration) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.score = (self.score - rate * elapsed).max(0.0);
        self.at = now;
        if self.blocked_until.is_some_and(|until| until <= now) {
            self.blocked_until = None;
        }
        if now.saturating_duration_since(self.period_started) >= period {
            self.calls = 0;
            self.period_started = now;
        }
    }
}

/// The limits of every account.
#[derive(Debug)]
pub(crate) struct Limits {
    tier: AccessTier,
    /// The score's decay window (`--score-window`).
    window: Duration,
    /// `--rate-limit N` (0: the tier's Business Use Case budget).
    rate_limit: AtomicU64,
    accounts: Mutex<HashMap<String, Account>>,
}

/// What a refused call's answer says, besides its error.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Figures {
    score_pct: f64,
    reset: Duration,
    calls_pct: f64,
    regain: Duration,
}

impl Limits {
    pub(crate) fn new(tier: AccessTier, window: Duration, rate_limit: Option<u32>) -> Limits {
        Limits {
            tier,
            window,
            rate_limit: AtomicU64::new(u64::from(rate_limit.unwrap_or(0))),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// `--rate-limit` changed at run time: the Business Use Case counts start again.
    pub(crate) fn set_rate_limit(&self, limit: Option<u32>) {
        let old = self
            .rate_limit
            .swap(u64::from(limit.unwrap_or(0)), Ordering::Relaxed);
        if old != u64::from(limit.unwrap_or(0)) {
            let now = Instant::now();
            for account in self
                .accounts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values_mut()
            {
                account.calls = 0;
                account.period_started = now;
            }
        }
    }

    pub(crate) fn rate_limit(&self) -> Option<u32> {
        let limit = self.rate_limit.load(Ordering::Relaxed);
        (limit > 0).then(|| u32::try_from(limit).unwrap_or(u32::MAX))
    }

    /// How much shorter than Meta's the window is (1 at 300 s).
    fn scale(&self) -> f64 {
        self.window.as_secs_f64() / DECAY_WINDOW.as_secs_f64()
    }

    fn max(&self) -> f64 {
        f64::from(self.tier.max_score())
    }

    /// Points the score loses per second.
    fn rate(&self) -> f64 {
        self.max() / self.window.as_secs_f64().max(1e-6)
    }

    fn block(&self) -> Duration {
        self.tier.block_time().mul_f64(self.scale())
    }

    /// The Business Use Case budget and its period.
    fn budget(&self) -> (u64, Duration) {
        match self.rate_limit() {
            Some(n) => (u64::from(n), RATE_LIMIT_PERIOD),
            None => (
                u64::from(self.tier.calls_per_hour()),
                HOUR.mul_f64(self.scale()),
            ),
        }
    }

    /// Counts a call of `points` against `account`, or says which limit refuses it (then it is
    /// not counted; a score refusal starts the block).
    pub(crate) fn admit(&self, account: &str, points: u32) -> Result<(), Throttle> {
        let now = Instant::now();
        let (budget, period) = self.budget();
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let usage = accounts
            .entry(account.to_string())
            .or_insert_with(|| Account::new(now));
        usage.settle(now, self.rate(), period);
        if usage.blocked_until.is_some() {
            return Err(Throttle::Score);
        }
        if usage.calls >= budget {
            return Err(Throttle::BusinessUseCase);
        }
        if usage.score + f64::from(points) > self.max() + 1e-9 {
            usage.blocked_until = Some(now + self.block());
            return Err(Throttle::Score);
        }
        usage.score += f64::from(points);
        usage.calls += 1;
        Ok(())
    }

    /// The figures of `account` now.
    fn figures(&self, account: &str) -> Figures {
        let now = Instant::now();
        let (budget, period) = self.budget();
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let Some(usage) = accounts.get_mut(account) else {
            return Figures {
                score_pct: 0.0,
                reset: Duration::ZERO,
                calls_pct: 0.0,
                regain: Duration::ZERO,
            };
        };
        usage.settle(now, self.rate(), period);
        let blocked = usage.blocked_until.map(|until| until - now);
        let over_budget = (usage.calls >= budget)
            .then(|| period.saturating_sub(now.saturating_duration_since(usage.period_started)));
        Figures {
            score_pct: match blocked {
                Some(_) => 100.0,
                None => usage.score * 100.0 / self.max(),
            },
            reset: Duration::from_secs_f64(usage.score / self.rate()),
            calls_pct: usage.calls as f64 * 100.0 / budget.max(1) as f64,
            regain: blocked.max(over_budget).unwrap_or_default(),
        }
    }

    /// The usage headers of an answer about `account`.
    pub(crate) fn headers(&self, account: &str) -> [(&'static str, String); 2] {
        self.render(account, self.figures(account))
    }

    /// The usage headers of a throttling answer that the emulator's faults inject: those of an
    /// account that `throttle` has just blocked (its figure at 100%, the score's decay from
    /// the maximum, the tier's block), whatever the account's real figures.
    pub(crate) fn headers_of_injected(
        &self,
        account: &str,
        throttle: Throttle,
    ) -> [(&'static str, String); 2] {
        let real = self.figures(account);
        let figures = match throttle {
            Throttle::Score => Figures {
                score_pct: 100.0,
                reset: self.window,
                regain: self.block(),
                ..real
            },
            Throttle::BusinessUseCase => Figures {
                score_pct: 100.0,
                reset: self.window,
                calls_pct: 100.0,
                regain: self.block(),
            },
        };
        self.render(account, figures)
    }

    fn render(&self, account: &str, f: Figures) -> [(&'static str, String); 2] {
        let tier = self.tier.header_value();
        let calls = f.calls_pct.round() as u64;
        [
            (
                "x-ad-account-usage",
                format!(
                    r#"{{"acc_id_util_pct":{},"reset_time_duration":{},"ads_api_access_tier":"{tier}"}}"#,
                    decimal((f.score_pct * 100.0).round() / 100.0, 2),
                    decimal((f.reset.as_secs_f64() * 10_000.0).ceil() / 10_000.0, 4),
                ),
            ),
            (
                "x-business-use-case-usage",
                format!(
                    r#"{{"{account}":[{{"type":"ads_management","call_count":{calls},"total_cputime":{},"total_time":{},"estimated_time_to_regain_access":{},"ads_api_access_tier":"{tier}"}}]}}"#,
                    calls / 2,
                    calls / 2,
                    (f.regain.as_secs_f64() / 60.0).round() as u64,
                ),
            ),
        ]
    }
}

/// A number as the headers write it, with at most `places` decimals: `15` for 15.0, `9.67`.
fn decimal(value: f64, places: usize) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.places$}");
        text.trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn header(limits: &Limits, account: &str, name: &str) -> Value {
        let headers = limits.headers(account);
        let (_, value) = headers.iter().find(|(n, _)| *n == name).unwrap();
        serde_json::from_str(value).unwrap()
    }

    fn score(limits: &Limits, account: &str) -> (f64, f64) {
        let v = header(limits, account, "x-ad-account-usage");
        (
            v["acc_id_util_pct"].as_f64().unwrap(),
            v["reset_time_duration"].as_f64().unwrap(),
        )
    }

    /// Development: 20 writes fit in the score, the 21st is refused and blocks the account
    /// 300 s; the headers say so; once blocked, every call is refused until the block ends.
    #[tokio::test(start_paused = true)]
    async fn development_allows_twenty_writes_then_blocks_five_minutes() {
        let limits = Limits::new(AccessTier::Development, DECAY_WINDOW, None);
        assert_eq!(score(&limits, "1"), (0.0, 0.0), "never called");
        limits.admit("1", 3).unwrap();
        assert_eq!(
            score(&limits, "1"),
            (5.0, 15.0),
            "3 of 60 points decay in 15 s"
        );
        for _ in 1..20 {
            limits.admit("1", 3).unwrap();
        }
        assert_eq!(score(&limits, "1"), (100.0, 300.0));
        assert_eq!(limits.admit("1", 3), Err(Throttle::Score));
        let buc = header(&limits, "1", "x-business-use-case-usage");
        assert_eq!(buc["1"][0]["estimated_time_to_regain_access"], 5);
        assert_eq!(buc["1"][0]["ads_api_access_tier"], "development_access");
        tokio::time::advance(Duration::from_secs(150)).await;
        assert_eq!(limits.admit("1", 1), Err(Throttle::Score), "still blocked");
        let (pct, reset) = score(&limits, "1");
        assert_eq!(
            (pct, reset),
            (100.0, 150.0),
            "blocked: 100%; decaying meanwhile"
        );
        assert!(limits.admit("2", 3).is_ok(), "other accounts go on");
        tokio::time::advance(Duration::from_secs(150)).await;
        limits.admit("1", 3).unwrap();
        assert_eq!(score(&limits, "1"), (5.0, 15.0));
    }

    /// Standard: a maximum of 9000 and a 60 s block; the score decays linearly.
    #[tokio::test(start_paused = true)]
    async fn standard_allows_nine_thousand_points_and_blocks_a_minute() {
        let limits = Limits::new(AccessTier::Standard, DECAY_WINDOW, None);
        for _ in 0..3000 {
            limits.admit("1", 3).unwrap();
        }
        assert_eq!(limits.admit("1", 1), Err(Throttle::Score));
        let buc = header(&limits, "1", "x-business-use-case-usage");
        assert_eq!(buc["1"][0]["estimated_time_to_regain_access"], 1);
        assert_eq!(buc["1"][0]["call_count"], 3);
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            score(&limits, "1"),
            (80.0, 240.0),
            "a fifth decayed in 60 s"
        );
        limits.admit("1", 3).unwrap();
    }

    /// `--score-window 2`: the same score in 2 s, the block scaled alike; the reset to a
    /// ten-thousandth of a second.
    #[tokio::test(start_paused = true)]
    async fn a_short_window_scales_decay_and_block() {
        let limits = Limits::new(AccessTier::Development, Duration::from_secs(2), None);
        limits.admit("1", 1).unwrap();
        assert_eq!(score(&limits, "1"), (1.67, 0.0334));
        for _ in 0..19 {
            limits.admit("1", 3).unwrap();
        }
        assert_eq!(limits.admit("1", 3), Err(Throttle::Score));
        tokio::time::advance(Duration::from_millis(1999)).await;
        assert_eq!(limits.admit("1", 3), Err(Throttle::Score));
        tokio::time::advance(Duration::from_millis(1)).await;
        limits.admit("1", 3).unwrap();
    }

    /// `--rate-limit N`: N calls a minute per account, then code 80004 until the minute ends,
    /// with the regain time in minutes.
    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_counts_calls_a_minute() {
        let limits = Limits::new(AccessTier::Standard, DECAY_WINDOW, Some(2));
        limits.admit("1", 1).unwrap();
        limits.admit("1", 1).unwrap();
        assert_eq!(limits.admit("1", 1), Err(Throttle::BusinessUseCase));
        assert!(limits.admit("2", 1).is_ok());
        let buc = header(&limits, "1", "x-business-use-case-usage");
        assert_eq!(buc["1"][0]["call_count"], 100);
        assert_eq!(buc["1"][0]["estimated_time_to_regain_access"], 1);
        tokio::time::advance(Duration::from_secs(60)).await;
        limits.admit("1", 1).unwrap();
        limits.set_rate_limit(None);
        for _ in 0..10 {
            limits.admit("1", 1).unwrap();
        }
    }

    /// The development tier's Business Use Case budget: 300 calls an hour per account.
    #[tokio::test(start_paused = true)]
    async fn development_business_use_case_budget_is_three_hundred_calls_an_hour() {
        let limits = Limits::new(AccessTier::Development, DECAY_WINDOW, None);
        for i in 0..300 {
            limits
                .admit("1", 1)
                .unwrap_or_else(|e| panic!("call {i}: {e:?}"));
            tokio::time::advance(Duration::from_secs(5)).await;
        }
        assert_eq!(limits.admit("1", 1), Err(Throttle::BusinessUseCase));
        tokio::time::advance(Duration::from_secs(3600 - 1500)).await;
        limits.admit("1", 1).unwrap();
    }

    /// An injected throttle carries the headers of a blocked account, its real figures aside.
    #[tokio::test(start_paused = true)]
    async fn injected_throttles_look_like_real_blocks() {
        let limits = Limits::new(AccessTier::Standard, DECAY_WINDOW, None);
        limits.admit("1", 3).unwrap();
        let headers = limits.headers_of_injected("1", Throttle::BusinessUseCase);
        let acc: Value = serde_json::from_str(&headers[0].1).unwrap();
        let buc: Value = serde_json::from_str(&headers[1].1).unwrap();
        assert_eq!(acc["acc_id_util_pct"], 100);
        assert_eq!(acc["reset_time_duration"], 300);
        assert_eq!(buc["1"][0]["call_count"], 100);
        assert_eq!(buc["1"][0]["estimated_time_to_regain_access"], 1);
        assert!(limits.admit("1", 3).is_ok(), "not really blocked");
    }
}
