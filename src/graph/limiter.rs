//! Who may send a request now: at most `parallelism` requests in flight overall, at most
//! `per_account_parallelism` for one ad account, nothing for an account (or the app) that is
//! blocked until that time has passed, and a growing pause before each call as the usage the
//! API reports nears 100%.
//!
//! Usage is pacing input, never a block by itself: a scope is blocked only when a usage
//! figure reaches 100% (for the shorter of the regain figures the headers give, see
//! [`Usage::block`]) or when the API answered a throttling error (for the wait it asked,
//! [`Limiter::block`]). `reset_time_duration`, which is non-zero whenever usage is above 0,
//! is never waited for on its own. The limiter keeps its own accounting ([`Waits`]) of every
//! pause, so tests can prove that an answer cost no waiting.
//!
//! A caller first takes its account's permit, then waits out any block or pacing, then takes a
//! global permit: a request waiting for a busy or throttled account never holds a global slot,
//! so an agency's other accounts keep moving. This module never sends anything itself.

use super::config::RetryPolicy;
use super::usage::Usage;
use crate::model::ids::AdAccountId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Usage and blocks of one scope (the app, or one account).
#[derive(Debug, Default)]
struct Pressure {
    pct: f64,
    blocked_until: Option<Instant>,
}

impl Pressure {
    /// How long to wait before the next call: the rest of a block, else the pacing pause.
    fn wait(&self, now: Instant, policy: &RetryPolicy) -> Duration {
        if let Some(until) = self.blocked_until.filter(|u| *u > now) {
            return until - now;
        }
        let threshold = policy.pacing_threshold_pct.clamp(0.0, 99.0);
        if self.pct <= threshold {
            return Duration::ZERO;
        }
        let share = ((self.pct - threshold) / (100.0 - threshold)).clamp(0.0, 1.0);
        policy.pacing_max_delay.mul_f64(share)
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
    permits: Arc<Semaphore>,
    pressure: Mutex<Pressure>,
}

/// What the limiter made callers wait, in total (the client's own accounting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Waits {
    /// Calls that paused before being sent (pacing or a block).
    pub paused_calls: u64,
    /// Their pauses added up.
    pub paused: Duration,
    /// Blocks imposed (usage at 100%, or a throttling error).
    pub blocks: u64,
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
}

