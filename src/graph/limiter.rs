//! Who may send a request now: at most `parallelism` requests in flight overall, at most
//! `per_account_parallelism` for one ad account, nothing for an account (or the app) that is
//! blocked until that time has passed, nothing for an account whose ad-account score has no
//! room for the request's points yet, and a growing pause before each call as the usage the
//! API reports nears 100%.
//!
//! - **The ad-account score** (`score`): once an account's usage headers name its access tier,
//!   every request about it reserves its points (a read 1, a write 3, a batch the sum) and
//!   waits until they fit under the tier's maximum. So an apply needing more than the budget
//!   spreads its writes at the pace the score decays and is never refused; each such wait is
//!   told ([`Limiter::set_notices`]: `act_1: waiting 4m 40s for Meta's ad-account limit,
//!   development access tier: about 20 writes per 5 minutes`), and
//!   [`Limiter::writes_per_request`] keeps a batch within what the score can ever take.
//! - **Usage** is pacing input, never a block by itself: a scope is blocked only when a usage
//!   figure reaches 100% (for the shorter of the regain figures the headers give, see
//!   [`Usage::block`]) or when the API answered a throttling error (for the wait it asked,
//!   [`Limiter::block`]). `reset_time_duration`, which is non-zero whenever usage is above 0,
//!   is never waited for on its own. Where the score paces an account, its figure is left to
//!   the score, and the Business Use Case figure paces alone.
//!
//! The limiter keeps its own accounting ([`Waits`]) of every pause, so tests can prove that an
//! answer cost no waiting. A caller first takes its account's permit, then waits out any block,
//! score or pacing, then takes a global permit: a request waiting for a busy or throttled
//! account never holds a global slot, so an agency's other accounts keep moving. This module
//! never sends anything itself.

use super::config::{RetryPolicy, describe_duration};
use super::score::Score;
use super::transport::LogSink;
use super::usage::Usage;
use crate::model::access_tier::{AccessTier, READ_POINTS, WRITE_POINTS};
use crate::model::ids::AdAccountId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Usage, blocks and the score of one scope (the app, or one account).
#[derive(Debug, Default)]
struct Pressure {
    pct: f64,
    blocked_until: Option<Instant>,
    /// Known once a usage header named the account's access tier.
    score: Option<Score>,
}

impl Pressure {
    /// The rest of a block.
    fn block_wait(&self, now: Instant) -> Duration {
        self.blocked_until
            .filter(|u| *u > now)
            .map_or(Duration::ZERO, |until| until - now)
    }

    /// The pacing pause of usage near 100%.
    fn pacing_wait(&self, policy: &RetryPolicy) -> Duration {
        let threshold = policy.pacing_threshold_pct.clamp(0.0, 99.0);
        if self.pct <= threshold {
            return Duration::ZERO;
        }
        let share = ((self.pct - threshold) / (100.0 - threshold)).clamp(0.0, 1.0);
        policy.pacing_max_delay.mul_f64(share)
    }

    /// How long before the next call: the rest of a block, else the pacing pause.
    fn wait(&self, now: Instant, policy: &RetryPolicy) -> Duration {
        let block = self.block_wait(now);
        if !block.is_zero() {
            return block;
        }
        self.pacing_wait(policy)
    }

    fn score_wait(&self, points: u32, now: Instant) -> Duration {
        self.score
            .as_ref()
            .map_or(Duration::ZERO, |s| s.wait(points, now))
    }

    fn record(&mut self, pct: Option<f64>, block: Option<Duration>, now: Instant) {
        if let Some(p) = pct {
            self.pct = p;
        }
        if let Some(r) = block {
            let until = now + r;
            self.blocked_until = Some(self.blocked_until.map_or(until, |u| u.max(until)));
        }
    }
}

struct AccountGate {
    account: Option<AdAccountId>,
    permits: Arc<Semaphore>,
    pressure: Mutex<Pressure>,
}

/// What the limiter made callers wait, in total (the client's own accounting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    /// Calls that paused before being sent (pacing, the score, or a block).
    pub paused_calls: u64,
    /// Their pauses added up.
    pub paused: Duration,
    /// Blocks imposed (usage at 100%, or a throttling error).
    pub blocks: u64,
    /// Of the paused calls, those that waited for room in their account's score.
    pub score_waits: u64,
}

