//! One exchange on the wire: sent once admitted, read whole (bounded in size), ended by its
//! deadline, logged and traced.

use super::{Admission, FailedAttempt, Request, Transport};
use crate::graph::config::describe_duration;
use crate::graph::error::{ErrorKind, GraphError, Redactor};
use crate::graph::limiter::Permit;
use crate::graph::trace::{Exchange, Trace};
use crate::graph::usage::Usage;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

impl Transport {
    /// Sends an admitted request (see [`admit`](Self::admit)); the slot is given back once its
    /// answer has been read. The whole exchange (connecting, sending, headers and the whole
    /// body) ends by `request_timeout` or the admission's deadline, whichever comes first; a
    /// request whose deadline has already passed is not sent at all.
    pub(crate) async fn send(
        &self,
        admission: Admission,
        request: &Request,
        is_write: bool,
    ) -> Result<Value, FailedAttempt> {
        let Admission {
            permit,
            waited,
            deadline,
        } = admission;
        let now = Instant::now();
        let own_limit = now + self.policy.request_timeout;
        let exchange_deadline = own_limit.min(deadline);
        // What ends the wait, when it is not the exchange's own limit.
        let budget = match self.policy.budget.deadline() {
            Some(end) if end <= exchange_deadline => Budget::Command,
            _ => Budget::Request,
        };
        if exchange_deadline <= now {
            drop(permit);
            return Err(FailedAttempt::Fatal(
                self.out_of_time(request, budget, false),
            ));
        }
        if self.policy.halt.is_pulled() {
            drop(permit);
            return Err(self.halted(request.account.as_ref()));
        }
        let _waiting = self.policy.budget.waiting_for(self.call_name(request));
        let answer = tokio::select! {
            answer = tokio::time::timeout_at(
                exchange_deadline,
                self.exchange(permit, waited, request, is_write),
            ) => answer,
            () = self.policy.halt.grace_over() => {
                let e = GraphError::new(
                    ErrorKind::Network,
                    format!(
                        "the command was stopped while waiting for the answer to {} {}, and none came in time",
                        request.method,
                        request.url.path()
                    ),
                )
                .with_account(request.account.as_ref());
                self.log(|| e.to_string());
                // A write may have been committed: never reported as not done.
                return Err(if is_write {
                    FailedAttempt::Uncertain(e)
                } else {
                    FailedAttempt::Fatal(e)
                });
            }
        };
        match answer {
            Ok(answer) => answer,
            Err(_) => {
                let e = if exchange_deadline < own_limit {
                    self.out_of_time(request, budget, true)
                } else {
                    GraphError::new(
                        ErrorKind::Network,
                        format!(
                            "no complete answer to {} {} within {} (the whole exchange, not per read)",
                            request.method,
                            request.url.path(),
                            describe_duration(self.policy.request_timeout)
                        ),
                    )
                    .with_account(request.account.as_ref())
                };
                self.log(|| e.to_string());
                // A write may have been committed; a read may be tried again (in the budget).
                Err(if is_write {
                    FailedAttempt::Uncertain(e)
                } else {
                    FailedAttempt::Retry {
                        error: e,
                        wait: None,
                    }
                })
            }
        }
    }

    /// `GET /v26.0/act_1/customconversions (act_1)`: which call, for people (no query).
    fn call_name(&self, request: &Request) -> String {
        let whom = match (&request.account, request.many_accounts) {
            (Some(account), _) => format!(" ({account})"),
            (None, true) => format!(" ({})", request.note),
            (None, false) => String::new(),
        };
        format!("{} {}{whom}", request.method, request.url.path())
    }

    /// The request's time ran out (`sent`: while waiting for its answer; otherwise it was never
    /// sent), and which budget it was.
    fn out_of_time(&self, request: &Request, budget: Budget, sent: bool) -> GraphError {
        let call = format!("{} {}", request.method, request.url.path());
        let what = match sent {
            true => format!("while waiting for the answer to {call}"),
            false => format!("before {call} could be sent; it was not sent"),
        };
        let message = match budget {
            Budget::Command => format!(
                "the command's time budget ({}) ran out {what}",
                self.policy.budget.describe()
            ),
            Budget::Request => format!(
                "the request's time budget ({}, retries included) ran out {what}",
                describe_duration(self.policy.max_total)
            ),
        };
        GraphError::new(ErrorKind::Network, message).with_account(request.account.as_ref())
    }