/// Held while a request is in flight.
pub(crate) struct Permit {
    _account: Option<OwnedSemaphorePermit>,
    _global: OwnedSemaphorePermit,
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
        }
    }

    fn gate(&self, account: Option<&AdAccountId>) -> Arc<AccountGate> {
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        accounts
            .entry(account.cloned())
            .or_insert_with(|| {
                Arc::new(AccountGate {
                    permits: Arc::new(Semaphore::new(self.per_account)),
                    pressure: Mutex::new(Pressure::default()),
                })
            })
            .clone()
    }

    /// Waits until a request about `account` (`None`: not known) may go, and returns the
    /// permit to hold while it is in flight, and how long it waited for blocks and pacing.
    /// When a block lasts beyond `deadline` it does not wait: `Err(time still blocked)`.
    pub(crate) async fn acquire(
        &self,
        account: Option<&AdAccountId>,
        deadline: Instant,
    ) -> Result<(Permit, Duration), Duration> {
        self.acquire_in(account, Some(self.gate(account)), deadline)
            .await
    }

    /// Like [`acquire`](Self::acquire) for a request that concerns many accounts at once (a
    /// batch of their listings): only the global limit and the app's usage apply; each
    /// account's own usage is seen to by leaving paced accounts out of such a request.
    pub(crate) async fn acquire_for_many(
        &self,
        deadline: Instant,
    ) -> Result<(Permit, Duration), Duration> {
        self.acquire_in(None, None, deadline).await
    }

    async fn acquire_in(
        &self,
        account: Option<&AdAccountId>,
        gate: Option<Arc<AccountGate>>,
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
        loop {
            let now = Instant::now();
            let wait = {
                let account_wait = gate.as_ref().map_or(Duration::ZERO, |gate| {
                    gate.pressure
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .wait(now, &self.policy)
                });
                let app_wait = self
                    .app
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .wait(now, &self.policy);
                account_wait.max(app_wait)
            };
            // Pacing is paid once per call; a block is waited out fully (it may be extended
            // meanwhile by another answer, hence the loop).
            if wait.is_zero()
                || (waited > Duration::ZERO && !self.is_blocked(gate.as_deref(), Instant::now()))
            {
                break;
            }
            if now + wait > deadline {
                return Err(wait);
            }
            let _pause = self
                .pauses
                .begin(account, super::pauses::PauseReason::RateLimit, wait);
            tokio::time::sleep(wait).await;
            waited += wait;
        }
        if !waited.is_zero() {
            let mut waits = self.waits.lock().unwrap_or_else(|e| e.into_inner());
            waits.paused_calls += 1;
            waits.paused += waited;
        }
        let global_permit = self
            .global
            .clone()
            .acquire_owned()
            .await
            .expect("limiter semaphores are never closed");
        Ok((
            Permit {
                _account: account_permit,
                _global: global_permit,
            },
            waited,
        ))
    }

    fn is_blocked(&self, gate: Option<&AccountGate>, now: Instant) -> bool {
        let blocked = |p: &Pressure| p.blocked_until.is_some_and(|u| u > now);
        gate.is_some_and(|g| blocked(&g.pressure.lock().unwrap_or_else(|e| e.into_inner())))
            || blocked(&self.app.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Would a call to `account` wait now (a block, or usage high enough to pace it)? Such an
    /// account is not put in a batch with others: its own call waits for it alone.
    pub(crate) fn is_paced(&self, account: &AdAccountId) -> bool {
        let gate = self.gate(Some(account));
        let now = Instant::now();
        !gate
            .pressure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wait(now, &self.policy)
            .is_zero()
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
    /// and a block only where a figure is at 100%.
    pub(crate) fn record(&self, account: Option<&AdAccountId>, usage: &Usage) {
        if usage.is_empty() {
            return;
        }
        let now = Instant::now();
        let block = usage.block();
        let app_block = block.filter(|(_, app, _)| *app).map(|(w, _, _)| w);
        let account_block = block.filter(|(_, _, acc)| *acc).map(|(w, _, _)| w);
        self.count_blocks(u64::from(app_block.is_some()) + u64::from(account_block.is_some()));
        self.app
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(usage.app_pct, app_block, now);
        let gate = self.gate(account);
        gate.pressure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(usage.account_pct, account_block, now);
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
                let (_permit, _) = limiter.acquire(Some(&acc), far()).await.unwrap();
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
        let (first, waited) = limiter.acquire(Some(&acc), far()).await.unwrap();
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(started.elapsed() >= Duration::from_millis(60));
        // Another account is not held up by that block.
        let (_other, other_wait) = limiter.acquire(Some(&account(2)), far()).await.unwrap();
        assert_eq!(other_wait, Duration::ZERO);
        // 87.5% with pacing from 75%: half of the maximum pause.
        let busy = Usage {
            account_pct: Some(87.5),
            ..Usage::default()
        };
        limiter.record(Some(&acc), &busy);
        drop(first);
        let (_again, paced) = limiter.acquire(Some(&acc), far()).await.unwrap();
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
            .acquire(Some(&acc), Instant::now() + Duration::from_secs(1))
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
        let (_p, waited) = limiter.acquire(Some(&acc), far()).await.unwrap();
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
        let (_p, waited) = limiter.acquire(Some(&acc), far()).await.unwrap();
        assert!(
            waited >= Duration::from_millis(25) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        let waits = limiter.waits();
        assert_eq!((waits.paused_calls, waits.blocks), (1, 1));
    }
}
