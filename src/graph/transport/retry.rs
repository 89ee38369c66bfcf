//! Repeating a request that may be repeated: exponential backoff with full jitter, bounded by
//! attempts and time, and the loop that uses it.

use super::{FailedAttempt, Request, Transport};
use crate::graph::config::RetryPolicy;
use crate::graph::error::GraphError;
use rand::RngExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl Transport {
    /// Sends a request that may be repeated (a read, an update) until it succeeds, fails for
    /// good, or the policy's attempts or time run out.
    pub(crate) async fn call(&self, request: &Request) -> Result<Value, GraphError> {
        let mut backoff = Backoff::new(&self.policy);
        loop {
            match self.attempt(request, false, backoff.deadline()).await {
                Ok(value) => return Ok(value),
                Err(FailedAttempt::Fatal(e)) => return Err(e.with_attempts(backoff.attempts + 1)),
                Err(failure) => {
                    let (error, next) = match failure {
                        FailedAttempt::Retry { error, wait } => (error, backoff.next(wait)),
                        FailedAttempt::Unreachable(error) => (error, backoff.next_unreachable()),
                        other => (other.into_error(), backoff.next(None)),
                    };
                    match next {
                        Some(delay) => {
                            self.log(|| {
                                format!(
                                    "retry (attempt {}/{}) of {} {} in {} ms after: {error}",
                                    backoff.attempts + 1,
                                    self.policy.max_attempts,
                                    request.method,
                                    request.url.path(),
                                    delay.as_millis()
                                )
                            });
                            let _pause = self.limiter.pauses.begin(
                                None,
                                crate::graph::PauseReason::Retry,
                                delay,
                            );
                            tokio::time::sleep(delay).await;
                        }
                        None => return Err(backoff.exhausted(error)),
                    }
                }
            }
        }
    }
}

/// Exponential backoff with full jitter, bounded by attempts and total time.
pub(crate) struct Backoff {
    /// Shared, not copied: an apply of 50,000 writes holds 50,000 of these.
    policy: Arc<RetryPolicy>,
    started: Instant,
    /// Failed attempts so far.
    pub(crate) attempts: u32,
    /// Of which could not connect.
    unreachable: u32,
}

impl Backoff {
    pub(crate) fn new(policy: &Arc<RetryPolicy>) -> Self {
        Backoff {
            policy: Arc::clone(policy),
            started: Instant::now(),
            attempts: 0,
            unreachable: 0,
        }
    }

    /// Starts the time budget again from now (a write admitted after waiting for room in its
    /// account's score: that wait was pacing, not retrying).
    pub(crate) fn restart(&mut self) {
        self.started = Instant::now();
    }

    /// Counts a failed attempt; the wait before the next one, or `None` when the budget is
    /// spent (or the API asks to wait beyond it). `server_wait`: what the API asked.
    pub(crate) fn next(&mut self, server_wait: Option<Duration>) -> Option<Duration> {
        self.attempts += 1;
        if self.attempts >= self.policy.max_attempts.max(1) {
            return None;
        }
        let exponent = (self.attempts - 1).min(30);
        let cap = self
            .policy
            .base_delay
            .saturating_mul(1u32 << exponent.min(20))
            .min(self.policy.max_delay);
        let jitter = if cap.is_zero() {
            Duration::ZERO
        } else {
            cap.mul_f64(rand::rng().random_range(0.0..=1.0))
        };
        let delay = jitter.max(server_wait.unwrap_or_default());
        if Instant::now() + delay >= self.deadline() {
            return None;
        }
        Some(delay)
    }

    /// Like [`next`](Self::next) after a connection could not be made, which is given up
    /// after `max_connect_attempts`.
    pub(crate) fn next_unreachable(&mut self) -> Option<Duration> {
        self.unreachable += 1;
        if self.unreachable >= self.policy.max_connect_attempts.max(1) {
            self.attempts += 1;
            return None;
        }
        self.next(None)
    }

    /// When this request's time budget ends: its own, or the command's if that ends first.
    pub(crate) fn deadline(&self) -> Instant {
        let own = self.started + self.policy.max_total;
        self.policy.budget.deadline().map_or(own, |d| d.min(own))
    }

    /// The error to report when giving up.
    pub(crate) fn exhausted(&self, error: GraphError) -> GraphError {
        error.with_attempts(self.attempts)
    }
}
