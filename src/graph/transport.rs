//! One HTTP exchange with the Graph API, and the retry loop for requests that may be repeated.
//!
//! Owns authentication (the token only ever in the `Authorization: Bearer` header; the
//! `appsecret_proof` as a parameter), reading usage headers into the limiter, turning an answer
//! into JSON or a classified [`Failure`], backoff with full jitter bounded by attempts and total
//! time, and verbose logging (method, path without query, status, usage, retries; every line
//! redacted). It never repeats a write on its own when the write may have been committed: that
//! answer is a [`Failure::Uncertain`] the caller must resolve.

use super::config::{GraphConfig, RetryPolicy, SettingNames};
use super::error::{ErrorKind, GraphError, Redactor};
use super::limiter::{Limiter, Permit};
use super::trace::{Exchange, Trace};
use super::usage::Usage;
use crate::model::Secret;
use crate::model::ids::AdAccountId;
use hmac::{KeyInit, Mac};
use rand::RngExt;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Where verbose lines go (stderr by default; tests capture them).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// A request before authentication is added.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    /// Full URL without any secret (the transport adds `appsecret_proof`).
    pub(crate) url: Url,
    /// Form fields of a POST.
    pub(crate) form: Option<Vec<(String, String)>>,
    /// The account it concerns (for the per-account limit and usage); `None` when unknown.
    pub(crate) account: Option<AdAccountId>,
    /// Free words for verbose output (`page 2`, `batch of 50`); never a secret.
    pub(crate) note: String,
    /// It concerns many accounts (a batch of their listings; `account` is then `None`): only
    /// the global limit and the app's usage apply to it.
    pub(crate) many_accounts: bool,
}

/// What one attempt's failure means for the next step.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
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

impl Failure {
    pub(crate) fn into_error(self) -> GraphError {
        match self {
            Failure::Retry { error, .. }
            | Failure::Fatal(error)
            | Failure::Uncertain(error)
            | Failure::Unreachable(error) => error,
        }
    }
}

/// A slot the limiter granted, held until the request's answer has been read.
pub(crate) struct Admission {
    permit: Permit,
    waited: Duration,
    /// The end of the request's time budget (its own and the command's): the exchange is over
    /// by then, answered or not.
    deadline: Instant,
}

pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) base: Url,
    pub(crate) version: String,
    token: Secret,
    proof: Option<Secret>,
    /// Accounts' own tokens (and their proofs), chosen per request by its account.
    account_tokens: HashMap<AdAccountId, (Secret, Option<Secret>)>,
    pub(crate) policy: Arc<RetryPolicy>,
    pub(crate) limiter: Limiter,
    pub(crate) redactor: Redactor,
    /// What the caller calls its settings, for messages that ask to change one.
    pub(crate) names: SettingNames,
    log: Option<LogSink>,
    /// `--trace FILE`: every exchange as a JSON line (see `trace`).
    trace: OnceLock<Trace>,
}