/// How long the ad-account score makes an account's writes take (see [`GraphClient::pacing`](super::GraphClient::pacing)).
#[derive(Clone, Debug, PartialEq)]
pub struct Pacing {
    pub tier: AccessTier,
    /// From now until the last of the writes may go.
    pub duration: Duration,
    /// `development access tier: about 20 writes per 5 minutes`.
    pub limit: String,
}

pub(crate) struct Limiter {
    global: Arc<Semaphore>,
    waits: Mutex<Waits>,
    /// The pauses under way, for callers that show them.
    pub(crate) pauses: super::pauses::Pauses,
    per_account: usize,
    policy: RetryPolicy,
    app: Mutex<Pressure>,
    accounts: Mutex<HashMap<Option<AdAccountId>, Arc<AccountGate>>>,
    /// Where score waits are told (a person's terminal); nowhere by default.
    notices: OnceLock<LogSink>,
}

/// Held while a request is in flight. Dropping it gives the slots back and settles the
/// points it reserved in its account's score.
pub(crate) struct Permit {
    _account: Option<OwnedSemaphorePermit>,
    _global: OwnedSemaphorePermit,
    reservation: Option<Reservation>,
}

/// Points a request reserved in its account's score.
struct Reservation {
    gate: Arc<AccountGate>,
    points: u32,
    /// The answer's usage headers said what the score is (so the points are in it).
    told: bool,
}

impl Permit {
    /// The answer came with these usage headers (recorded by [`Limiter::record`]): when they
    /// tell the score, the reserved points are in it.
    pub(crate) fn answered(&mut self, usage: &Usage) {
        if let Some(r) = &mut self.reservation {
            r.told |= usage.score().is_some();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(r) = self.reservation.take() {
            let mut pressure = r.gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(score) = &mut pressure.score {
                score.settle(r.points, r.told, Instant::now());
            }
        }
    }
}

impl Limiter {
    pub(crate) fn new(parallelism: usize, per_account: usize, policy: RetryPolicy) -> Self {
        let parallelism = parallelism.max(1);
        Limiter {
            global: Arc::new(Semaphore::new(parallelism)),
            waits: Mutex::new(Waits::default()),
            pauses: super::pauses::Pauses::default(),
            per_account: per_account.clamp(1, parallelism),
            policy,
            app: Mutex::new(Pressure::default()),
            accounts: Mutex::new(HashMap::new()),
            notices: OnceLock::new(),
        }
    }

    /// Tells every wait for an account's score to `sink` from now on (the first sink stays).
    pub(crate) fn set_notices(&self, sink: LogSink) {
        let _ = self.notices.set(sink);
    }

    fn gate(&self, account: Option<&AdAccountId>) -> Arc<AccountGate> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts
            .entry(account.cloned())
            .or_insert_with(|| {
                Arc::new(AccountGate {
                    account: account.cloned(),
                    permits: Arc::new(Semaphore::new(self.per_account)),
                    pressure: Mutex::new(Pressure::default()),
                })
            })
            .clone()
    }

    /// Waits until a request of `points` about `account` (`None`: not known) may go, and
    /// returns the permit to hold while it is in flight, and how long it waited for blocks,
    /// the score and pacing. When a wait lasts beyond `deadline` it does not wait:
    /// `Err(the wait)`.
    pub(crate) async fn acquire(
        &self,
        account: Option<&AdAccountId>,
        points: u32,
        deadline: Instant,
    ) -> Result<(Permit, Duration), Duration> {
        self.acquire_in(account, Some(self.gate(account)), points, deadline)
            .await
    }

    /// Like [`acquire`](Self::acquire) for a request that concerns many accounts at once (a
    /// batch of their listings): only the global limit and the app's usage apply; each
    /// account's own usage and score are seen to by leaving paced accounts out of such a
    /// request.
    pub(crate) async fn acquire_for_many(
        &self,
        deadline: Instant,
    ) -> Result<(Permit, Duration), Duration> {
        self.acquire_in(None, None, 0, deadline).await
    }

