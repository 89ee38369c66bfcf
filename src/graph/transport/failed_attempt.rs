//! What one attempt's failure means for the next step: the retry loop and the writers branch
//! on it, and only writes can be uncertain.

use crate::graph::error::GraphError;
use std::time::Duration;

/// What one attempt's failure means for the next step.
#[derive(Clone, Debug)]
pub(crate) enum FailedAttempt {
    /// Nothing was done (or the request is idempotent): try again after the backoff, or after
    /// `wait` when the API said how long.
    Retry {
        error: GraphError,
        wait: Option<Duration>,
    },
    /// Final: trying again cannot help.
    Fatal(GraphError),
    /// A write may have been committed (HTTP 5xx, lost connection, timeout, empty batch entry).
    Uncertain(GraphError),
    /// No connection could be made (refused, unknown host): nothing was sent. Retried, but
    /// only `max_connect_attempts` times: a wrong `--api-base` should fail fast.
    Unreachable(GraphError),
}

impl FailedAttempt {
    /// How long the API asked to wait before trying again, when it said.
    pub(crate) fn wait(&self) -> Option<Duration> {
        match self {
            FailedAttempt::Retry { wait, .. } => *wait,
            _ => None,
        }
    }

    pub(crate) fn into_error(self) -> GraphError {
        match self {
            FailedAttempt::Retry { error, .. }
            | FailedAttempt::Fatal(error)
            | FailedAttempt::Uncertain(error)
            | FailedAttempt::Unreachable(error) => error,
        }
    }
}