impl Transport {
    pub(crate) fn new(config: &GraphConfig, log: Option<LogSink>) -> Result<Transport, GraphError> {
        let base = config.base_url()?;
        let version = config.checked_version()?.to_string();
        check_token(&config.token, None, &config.names)?;
        let proof = config
            .app_secret
            .as_ref()
            .map(|secret| appsecret_proof(&config.token, secret));
        let mut account_tokens = HashMap::new();
        for (account, token) in &config.account_tokens {
            check_token(token, Some(account), &config.names)?;
            let proof = config
                .app_secret
                .as_ref()
                .map(|secret| appsecret_proof(token, secret));
            account_tokens.insert(account.clone(), (token.clone(), proof));
        }
        let http = reqwest::Client::builder()
            // A backstop only: `send` ends each exchange by its own deadline first, and says so.
            .timeout(config.retry.request_timeout + Duration::from_secs(5))
            .connect_timeout(config.retry.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("convctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                GraphError::config(format!(
                    "cannot set up the HTTP client: {}",
                    e.without_url()
                ))
            })?;
        let mut secrets = vec![config.token.clone()];
        secrets.extend(config.app_secret.iter().cloned());
        secrets.extend(proof.iter().cloned());
        for (token, proof) in account_tokens.values() {
            secrets.push(token.clone());
            secrets.extend(proof.iter().cloned());
        }
        Ok(Transport {
            http,
            base,
            version,
            token: config.token.clone(),
            proof,
            account_tokens,
            policy: Arc::new(config.retry.clone()),
            limiter: Limiter::new(
                config.parallelism,
                config.per_account_parallelism,
                config.retry.clone(),
            ),
            redactor: Redactor::new(secrets),
            names: config.names,
            log: log.or_else(|| {
                config
                    .verbose
                    .then(|| Arc::new(|line: &str| eprintln!("{line}")) as LogSink)
            }),
            trace: OnceLock::new(),
        })
    }

    /// Records every exchange in `trace` from now on (the first trace set stays).
    pub(crate) fn set_trace(&self, trace: Trace) {
        let _ = self.trace.set(trace);
    }

    /// Whether `account` has a token of its own (then it is never batched with others).
    pub(crate) fn has_own_token(&self, account: &AdAccountId) -> bool {
        self.account_tokens.contains_key(account)
    }

    /// The token (and proof) of a request: its account's own, or the global one.
    fn credentials(&self, account: Option<&AdAccountId>) -> (&Secret, Option<&Secret>) {
        match account.and_then(|a| self.account_tokens.get(a)) {
            Some((token, proof)) => (token, proof.as_ref()),
            None => (&self.token, self.proof.as_ref()),
        }
    }

    /// `{base}{version}/{path}`.
    pub(crate) fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!(
            "{}{}/{}",
            self.base.path(),
            self.version,
            path.trim_start_matches('/')
        );
        url.set_path(&joined);
        url
    }

    /// Same scheme, host and port as the configured base: the only place the token may go.
    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
    }

    pub(crate) fn log(&self, line: impl FnOnce() -> String) {
        if let Some(sink) = &self.log {
            sink(&self.redactor.scrub(&format!("graph: {}", line())));
        }
    }

    /// One exchange: waits for the limiter, sends with authentication, reads usage headers,
    /// and returns the JSON answer or what the failure means (`is_write`: may commit).
    pub(crate) async fn attempt(
        &self,
        request: &Request,
        is_write: bool,
        deadline: Instant,
    ) -> Result<Value, Failure> {
        let admission = if request.many_accounts {
            self.admit_many(deadline).await?
        } else {
            self.admit(request.account.as_ref(), deadline).await?
        };
        self.send(admission, request, is_write).await
    }

    /// Waits until a request about `account` may go (see `limiter`). A caller that builds a
    /// large body (a batch) builds it only once admitted, so that a thousand waiting batches
    /// do not sit in memory at once; then [`send`](Self::send).
    pub(crate) async fn admit(
        &self,
        account: Option<&AdAccountId>,
        deadline: Instant,
    ) -> Result<Admission, Failure> {
        let granted = self.limiter.acquire(account, deadline).await;
        self.admission(granted, account, deadline)
    }

    /// [`admit`](Self::admit) for a request about many accounts (see [`Request`]).
    pub(crate) async fn admit_many(&self, deadline: Instant) -> Result<Admission, Failure> {
        let granted = self.limiter.acquire_for_many(deadline).await;
        self.admission(granted, None, deadline)
    }

    fn admission(
        &self,
        granted: Result<(Permit, Duration), Duration>,
        account: Option<&AdAccountId>,
        deadline: Instant,
    ) -> Result<Admission, Failure> {
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
                Err(Failure::Fatal(e))
            }
        }
    }

    /// Sends an admitted request (see [`admit`](Self::admit)); the slot is given back once its
    /// answer has been read. The whole exchange (connecting, sending, headers and the whole
    /// body) ends by `request_timeout` or the admission's deadline, whichever comes first; a
    /// request whose deadline has already passed is not sent at all.
    pub(crate) async fn send(
        &self,
        admission: Admission,
        request: &Request,
        is_write: bool,
    ) -> Result<Value, Failure> {
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
            return Err(Failure::Fatal(self.out_of_time(request, budget, false)));
        }
        let _waiting = self.policy.budget.waiting_for(self.call_name(request));
        match tokio::time::timeout_at(
            exchange_deadline,
            self.exchange(permit, waited, request, is_write),
        )
        .await
        {
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
                            super::config::describe_duration(self.policy.request_timeout)
                        ),
                    )
                    .with_account(request.account.as_ref())
                };
                self.log(|| e.to_string());
                // A write may have been committed; a read may be tried again (in the budget).
                Err(if is_write {
                    Failure::Uncertain(e)
                } else {
                    Failure::Retry {
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
                super::config::describe_duration(self.policy.max_total)
            ),
        };
        GraphError::new(ErrorKind::Network, message).with_account(request.account.as_ref())
    }

    /// The exchange itself: send, read usage headers and the whole body, interpret.
    async fn exchange(
        &self,
        permit: Permit,
        waited: Duration,
        request: &Request,
        is_write: bool,
    ) -> Result<Value, Failure> {
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
                self.log(|| {
                    format!(
                        "{} {} {}: {}",
                        request.method,
                        request.url.path(),
                        request.note,
                        self.describe(&e)
                    )
                });
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

    /// The HTTP request for `request`, signed: the token in the `Authorization` header, the
    /// `appsecret_proof` in the form (or the query of a GET), the form encoded; and the
    /// recorder that writes the exchange to the trace, if one is on.
    fn signed<'r>(&'r self, request: &'r Request) -> (reqwest::RequestBuilder, Recorder<'r>) {
        let mut url = request.url.clone();
        let mut form = request.form.clone();
        let (token, proof) = self.credentials(request.account.as_ref());
        if let Some(proof) = proof {
            match &mut form {
                Some(fields) => fields.push(("appsecret_proof".into(), proof.expose().to_string())),
                None => {
                    url.query_pairs_mut()
                        .append_pair("appsecret_proof", proof.expose());
                }
            }
        }
        let trace = self
            .trace
            .get()
            .map(|t| (t, url.to_string(), &self.redactor));
        let body = form.as_ref().map(|fields| {
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish()
        });
        let mut builder = self.http.request(request.method.clone(), url).header(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", token.expose()),
        );
        // A copy of the body only for the trace: write batches are large.
        let traced_body = body.as_ref().filter(|_| trace.is_some()).cloned();
        if let Some(body) = body {
            builder = builder
                .header(
                    reqwest::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(body);
        }
        let recorder = Recorder {
            body: traced_body,
            trace,
            method: request.method.as_str(),
            started: Instant::now(),
        };
        (builder, recorder)
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
            format!(
                "{} {} {}→ {status} in {elapsed} ms{account} {}",
                request.method,
                request.url.path(),
                note(&request.note),
                usage.summary()
            )
        });
    }

    /// The body read, or what failing to read it means: for a write the outcome is unknown
    /// (it may have been applied), for a read the answer is lost.
    fn body_or_failure(
        &self,
        bytes: Result<Vec<u8>, BodyError>,
        is_write: bool,
    ) -> Result<Vec<u8>, Failure> {
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
                    Failure::Uncertain(e)
                } else {
                    Failure::Fatal(e)
                })
            }
        }
    }

    /// An answer (HTTP, or a batch entry) as JSON, or what its failure means. A throttling
    /// error blocks `account` (`None`: the app, or unknown) for the wait the API gave.
    pub(crate) fn interpret(
        &self,
        status: u16,
        body: &[u8],
        usage: &Usage,
        account: Option<&AdAccountId>,
        is_write: bool,
    ) -> Result<Value, Failure> {
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
                    Failure::Uncertain(e)
                } else {
                    Failure::Retry {
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
                    Err(Failure::Uncertain(e))
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
                Err(Failure::Fatal(e))
            }
        }
    }

    fn failure_of(
        &self,
        error: GraphError,
        usage: &Usage,
        account: Option<&AdAccountId>,
        is_write: bool,
    ) -> Failure {
        let server_error = error.http_status.is_some_and(|s| s >= 500);
        match error.kind {
            ErrorKind::Transient if is_write && server_error => Failure::Uncertain(error),
            ErrorKind::Throttled => {
                // A throttling error is a block: what the headers say to wait (the shorter
                // figure), for every call to that account, not only this one.
                let wait = usage.wait();
                if let Some(wait) = wait {
                    // Code 4 is the app's limit; the others are about the account.
                    self.limiter.block(account, error.code == Some(4), wait);
                }
                Failure::Retry { error, wait }
            }
            kind if kind.is_retryable() => Failure::Retry { error, wait: None },
            _ => Failure::Fatal(error),
        }
    }

    fn network_failure(&self, e: &reqwest::Error, is_write: bool) -> Failure {
        let error = GraphError::new(ErrorKind::Network, self.describe(e));
        if e.is_connect() {
            // A refused connection never reached the server.
            Failure::Unreachable(error)
        } else if is_write {
            // Anything later may have been committed.
            Failure::Uncertain(error)
        } else {
            Failure::Retry { error, wait: None }
        }
    }

    /// A reqwest error as a sentence: what failed, where (the base's origin, never a path or
    /// query) and the root cause; redacted.
    fn describe(&self, e: &reqwest::Error) -> String {
        let origin = self.base.origin().ascii_serialization();
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

    /// Sends a request that may be repeated (a read, an update) until it succeeds, fails for
    /// good, or the policy's attempts or time run out.
    pub(crate) async fn call(&self, request: &Request) -> Result<Value, GraphError> {
        let mut backoff = Backoff::new(&self.policy);
        loop {
            match self.attempt(request, false, backoff.deadline()).await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(e.with_attempts(backoff.attempts + 1)),
                Err(failure) => {
                    let (error, next) = match failure {
                        Failure::Retry { error, wait } => (error, backoff.next(wait)),
                        Failure::Unreachable(error) => (error, backoff.next_unreachable()),
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
                            tokio::time::sleep(delay).await;
                        }
                        None => return Err(backoff.exhausted(error)),
                    }
                }
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
struct Recorder<'r> {
    /// The trace, the URL as sent (with `appsecret_proof`, redacted when written) and the
    /// redactor.
    trace: Option<(&'r Trace, String, &'r Redactor)>,
    method: &'r str,
    /// The form body as sent, kept only when tracing.
    body: Option<String>,
    started: Instant,
}

impl Recorder<'_> {
    fn record(
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

fn note(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("({text}) ")
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

/// A token must be non-empty and free of spaces and control characters (a pasted line
/// break); `account` names whose token it is. The global token's hint names where it comes
/// from as the caller does; an account's own token comes from wherever the caller read it.
fn check_token(
    token: &Secret,
    account: Option<&AdAccountId>,
    names: &SettingNames,
) -> Result<(), GraphError> {
    let (whose, source) = match account {
        None => (
            "the access token".to_string(),
            names.access_token.to_string(),
        ),
        Some(a) => (
            format!("the access token of {a}"),
            "where it is read from".to_string(),
        ),
    };
    if token.is_empty() {
        return Err(GraphError::config(format!("{whose} is empty")));
    }
    if token.expose().chars().any(|c| c.is_control() || c == ' ') {
        return Err(GraphError::config(format!(
            "{whose} contains spaces or control characters (a pasted line break?); check {source}"
        )));
    }
    Ok(())
}

/// `appsecret_proof`: lowercase hex HMAC-SHA256 of the token keyed by the app secret.
pub(crate) fn appsecret_proof(token: &Secret, app_secret: &Secret) -> Secret {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(token.expose().as_bytes());
    Secret::new(hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_matches_a_known_vector() {
        // RFC 4231-style check computed independently: HMAC-SHA256(key="key", "The quick brown fox jumps over the lazy dog").
        let proof = appsecret_proof(
            &Secret::new("The quick brown fox jumps over the lazy dog"),
            &Secret::new("key"),
        );
        assert_eq!(
            proof.expose(),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn backoff_is_bounded_by_attempts_and_time() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(25),
            ..RetryPolicy::fast()
        };
        let mut b = Backoff::new(&Arc::new(policy.clone()));
        let waits: Vec<_> = std::iter::from_fn(|| b.next(None)).collect();
        assert_eq!(waits.len(), 3);
        assert!(waits.iter().all(|w| *w <= Duration::from_millis(25)));
        let mut b = Backoff::new(&Arc::new(policy.clone()));
        assert_eq!(
            b.next(Some(Duration::from_millis(300))),
            Some(Duration::from_millis(300)),
            "the API's wait wins"
        );
        let tight = RetryPolicy {
            max_total: Duration::from_millis(100),
            ..policy
        };
        let mut b = Backoff::new(&Arc::new(tight));
        assert_eq!(
            b.next(Some(Duration::from_secs(60))),
            None,
            "a wait beyond the budget gives up at once"
        );
    }

    #[test]
    fn urls_and_origins() {
        let mut config = GraphConfig::new("http://127.0.0.1:8080", Secret::new("tok"));
        config.api_version = "v26.0".into();
        let t = Transport::new(&config, None).unwrap();
        assert_eq!(
            t.url("act_1/customconversions").as_str(),
            "http://127.0.0.1:8080/v26.0/act_1/customconversions"
        );
        assert_eq!(t.url("").as_str(), "http://127.0.0.1:8080/v26.0/");
        assert!(t.same_origin(&Url::parse("http://127.0.0.1:8080/v26.0/x?after=1").unwrap()));
        assert!(!t.same_origin(&Url::parse("http://127.0.0.1:8081/v26.0/x").unwrap()));
        assert!(!t.same_origin(&Url::parse("https://127.0.0.1:8080/v26.0/x").unwrap()));
        assert!(!t.same_origin(&Url::parse("http://evil.example:8080/v26.0/x").unwrap()));
    }

    /// A pasted line break in a token is refused before any call; the hint says where the
    /// global token comes from (as the caller names it), never the token itself.
    #[test]
    fn tokens_with_spaces_are_refused_with_their_source() {
        let bad = Secret::new("abc\ndef");
        let account = AdAccountId::parse("act_1").unwrap();
        let (flags, neutral) = (crate::graph::FLAG_NAMES, SettingNames::default());
        let said = |account, names| check_token(&bad, account, names).unwrap_err().to_string();
        assert_eq!(
            said(None, &flags),
            "the access token contains spaces or control characters (a pasted line break?); check --access-token-file or META_ACCESS_TOKEN"
        );
        assert_eq!(
            said(None, &neutral),
            "the access token contains spaces or control characters (a pasted line break?); check the token given to the client"
        );
        assert_eq!(
            said(Some(&account), &flags),
            "the access token of act_1 contains spaces or control characters (a pasted line break?); check where it is read from"
        );
        assert_eq!(
            check_token(&Secret::new(""), None, &flags)
                .unwrap_err()
                .to_string(),
            "the access token is empty"
        );
    }

    /// Every message of the transport that names a setting, as a person reads it: a non-Graph
    /// answer, a 429, a wait beyond the budget, a refused connection.
    async fn messages(names: SettingNames) -> Vec<String> {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let mut config = GraphConfig::new(&base, Secret::new("tok"));
        config.retry = RetryPolicy::fast();
        config.names = names;
        let t = Transport::new(&config, None).unwrap();
        let usage = Usage::default();
        let error = |failure: Failure| failure.into_error().to_string();
        let request = Request {
            method: Method::GET,
            url: t.url("act_1/customconversions"),
            form: None,
            account: None,
            note: String::new(),
            many_accounts: false,
        };
        let unreachable = t.call(&request).await.unwrap_err().to_string();
        vec![
            error(
                t.interpret(404, b"<html>", &usage, None, false)
                    .unwrap_err(),
            ),
            error(t.interpret(429, b"", &usage, None, false).unwrap_err()),
            error(
                t.admission(Err(Duration::from_secs(30)), None, Instant::now())
                    .err()
                    .unwrap(),
            ),
            unreachable.replace(&base, "http://{base}"),
        ]
    }

    #[tokio::test]
    async fn messages_name_the_settings_as_the_caller_does() {
        let neutral = messages(SettingNames::default()).await;
        assert_eq!(
            neutral[..3],
            [
                "the API answered HTTP 404 without a Graph error body; check the API base address and API version [HTTP 404]",
                "the API answered HTTP 429 (too many requests) [HTTP 429] (hint: the API asks to slow down: try again later or lower the parallelism)",
                "the API asked to stop calling the app for another 30 s, beyond the retry budget; not sent (hint: the API asks to slow down: try again later or lower the parallelism)",
            ]
        );
        assert!(
            neutral[3].starts_with(
                "cannot connect to http://{base} (check the API base address and the network): "
            ),
            "{}",
            neutral[3]
        );
        let flags = messages(crate::graph::FLAG_NAMES).await;
        assert_eq!(
            flags[..3],
            [
                "the API answered HTTP 404 without a Graph error body; check --api-base and --api-version [HTTP 404]",
                "the API answered HTTP 429 (too many requests) [HTTP 429] (hint: the API asks to slow down: try again later or lower --parallelism)",
                "the API asked to stop calling the app for another 30 s, beyond the retry budget; not sent (hint: the API asks to slow down: try again later or lower --parallelism)",
            ]
        );
        assert!(
            flags[3].starts_with(
                "cannot connect to http://{base} (check --api-base and the network): "
            ),
            "{}",
            flags[3]
        );
    }
}