    /// The exchange itself: send, read usage headers and the whole body, interpret.
    async fn exchange(
        &self,
        mut permit: Permit,
        waited: Duration,
        request: &Request,
        is_write: bool,
    ) -> Result<Value, FailedAttempt> {
        if waited >= Duration::from_millis(1) {
            self.log(|| {
                format!(
                    "waited {} ms before {} {} (usage/throttle pacing)",
                    waited.as_millis(),
                    request.method,
                    request.url.path()
                )
            });
        }
        let (builder, recorder) = self.signed(request);
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                recorder.record(None, Some(self.describe(&e)));
                drop(permit);
                self.log(|| format!("{}: {}", logged_call(request), self.describe(&e)));
                return Err(self.network_failure(&e, is_write));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let usage = Usage::from_lookup(|name| headers.get(name).and_then(|v| v.to_str().ok()));
        if request.many_accounts {
            self.limiter.record_app(&usage);
        } else {
            self.limiter.record(request.account.as_ref(), &usage);
            permit.answered(&usage);
        }
        let bytes = read_body(response).await;
        let read_error = match &bytes {
            Ok(_) => None,
            Err(BodyError::Network(e)) => Some(self.describe(e)),
            Err(BodyError::TooLarge) => Some("the answer was too large to read".into()),
        };
        let body = bytes.as_deref().unwrap_or(&[]);
        recorder.record(Some((status, &headers, body)), read_error);
        drop(permit);
        self.log_answer(request, status, recorder.started, &usage);
        let bytes = self.body_or_failure(bytes, is_write)?;
        self.interpret(status, &bytes, &usage, request.account.as_ref(), is_write)
    }

    /// `--verbose`: one line per answer, with its status, time, account and usage.
    fn log_answer(&self, request: &Request, status: u16, started: Instant, usage: &Usage) {
        let elapsed = started.elapsed().as_millis();
        self.log(|| {
            let account = request
                .account
                .as_ref()
                .map(|a| format!(" [{a}]"))
                .unwrap_or_default();
            let usage = usage.summary();
            let usage = if usage.is_empty() {
                usage
            } else {
                format!(" {usage}")
            };
            format!(
                "{} → {status} in {elapsed} ms{account}{usage}",
                logged_call(request)
            )
        });
    }

    /// The body read, or what failing to read it means: for a write the outcome is unknown
    /// (it may have been applied), for a read the answer is lost.
    fn body_or_failure(
        &self,
        bytes: Result<Vec<u8>, BodyError>,
        is_write: bool,
    ) -> Result<Vec<u8>, FailedAttempt> {
        match bytes {
            Ok(b) => Ok(b),
            Err(BodyError::Network(e)) => Err(self.network_failure(&e, is_write)),
            Err(BodyError::TooLarge) => {
                let e = GraphError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the API's answer is larger than {} MiB; not read",
                        MAX_BODY >> 20
                    ),
                );
                Err(if is_write {
                    FailedAttempt::Uncertain(e)
                } else {
                    FailedAttempt::Fatal(e)
                })
            }
        }
    }
}

/// Which time budget ended a wait.
#[derive(Clone, Copy)]
enum Budget {
    /// The whole command's ([`CommandBudget`](super::config::CommandBudget)).
    Command,
    /// The logical request's (`max_total`, retries included).
    Request,
}

/// The largest answer read (a page of 100 conversions is a few hundred KiB): a hostile or
/// broken server cannot make the client hold gigabytes.
const MAX_BODY: usize = 32 << 20;

/// Writes one exchange to the trace (`--trace FILE`), secrets redacted; does nothing when no
/// trace is on.
pub(super) struct Recorder<'r> {
    /// The trace, the URL as sent (with `appsecret_proof`, redacted when written) and the
    /// redactor.
    pub(super) trace: Option<(&'r Trace, String, &'r Redactor)>,
    pub(super) method: &'r str,
    /// The form body as sent, kept only when tracing.
    pub(super) body: Option<String>,
    pub(super) started: Instant,
}

impl Recorder<'_> {
    pub(super) fn record(
        &self,
        response: Option<(u16, &reqwest::header::HeaderMap, &[u8])>,
        error: Option<String>,
    ) {
        let Some((trace, url, redactor)) = &self.trace else {
            return;
        };
        let exchange = Exchange {
            method: self.method,
            url,
            request_body: self
                .body
                .as_deref()
                .map(|b| ("application/x-www-form-urlencoded", b)),
            response: response.map(|(status, headers, body)| {
                let kept = headers
                    .iter()
                    .filter(|(k, _)| Trace::keeps(k.as_str()))
                    .filter_map(|(k, v)| {
                        Some((k.as_str().to_string(), v.to_str().ok()?.to_string()))
                    })
                    .collect();
                (status, kept, body)
            }),
            error,
            duration: self.started.elapsed(),
        };
        trace.record(&exchange, redactor);
    }
}

enum BodyError {
    Network(reqwest::Error),
    TooLarge,
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Network)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `GET /v27.0/act_1/customconversions (page 1)`: a call as `--verbose` names it, its note in
/// brackets when it has one.
fn logged_call(request: &Request) -> String {
    let (method, path) = (&request.method, request.url.path());
    if request.note.is_empty() {
        format!("{method} {path}")
    } else {
        format!("{method} {path} ({})", request.note)
    }
}
