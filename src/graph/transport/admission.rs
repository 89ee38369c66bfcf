//! Waiting for the limiter's slot before a request goes, within the request's deadline.

use super::{FailedAttempt, Transport};
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::limiter::Permit;
use crate::model::ids::AdAccountId;
use std::time::Duration;
use tokio::time::Instant;

/// A slot the limiter granted, held until the request's answer has been read.
pub(crate) struct Admission {
    pub(super) permit: Permit,
    pub(super) waited: Duration,
    /// The end of the request's time budget (its own and the command's): the exchange is over
    /// by then, answered or not.
    pub(super) deadline: Instant,
}

impl Transport {
    /// Waits until a request of `points` about `account` may go (see `limiter`). A caller that builds a
    /// large body (a batch) builds it only once admitted, so that a thousand waiting batches
    /// do not sit in memory at once; then [`send`](Self::send).
    pub(crate) async fn admit(
        &self,
        account: Option<&AdAccountId>,
        points: u32,
        deadline: Instant,
    ) -> Result<Admission, FailedAttempt> {
        let halt = &self.policy.halt;
        tokio::select! {
            biased;
            () = halt.pulled() => Err(self.halted(account)),
            granted = self.limiter.acquire(account, points, deadline) => {
                self.admission(granted, account, deadline)
            }
        }
    }

    /// [`admit`](Self::admit) for a request about many accounts (see [`Request`]).
    pub(crate) async fn admit_many(&self, deadline: Instant) -> Result<Admission, FailedAttempt> {
        let halt = &self.policy.halt;
        tokio::select! {
            biased;
            () = halt.pulled() => Err(self.halted(None)),
            granted = self.limiter.acquire_for_many(deadline) => {
                self.admission(granted, None, deadline)
            }
        }
    }

    pub(super) fn admission(
        &self,
        granted: Result<(Permit, Duration), Duration>,
        account: Option<&AdAccountId>,
        deadline: Instant,
    ) -> Result<Admission, FailedAttempt> {
        match granted {
            Ok((permit, waited)) => Ok(Admission {
                permit,
                waited,
                deadline,
            }),
            Err(left) => {
                let whom = account.map_or_else(|| "the app".to_string(), |a| a.to_string());
                let mut e = GraphError::new(
                    ErrorKind::Throttled,
                    format!(
                        "the API asked to stop calling {whom} for another {} s, beyond the retry budget; not sent",
                        left.as_secs_f64().ceil()
                    ),
                )
                .with_hint(&self.names);
                e.http_status = None;
                Err(FailedAttempt::Fatal(e))
            }
        }
    }
}
