//! What an answer or a network failure means: JSON, or a [`FailedAttempt`] saying whether to
//! retry, after how long, or whether a write may have been committed.

use super::{FailedAttempt, Transport};
use crate::graph::error::{ErrorKind, GraphError};
use crate::graph::usage::Usage;
use crate::model::ids::AdAccountId;
use serde_json::Value;

impl Transport {
    /// An answer (HTTP, or a batch entry) as JSON, or what its failure means. A throttling
    /// error blocks `account` (`None`: the app, or unknown) for the wait the API gave.
    pub(crate) fn interpret(
        &self,
        status: u16,
        body: &[u8],
        usage: &Usage,
        account: Option<&AdAccountId>,
        is_write: bool,
    ) -> Result<Value, FailedAttempt> {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        if let Some(error) = json
            .as_ref()
            .and_then(|v| GraphError::from_api_body(status, v, &self.redactor, &self.names))
        {
            return Err(self.failure_of(error, usage, account, is_write));
        }
        match (status, json) {
            (200..=299, Some(value)) => Ok(value),
            (200..=299, None) => {
                let e = GraphError::new(
                    ErrorKind::Protocol,
                    "the API answered with something that is not JSON",
                );
                Err(if is_write {
                    FailedAttempt::Uncertain(e)
                } else {
                    FailedAttempt::Retry {
                        error: e,
                        wait: None,
                    }
                })
            }
            (429, _) => {
                let mut e = GraphError::new(
                    ErrorKind::Throttled,
                    "the API answered HTTP 429 (too many requests)",
                )
                .with_hint(&self.names);
                e.http_status = Some(status);
                // No Graph error says the call was refused: a 429 from something in between
                // (a proxy, a load balancer) does not prove that a write was not committed, so
                // it is checked before being repeated, like a 5xx.
                if is_write {
                    Err(FailedAttempt::Uncertain(e))
                } else {
                    Err(self.failure_of(e, usage, account, is_write))
                }
            }
            (500..=599, _) => {
                let mut e = GraphError::new(
                    ErrorKind::Transient,
                    format!("the API answered HTTP {status} without a Graph error"),
                );
                e.http_status = Some(status);
                Err(self.failure_of(e, usage, account, is_write))
            }
            (_, _) => {
                let mut e = GraphError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the API answered HTTP {status} without a Graph error body; check {} and {}",
                        self.names.api_base, self.names.api_version
                    ),
                );
                e.http_status = Some(status);
                Err(FailedAttempt::Fatal(e))
            }
        }
    }

    pub(super) fn failure_of(
        &self,
        error: GraphError,
        usage: &Usage,
        account: Option<&AdAccountId>,
        is_write: bool,
    ) -> FailedAttempt {
        let server_error = error.http_status.is_some_and(|s| s >= 500);
        match error.kind {
            ErrorKind::Transient if is_write && server_error => FailedAttempt::Uncertain(error),
            ErrorKind::Throttled => {
                // A throttling error is a block: what the headers say to wait (the shorter
                // figure), for every call to that account, not only this one.
                let wait = usage.wait_after(error.code);
                if let Some(wait) = wait {
                    // Code 4 is the app's limit; the others are about the account.
                    self.limiter.block(account, error.code == Some(4), wait);
                }
                FailedAttempt::Retry { error, wait }
            }
            kind if kind.is_retryable() => FailedAttempt::Retry { error, wait: None },
            _ => FailedAttempt::Fatal(error),
        }
    }

    pub(super) fn network_failure(&self, e: &reqwest::Error, is_write: bool) -> FailedAttempt {
        let error = GraphError::new(ErrorKind::Network, self.describe(e));
        if e.is_connect() {
            // A refused connection never reached the server.
            FailedAttempt::Unreachable(error)
        } else if is_write {
            // Anything later may have been committed.
            FailedAttempt::Uncertain(error)
        } else {
            FailedAttempt::Retry { error, wait: None }
        }
    }

    /// A reqwest error as a sentence: what failed, where (the base's origin, never a path or
    /// query) and the root cause; redacted.
    pub(super) fn describe(&self, e: &reqwest::Error) -> String {
        let origin = crate::model::address::for_people(&self.base.origin().ascii_serialization());
        let what = if e.is_timeout() {
            format!("the request to {origin} timed out")
        } else if e.is_connect() {
            format!(
                "cannot connect to {origin} (check {} and the network)",
                self.names.api_base
            )
        } else {
            format!("the connection to {origin} failed")
        };
        let mut root: Option<&dyn std::error::Error> = None;
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            root = Some(cause);
            source = cause.source();
        }
        let text = match root {
            Some(cause) => format!("{what}: {cause}"),
            None => what,
        };
        self.redactor.scrub(&text)
    }
}
