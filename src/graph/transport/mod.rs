//! One HTTP exchange with the Graph API, and the retry loop for requests that may be repeated.
//!
//! Owns authentication (the token only ever in the `Authorization: Bearer` header; the
//! `appsecret_proof` as a parameter), reading usage headers into the limiter, turning an answer
//! into JSON or a classified [`FailedAttempt`], backoff with full jitter bounded by attempts and
//! total time, and verbose logging (method, path without query, status, usage, retries; every
//! line redacted). It never repeats a write on its own when the write may have been committed:
//! that answer is a [`FailedAttempt::Uncertain`] the caller must resolve.
//!
//! One file per step of a request's life: [`request`] (what is asked), [`admission`] (the
//! limiter's slot), [`signing`] (token, proof), [`exchange`] (send and read, within its time),
//! [`classify`] (what an answer or a failure means), [`retry`] (backoff and the retry loop).

mod admission;
mod classify;
mod exchange;
mod failed_attempt;
mod request;
mod retry;
mod signing;
#[cfg(test)]
mod tests;

pub(crate) use admission::Admission;
pub(crate) use failed_attempt::FailedAttempt;
pub(crate) use request::Request;
pub(crate) use retry::Backoff;
#[cfg(test)]
pub(crate) use signing::appsecret_proof;

use super::config::{GraphConfig, RetryPolicy, SettingNames};
use super::error::{ErrorKind, GraphError, Redactor};
use super::limiter::Limiter;
use super::trace::Trace;
use crate::model::Secret;
use crate::model::ids::AdAccountId;
use serde_json::Value;
use signing::{appsecret_proof as proof_of, check_token};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Where verbose lines go (stderr by default; tests capture them).
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

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
            .map(|secret| proof_of(&config.token, secret));
        let mut account_tokens = HashMap::new();
        for (account, token) in &config.account_tokens {
            check_token(token, Some(account), &config.names)?;
            let proof = config
                .app_secret
                .as_ref()
                .map(|secret| proof_of(token, secret));
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
    ) -> Result<Value, FailedAttempt> {
        let admission = if request.many_accounts {
            self.admit_many(deadline).await?
        } else {
            self.admit(request.account.as_ref(), request.points, deadline)
                .await?
        };
        self.send(admission, request, is_write).await
    }

    /// A request not sent because the client was halted (see [`Halt`](crate::graph::Halt)).
    pub(crate) fn halted(&self, account: Option<&AdAccountId>) -> FailedAttempt {
        FailedAttempt::Fatal(
            GraphError::new(
                ErrorKind::Halted,
                "not sent: the command was stopped before this call",
            )
            .with_account(account),
        )
    }
}
