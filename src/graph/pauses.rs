//! What the client is waiting for right now: each pause (a rate-limit block or pacing before
//! a call, a back-off before a retry) is registered while it lasts, with its account and when
//! it ends, so that a caller can show waits as they happen ("act_1: rate limit, 41 s") instead
//! of a silent stall. The limiter's [`Waits`](super::Waits) keep the totals; this keeps the
//! present.

use crate::model::ids::AdAccountId;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Why a call waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseReason {
    /// The API's usage is at its limit (a block), or calls are spaced out before it is.
    RateLimit,
    /// A failed call is tried again after a back-off.
    Retry,
}

impl PauseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::RateLimit => "rate limit",
            PauseReason::Retry => "retry",
        }
    }
}

/// A pause under way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pause {
    pub account: Option<AdAccountId>,
    pub reason: PauseReason,
    /// How long it still lasts.
    pub left: Duration,
}

/// One registered pause: its number, account, reason and end.
type Entry = (u64, Option<AdAccountId>, PauseReason, Instant);

/// The pauses under way (shared by the client's clones).
#[derive(Default)]
pub(crate) struct Pauses {
    next: AtomicU64,
    now: Mutex<Vec<Entry>>,
}

/// Ends its pause when dropped (the wait is over, or the waiting future was dropped).
pub(crate) struct PauseGuard<'a> {
    pauses: &'a Pauses,
    id: u64,
}

impl Pauses {
    /// Registers a pause of `wait` from now, until the guard is dropped.
    pub(crate) fn begin(
        &self,
        account: Option<&AdAccountId>,
        reason: PauseReason,
        wait: Duration,
    ) -> PauseGuard<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let until = Instant::now() + wait;
        self.now.lock().unwrap_or_else(|e| e.into_inner()).push((
            id,
            account.cloned(),
            reason,
            until,
        ));
        PauseGuard { pauses: self, id }
    }

    /// The pauses under way, longest first.
    pub(crate) fn current(&self) -> Vec<Pause> {
        let now = Instant::now();
        let mut pauses: Vec<Pause> = self
            .now
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, account, reason, until)| Pause {
                account: account.clone(),
                reason: *reason,
                left: until.saturating_duration_since(now),
            })
            .collect();
        pauses.sort_by_key(|p| std::cmp::Reverse(p.left));
        pauses
    }
}

impl Drop for PauseGuard<'_> {
    fn drop(&mut self) {
        self.pauses
            .now
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, ..)| *id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_listed_while_it_lasts() {
        let pauses = Pauses::default();
        let account = AdAccountId::parse("act_1").unwrap();
        {
            let _guard = pauses.begin(
                Some(&account),
                PauseReason::RateLimit,
                Duration::from_secs(40),
            );
            tokio::time::advance(Duration::from_secs(10)).await;
            assert_eq!(
                pauses.current(),
                [Pause {
                    account: Some(account),
                    reason: PauseReason::RateLimit,
                    left: Duration::from_secs(30)
                }]
            );
        }
        assert!(pauses.current().is_empty());
    }
}