    async fn acquire_in(
        &self,
        account: Option<&AdAccountId>,
        gate: Option<Arc<AccountGate>>,
        points: u32,
        deadline: Instant,
    ) -> Result<(Permit, Duration), Duration> {
        let account_permit = match &gate {
            Some(gate) => Some(
                gate.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("limiter semaphores are never closed"),
            ),
            None => None,
        };
        let mut waited = Duration::ZERO;
        // Pacing is paid once per call; blocks and the score are waited out fully (they may
        // change meanwhile, hence the loop).
        let mut paced = false;
        let mut told = false;
        let mut for_score = false;
        let mut reserved = false;
        loop {
            let now = Instant::now();
            let (app_block, app_pacing) = {
                let app = self.app.lock().unwrap_or_else(|e| e.into_inner());
                (app.block_wait(now), app.pacing_wait(&self.policy))
            };
            // A block is waited out alone (pacing is not added to it); pacing, once.
            let settle = |block: Duration, pacing: Duration, score: Duration| match block.is_zero()
            {
                false => block.max(score),
                true if paced => score,
                true => pacing.max(score),
            };
            let (wait, score_wait) = match &gate {
                None => (
                    settle(app_block, app_pacing, Duration::ZERO),
                    Duration::ZERO,
                ),
                Some(gate) => {
                    let mut pressure = gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
                    let block = app_block.max(pressure.block_wait(now));
                    let pacing = app_pacing.max(pressure.pacing_wait(&self.policy));
                    let score = pressure.score_wait(points, now);
                    let wait = settle(block, pacing, score);
                    if wait.is_zero()
                        && let Some(score) = &mut pressure.score
                    {
                        // Checked and reserved under one lock: two callers cannot both
                        // take the same room.
                        score.reserve(points);
                        reserved = true;
                    }
                    (wait, score)
                }
            };
            if wait.is_zero() {
                break;
            }
            if now + wait > deadline {
                return Err(wait);
            }
            let _pause = self
                .pauses
                .begin(account, super::pauses::PauseReason::RateLimit, wait);
            if !score_wait.is_zero() {
                for_score = true;
                // Told when it is worth telling: at least a write's room (15 s at Meta's
                // development tier), not the moment a read waits for its point.
                if !told && self.worth_telling(gate.as_deref(), score_wait) {
                    told = true;
                    self.tell_score_wait(gate.as_deref(), wait);
                }
            }
            tokio::time::sleep(wait).await;
            waited += wait;
            paced = true;
        }
        if !waited.is_zero() {
            let mut waits = self.waits.lock().unwrap_or_else(|e| e.into_inner());
            waits.paused_calls += 1;
            waits.paused += waited;
            waits.score_waits += u64::from(for_score);
        }
        let global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("limiter semaphores are never closed");
        let reservation = gate.filter(|_| reserved);
        Ok((
            Permit {
                _account: account_permit,
                _global: global_permit,
                reservation: reservation.map(|gate| Reservation {
                    gate,
                    points,
                    told: false,
                }),
            },
            waited,
        ))
    }

    /// Whether a wait for the score is as long as one write's points take to decay.
    fn worth_telling(&self, gate: Option<&AccountGate>, wait: Duration) -> bool {
        gate.is_some_and(|gate| {
            gate.pressure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .score
                .as_ref()
                .is_some_and(|s| wait >= s.decay_time(WRITE_POINTS))
        })
    }

    /// `act_1: waiting 4m 40s for Meta's ad-account limit, development access tier: about 20
    /// writes per 5 minutes`.
    fn tell_score_wait(&self, gate: Option<&AccountGate>, wait: Duration) {
        let (Some(sink), Some(gate)) = (self.notices.get(), gate) else {
            return;
        };
        let limit = gate
            .pressure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .score
            .as_ref()
            .map(Score::describe);
        let whom = gate
            .account
            .as_ref()
            .map_or_else(|| "an account".to_string(), |a| a.to_string());
        if let Some(limit) = limit {
            sink(&format!(
                "{whom}: waiting {} for Meta's ad-account limit, {limit}",
                describe_wait(wait)
            ));
        }
    }

