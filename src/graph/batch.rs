//! The Graph batch endpoint (reference: Batch requests), shared by reads and writes: up to 50
//! sub-requests in one round trip, `POST {base}{version}/` with `batch` = a JSON array and
//! `include_headers=true`, answered with one entry per sub-request, in order, each
//! `{"code","headers","body":"<JSON>"}` or `null` when it was not run (timed out).
//!
//! A batch saves round trips, not quota: every sub-request counts against the rate limits on
//! its own, so each entry's usage headers are recorded against its own account. This module
//! only builds requests and reads entries; deciding what to retry is the caller's.

use super::error::{ErrorKind, GraphError, json_i64};
use super::transport::{Backoff, FailedAttempt, Request, Transport};
use super::usage::Usage;
use crate::model::ids::AdAccountId;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::Instant;

/// The most sub-requests the API takes in one batch.
pub(crate) const MAX_BATCH: usize = 50;

/// One sub-request: `path` is under the version (`act_1/customconversions?fields=…`); `form`
/// becomes its form-encoded `body`.
pub(crate) fn sub_request(
    t: &Transport,
    method: Method,
    path: &str,
    form: Option<&[(String, String)]>,
) -> Value {
    let mut entry =
        json!({"method": method.as_str(), "relative_url": format!("{}/{}", t.version, path)});
    if let Some(fields) = form {
        entry["body"] = Value::String(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish(),
        );
    }
    entry
}

/// The request carrying `entries`, worth `points` in the ad-account score. `account` is the one
/// account they all concern, if any (for the per-account limit); a caller whose entries concern
/// many accounts sets [`Request::many_accounts`] so that only the global limit applies.
pub(crate) fn request(
    t: &Transport,
    entries: Vec<Value>,
    account: Option<AdAccountId>,
    points: u32,
) -> Request {
    let count = entries.len();
    Request {
        method: Method::POST,
        url: t.url(""),
        form: Some(vec![
            ("batch".into(), Value::Array(entries).to_string()),
            ("include_headers".into(), "true".into()),
        ]),
        account,
        note: format!("batch of {count}"),
        many_accounts: false,
        points,
    }
}

/// The usage headers of one entry of a batch answer (none for a `null` entry).
pub(crate) fn entry_usage(entry: &Value) -> Usage {
    let headers: Vec<(String, String)> = entry
        .get("headers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|h| {
                    Some((
                        h.get("name")?.as_str()?.to_ascii_lowercase(),
                        h.get("value")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Usage::from_lookup(|name| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    })
}

/// One entry of a batch answer, read like a whole answer: `null` (not run, or timed out:
/// maybe committed) is `Uncertain`; otherwise its code and body go through
/// [`Transport::interpret`] with its usage headers (`usage`, from [`entry_usage`]; recording
/// them is the caller's: entries of many accounts each against its own, entries of one
/// account only the last).
pub(crate) fn entry(
    t: &Transport,
    entry: &Value,
    usage: &Usage,
    account: Option<&AdAccountId>,
    is_write: bool,
) -> Result<Value, FailedAttempt> {
    if entry.is_null() {
        return Err(FailedAttempt::Uncertain(GraphError::new(
            ErrorKind::Transient,
            "the batch answer has no result for this request (not run or timed out)",
        )));
    }
    let status = entry
        .get("code")
        .and_then(json_i64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(0);
    if status == 0 {
        return Err(FailedAttempt::Uncertain(GraphError::new(
            ErrorKind::Protocol,
            "a batch entry without an HTTP code",
        )));
    }
    match entry.get("body") {
        Some(Value::String(s)) => t.interpret(status, s.as_bytes(), usage, account, is_write),
        Some(v @ Value::Object(_)) => {
            t.interpret(status, v.to_string().as_bytes(), usage, account, is_write)
        }
        _ => t.interpret(status, &[], usage, account, is_write),
    }
}

/// How many rounds of batches an entry that may be asked again gets before it is sent on its own.
pub(crate) const BATCH_ATTEMPTS: u32 = 3;

/// The rounds of batches whose entries may be asked again (first pages, daily counts): a
/// round's retryable failures wait out the backoff (or the API's wait) and go in the next
/// round; after [`BATCH_ATTEMPTS`] rounds, or once the backoff is spent, each is sent on its
/// own.
pub(crate) struct Rounds {
    backoff: Backoff,
    count: u32,
}

impl Rounds {
    pub(crate) fn new(t: &Transport) -> Rounds {
        Rounds {
            backoff: Backoff::new(&t.policy),
            count: 0,
        }
    }

    /// Starts a round: the deadline of its requests.
    pub(crate) fn start(&mut self) -> Instant {
        self.count += 1;
        self.backoff.deadline()
    }

    /// How many rounds have started.
    pub(crate) fn count(&self) -> u32 {
        self.count
    }

    /// The backoff between rounds (for failures that are not an entry's own).
    pub(crate) fn backoff(&mut self) -> &mut Backoff {
        &mut self.backoff
    }

    /// After a round whose `pending` entries failed in a way another round may cure
    /// (`error`, with the API's `server_wait`): waits and keeps them pending, or moves them to
    /// `alone`. `what` names them for the log ("the first pages of 3 accounts"), `alone_means`
    /// what is done with them on their own ("listing each on its own").
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn after_failures(
        &mut self,
        t: &Transport,
        error: &GraphError,
        server_wait: Option<Duration>,
        what: &str,
        alone_means: &str,
        pending: &mut Vec<usize>,
        alone: &mut Vec<usize>,
    ) {
        let count = self.count;
        match self
            .backoff
            .next(server_wait)
            .filter(|_| count < BATCH_ATTEMPTS)
        {
            Some(delay) => {
                t.log(|| format!("retry of {what} in {} ms after: {error}", delay.as_millis()));
                tokio::time::sleep(delay).await;
            }
            None => {
                t.log(|| format!("{what} could not be read in a batch ({error}): {alone_means}"));
                alone.append(pending);
            }
        }
    }
}