    /// Would a call to `account` wait now (a block, the score, or usage high enough to pace
    /// it)? Such an account is not put in a batch with others: its own call waits for it alone.
    pub(crate) fn is_paced(&self, account: &AdAccountId) -> bool {
        let gate = self.gate(Some(account));
        let now = Instant::now();
        let pressure = gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
        !pressure.wait(now, &self.policy).is_zero()
            || !pressure.score_wait(READ_POINTS, now).is_zero()
    }

    /// The most writes one request about `account` may carry, when its score says (19 at
    /// the development tier: a larger batch could never fit in the score).
    pub(crate) fn writes_per_request(&self, account: &AdAccountId) -> Option<usize> {
        let gate = self.gate(Some(account));
        let pressure = gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
        pressure.score.as_ref().map(Score::writes_per_request)
    }

    /// How long the score of `account` makes `writes` writes (and the read that checks them
    /// afterwards) take from now, when its usage headers named its tier.
    pub(crate) fn pacing(&self, account: &AdAccountId, writes: usize) -> Option<Pacing> {
        let gate = self.gate(Some(account));
        let pressure = gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
        let score = pressure.score.as_ref()?;
        let points = u32::try_from(writes)
            .unwrap_or(u32::MAX)
            .saturating_mul(WRITE_POINTS)
            .saturating_add(READ_POINTS);
        Some(Pacing {
            tier: score.tier(),
            duration: score.time_needed(points, Instant::now()),
            limit: score.describe(),
        })
    }

    /// Takes in what the usage headers of an answer about many accounts said: the app's
    /// usage only (each account's comes with its own entry).
    pub(crate) fn record_app(&self, usage: &Usage) {
        if let Some(pct) = usage.app_pct {
            self.app.lock().unwrap_or_else(|e| e.into_inner()).record(
                Some(pct),
                None,
                Instant::now(),
            );
        }
    }

    /// Takes in what an answer's usage headers said about `account` and the app: their usage,
    /// the account's score, and a block only where a figure is at 100% (the score aside: it
    /// paces by itself).
    pub(crate) fn record(&self, account: Option<&AdAccountId>, usage: &Usage) {
        if usage.is_empty() {
            return;
        }
        let now = Instant::now();
        let scored = usage.score();
        let block = usage.block(scored.is_some());
        let app_block = block.filter(|(_, app, _)| *app).map(|(w, _, _)| w);
        let account_block = block.filter(|(_, _, acc)| *acc).map(|(w, _, _)| w);
        self.count_blocks(u64::from(app_block.is_some()) + u64::from(account_block.is_some()));
        self.app
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(usage.app_pct, app_block, now);
        let gate = self.gate(account);
        let mut pressure = gate.pressure.lock().unwrap_or_else(|e| e.into_inner());
        let pct = match scored {
            Some(_) => usage.business_pct.or(Some(0.0)),
            None => usage.account_pct,
        };
        pressure.record(pct, account_block, now);
        if let Some((tier, pct, reset)) = scored {
            pressure
                .score
                .get_or_insert_with(|| Score::new(tier, now))
                .observe(tier, pct, reset, now);
        }
    }

    /// The API answered a throttling error about `account` (or, with `app`, about the whole
    /// app) and asked to wait `wait`: no call to it goes before then.
    pub(crate) fn block(&self, account: Option<&AdAccountId>, app: bool, wait: Duration) {
        if wait.is_zero() {
            return;
        }
        self.count_blocks(1);
        let now = Instant::now();
        if app {
            self.app
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(None, Some(wait), now);
            return;
        }
        let gate = self.gate(account);
        gate.pressure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(None, Some(wait), now);
    }

    fn count_blocks(&self, n: u64) {
        if n > 0 {
            self.waits.lock().unwrap_or_else(|e| e.into_inner()).blocks += n;
        }
    }

    /// Every pause and block so far.
    pub(crate) fn waits(&self) -> Waits {
        *self.waits.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A wait for a person: whole seconds from a second on (`4m 40s`), else milliseconds.
fn describe_wait(wait: Duration) -> String {
    if wait >= Duration::from_secs(1) {
        describe_duration(Duration::from_secs(wait.as_secs_f64().ceil() as u64))
    } else {
        describe_duration(Duration::from_millis(wait.as_millis().max(1) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn account(n: u32) -> AdAccountId {
        AdAccountId::parse(&n.to_string()).unwrap()
    }

    #[tokio::test]
    async fn bounds_global_and_per_account_concurrency() {
        let limiter = Arc::new(Limiter::new(4, 2, RetryPolicy::fast()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let one_account_peak = Arc::new(AtomicUsize::new(0));
        let one_account_now = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..24u32 {
            let (limiter, in_flight, peak, one_now, one_peak) = (
                limiter.clone(),
                in_flight.clone(),
                peak.clone(),
                one_account_now.clone(),
                one_account_peak.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let acc = account(if i % 2 == 0 { 1 } else { 2 + i });
                let (_permit, _) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                if i % 2 == 0 {
                    let n = one_now.fetch_add(1, Ordering::SeqCst) + 1;
                    one_peak.fetch_max(n, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                if i % 2 == 0 {
                    one_now.fetch_sub(1, Ordering::SeqCst);
                }
                in_flight.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 4);
        assert_eq!(one_account_peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn waits_out_blocks_and_paces_near_the_limit() {
        let policy = RetryPolicy {
            pacing_max_delay: Duration::from_millis(40),
            ..RetryPolicy::fast()
        };
        let limiter = Limiter::new(4, 2, policy);
        let acc = account(1);
        let started = Instant::now();
        // A throttling error's wait blocks the account.
        limiter.block(Some(&acc), false, Duration::from_millis(60));
        let (first, waited) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(started.elapsed() >= Duration::from_millis(60));
        // Another account is not held up by that block.
        let (_other, other_wait) = limiter.acquire(Some(&account(2)), 1, far()).await.unwrap();
        assert_eq!(other_wait, Duration::ZERO);
        // 87.5% with pacing from 75%: half of the maximum pause.
        let busy = Usage {
            account_pct: Some(87.5),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &busy);
        drop(first);
        let (_again, paced) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
        assert_eq!(paced, Duration::from_millis(20));
        // A block beyond the caller's deadline is not waited for.
        let long = Usage {
            account_pct: Some(100.0),
            regain: Some(Duration::from_secs(30)),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &long);
        drop(_again);
        let refused = limiter
            .acquire(Some(&acc), 1, Instant::now() + Duration::from_secs(1))
            .await;
        assert!(refused.is_err_and(|left| left > Duration::from_secs(29)));
    }

    /// Only an account the API asked to slow down is paced; it is then kept out of batches.
    #[test]
    fn an_account_is_paced_only_when_its_own_usage_says_so() {
        let limiter = Limiter::new(4, 2, RetryPolicy::fast());
        let acc = account(7);
        assert!(!limiter.is_paced(&acc));
        let calm = Usage {
            account_pct: Some(40.0),
            reset: Some(Duration::from_secs(100)),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &calm);
        assert!(!limiter.is_paced(&acc), "below the pacing threshold");
        let busy = Usage {
            account_pct: Some(90.0),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &busy);
        assert!(limiter.is_paced(&acc));
        assert!(!limiter.is_paced(&account(8)), "other accounts are not");
    }

    /// Usage below 100% never blocks, whatever `reset_time_duration` says; at 100% the block
    /// is the shorter figure; every pause is counted.
    #[tokio::test]
    async fn only_full_usage_blocks_and_pauses_are_counted() {
        let limiter = Limiter::new(4, 2, RetryPolicy::fast());
        let acc = account(9);
        let sample = Usage {
            account_pct: Some(9.67),
            reset: Some(Duration::from_secs(100)),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &sample);
        let (_p, waited) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
        assert_eq!(waited, Duration::ZERO);
        assert_eq!(limiter.waits(), Waits::default());
        drop(_p);
        let full = Usage {
            account_pct: Some(100.0),
            reset: Some(Duration::from_millis(30)),
            regain: Some(Duration::from_secs(60)),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &full);
        let (_p, waited) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
        assert!(
            waited >= Duration::from_millis(25) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        let waits = limiter.waits();
        assert_eq!((waits.paused_calls, waits.blocks), (1, 1));
    }

    fn score_usage(tier: AccessTier, points: f64, reset_secs: f64) -> Usage {
        let max = f64::from(tier.max_score());
        Usage {
            score_pct: Some(points * 100.0 / max),
            account_pct: Some(points * 100.0 / max),
            reset: (reset_secs > 0.0).then(|| Duration::from_secs_f64(reset_secs)),
            tier: Some(tier),
            ..Usage::default()
        }
    }

    /// A development-tier account: a batch of 19 writes goes at once after the listing's
    /// point; the next waits until the score has room (280 s at 0.2 points a second), and says
    /// so; nothing is refused. The clock is paused: no real waiting.
    #[tokio::test(start_paused = true)]
    async fn a_development_account_is_paced_by_its_score() {
        let limiter = Arc::new(Limiter::new(4, 2, RetryPolicy::fast()));
        let told = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = told.clone();
        limiter.set_notices(Arc::new(move |line: &str| {
            sink.lock().unwrap().push(line.to_string());
        }));
        let acc = account(1);
        assert_eq!(limiter.writes_per_request(&acc), None, "no tier known yet");
        limiter.record(Some(&acc), &score_usage(AccessTier::Development, 1.0, 5.0));
        assert_eq!(limiter.writes_per_request(&acc), Some(19));
        let pacing = limiter.pacing(&acc, 100).unwrap();
        assert_eq!(pacing.duration.as_secs(), ((1 + 300 + 1 - 59) * 5) as u64);
        assert_eq!(
            pacing.limit,
            "development access tier: about 20 writes per 5 minutes"
        );
        let start = Instant::now();
        let (mut first, waited) = limiter.acquire(Some(&acc), 57, far()).await.unwrap();
        assert_eq!(waited, Duration::ZERO);
        let second = {
            let limiter = limiter.clone();
            let acc = acc.clone();
            tokio::spawn(async move {
                let far = Instant::now() + Duration::from_secs(3600);
                limiter.acquire(Some(&acc), 57, far).await.unwrap().1
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        // The first batch's answer: its last entry says the score is 58 (of 60).
        let answer = score_usage(AccessTier::Development, 58.0, 290.0);
        limiter.record(Some(&acc), &answer);
        first.answered(&answer);
        drop(first);
        let waited = second.await.unwrap();
        assert!(
            (279..=281).contains(&waited.as_secs()),
            "{waited:?} after {:?}",
            start.elapsed()
        );
        assert_eq!(
            told.lock().unwrap().as_slice(),
            [
                "act_1: waiting 4m 40s for Meta's ad-account limit, development access tier: about 20 writes per 5 minutes"
            ]
        );
        let waits = limiter.waits();
        assert_eq!((waits.score_waits, waits.blocks), (1, 0));
    }

    /// At the score's maximum the account is not blocked for the whole `reset_time_duration`
    /// (as usage at 100% would be): a read waits only until its point fits.
    #[tokio::test(start_paused = true)]
    async fn a_full_score_waits_only_for_room() {
        let limiter = Limiter::new(4, 2, RetryPolicy::fast());
        let acc = account(2);
        limiter.record(
            Some(&acc),
            &score_usage(AccessTier::Development, 60.0, 300.0),
        );
        assert!(limiter.is_paced(&acc));
        let (_p, waited) = limiter.acquire(Some(&acc), 1, far()).await.unwrap();
        assert_eq!(waited, Duration::from_secs(10), "2 points at 0.2 a second");
        assert_eq!(limiter.waits().blocks, 0);
    }

    /// Standard access: 9000 points; a batch of 50 writes never waits, and a batch is cut at
    /// the batch size, not at the score.
    #[tokio::test(start_paused = true)]
    async fn a_standard_account_is_not_paced() {
        let limiter = Limiter::new(4, 2, RetryPolicy::fast());
        let acc = account(3);
        limiter.record(Some(&acc), &score_usage(AccessTier::Standard, 300.0, 10.0));
        assert!(!limiter.is_paced(&acc));
        assert_eq!(limiter.writes_per_request(&acc), Some(2999));
        for _ in 0..20 {
            let (_p, waited) = limiter.acquire(Some(&acc), 150, far()).await.unwrap();
            assert_eq!(waited, Duration::ZERO);
        }
        assert_eq!(limiter.pacing(&acc, 100).unwrap().duration, Duration::ZERO);
    }
}
