//! Writes: creates, updates and deletes, batched through the Graph batch endpoint, run per
//! account in rounds, and never blindly repeated when they may have been committed.
//!
//! Each account's writes go in rounds: the pending ones are cut into batches of `batch_size`
//! (a lone write, or `batch_size` 1, is a plain request), the batches of a round run in
//! parallel within the limits, and each write's answer is sorted, as its batch is answered,
//! into done, failed (both settled, and told to the observer then), retry (nothing was
//! committed: a 4xx error, a throttle, a refused connection), or *uncertain* (HTTP 5xx, a lost
//! connection, a timeout, an empty batch entry). Only after every request of the round has
//! settled are the uncertain ones resolved:
//! - a create: the account is listed again and a conversion that matches it exactly (name,
//!   rule by meaning, event type, source, value, ...), that was not listed before the create was
//!   first tried and is not already claimed by this client, is adopted (`Adopted`); it is sent
//!   again only when a whole listing shows nothing like it (`Resent`), and is otherwise
//!   reported uncertain (`lost_creates`);
//! - a delete is sent again, and "object does not exist" (100/33) then counts as done
//!   (`AlreadyGone`);
//! - an update is idempotent and is sent again.
//!
//! It never reorders writes across calls: a caller that needs "delete, then create" makes two
//! calls.

use super::batch;
use super::client::{GraphClient, Inner};
use super::error::{ErrorKind, GraphError};
use super::transport::{Backoff, FailedAttempt, Request};
use super::usage::Usage;
use crate::model::access_tier::WRITE_POINTS;
use crate::model::ids::{AdAccountId, ConversionId};
use crate::model::{NewConversion, WriteOp, WriteOutcome};
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Called once per write, as it is settled: done, failed, or uncertain (progress bars). A
/// write settled by its own answer (or its batch entry's) is told as that answer arrives; one
/// retried, checked against a listing or adopted is told once, when that ends.
pub(crate) type WriteObserver =
    Arc<dyn Fn(&WriteOp, &Result<WriteOutcome, GraphError>) + Send + Sync>;

pub(super) type WriteResult = Result<WriteOutcome, GraphError>;

pub(super) struct Job {
    index: usize,
    pub(super) op: WriteOp,
    account: Option<AdAccountId>,
    pub(super) backoff: Backoff,
    /// When the first attempt was sent: conversions listed before it cannot be its result.
    pub(super) first_try: Option<Instant>,
    /// An earlier attempt may have been committed.
    uncertain: bool,
    /// A create sent again after its first answer was lost and no listing showed it: its
    /// result is [`WriteOutcome::Resent`].
    pub(super) resent: bool,
    /// Wait before the next attempt.
    pub(super) wait: Duration,
}

/// What one attempt of one write came to.
enum Step {
    Done(WriteResult),
    Again,
    /// A create whose answer was lost: to be checked against a fresh listing.
    Verify(GraphError),
}

impl GraphClient {
    /// Independent writes (any order, in parallel, batched by `batch_size` per account);
    /// results in input order.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Vec<WriteResult> {
        self.write_observed(ops, Arc::new(|_: &WriteOp, _: &WriteResult| {}))
            .await
    }

    /// Same, calling `observer` as each write finishes.
    pub async fn write_observed(
        &self,
        ops: Vec<WriteOp>,
        observer: WriteObserver,
    ) -> Vec<WriteResult> {
        let total = ops.len();
        let mut groups: Vec<(Option<AdAccountId>, Vec<Job>)> = Vec::new();
        let mut group_of: HashMap<Option<AdAccountId>, usize> = HashMap::new();
        {
            let mut ledger = self.inner.ledger.lock().unwrap_or_else(|e| e.into_inner());
            for (index, op) in ops.into_iter().enumerate() {
                if let WriteOp::Delete { id } = &op {
                    // From now on a listing without it may still be whole (`lost_creates`).
                    ledger.deleting.insert(id.clone());
                }
                let account = match &op {
                    WriteOp::Create { account, .. } => Some(account.clone()),
                    WriteOp::Update { id, .. } | WriteOp::Delete { id } => {
                        ledger.owner.get(id).cloned()
                    }
                };
                let job = Job {
                    index,
                    op,
                    account: account.clone(),
                    backoff: Backoff::new(&self.inner.transport.policy),
                    first_try: None,
                    uncertain: false,
                    resent: false,
                    wait: Duration::ZERO,
                };
                let slot = *group_of.entry(account.clone()).or_insert_with(|| {
                    groups.push((account, Vec::new()));
                    groups.len() - 1
                });
                groups[slot].1.push(job);
            }
        }
        // One task per account: the JSON and form work of many accounts spreads over the
        // runtime's threads; the limiter still bounds what is in flight.
        let runs = groups.into_iter().map(|(account, jobs)| {
            let (inner, observer) = (self.inner.clone(), observer.clone());
            let task =
                tokio::spawn(async move { inner.run_account(account, jobs, observer).await });
            async move {
                task.await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            }
        });
        let mut results: Vec<Option<WriteResult>> = vec![None; total];
        for (index, result) in futures::future::join_all(runs).await.into_iter().flatten() {
            results[index] = Some(result);
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(GraphError::new(
                        ErrorKind::Protocol,
                        "internal: a write was lost track of",
                    ))
                })
            })
            .collect()
    }
}

impl Inner {
    async fn run_account(
        &self,
        account: Option<AdAccountId>,
        mut pending: Vec<Job>,
        observer: WriteObserver,
    ) -> Vec<(usize, WriteResult)> {
        let mut finished = Vec::with_capacity(pending.len());
        // A write is settled once: finishing it takes the job, so it is counted (observed)
        // once, however many attempts, checks or adoptions it took.
        let mut finish = |job: Job, result: WriteResult| {
            let result = result.map_err(|e| context(e, &job));
            observer(&job.op, &result);
            finished.push((job.index, result));
        };
        // Adoption needs to know what existed before: list the account once if never listed.
        if let Some(acc) = &account {
            let listed_before = self
                .ledger
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .seen
                .contains_key(acc);
            if !listed_before
                && pending
                    .iter()
                    .any(|j| matches!(j.op, WriteOp::Create { .. }))
            {
                match self.fetch_all(acc).await {
                    Ok(listed) => self.remember(acc, &listed),
                    Err(e) => {
                        for job in pending {
                            finish(job, Err(e.clone()));
                        }
                        return finished;
                    }
                }
            }
        }
        while !pending.is_empty() {
            // A batch never carries more writes than the account's score can take at once
            // (19 at the development tier): the rest wait for room, chunk by chunk. Where the
            // score is what limits a batch, a round is one batch, so that its writes are
            // settled (and counted done) as it is answered, not when the account's last
            // paced batch is, minutes later.
            let most = account
                .as_ref()
                .and_then(|a| self.transport.limiter.writes_per_request(a));
            let size = most.map_or(self.batch_size, |most| self.batch_size.min(most));
            let later = match most.is_some_and(|most| most < self.batch_size) {
                true if pending.len() > size => pending.split_off(size),
                _ => Vec::new(),
            };
            let wait = pending.iter().map(|j| j.wait).max().unwrap_or_default();
            if !wait.is_zero() {
                let _pause = self.transport.limiter.pauses.begin(
                    account.as_ref(),
                    super::pauses::PauseReason::Retry,
                    wait,
                );
                // A halted client waits no longer: the next attempt is refused at once.
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.transport.policy.halt.pulled() => {}
                }
            }
            // Each batch's answers are sorted as they arrive: a write settled by its answer is
            // counted then, not when the round's slowest batch is answered. What is to be sent
            // again or checked waits for the whole round.
            let mut chunks: Vec<Vec<Job>> = Vec::new();
            let mut rest = pending.into_iter().peekable();
            while rest.peek().is_some() {
                chunks.push(rest.by_ref().take(size).collect());
            }
            let mut in_flight: futures::stream::FuturesUnordered<_> = chunks
                .into_iter()
                .map(|mut chunk| async move {
                    let answers = self.send_chunk(&mut chunk).await;
                    (chunk, answers)
                })
                .collect();
            let mut again = Vec::new();
            let mut to_verify: Vec<(Job, GraphError)> = Vec::new();
            while let Some((chunk, answers)) = futures::StreamExt::next(&mut in_flight).await {
                for (mut job, answer) in chunk.into_iter().zip(answers) {
                    match self.step(&mut job, answer) {
                        Step::Done(result) => finish(job, result),
                        Step::Again => again.push(job),
                        Step::Verify(error) => to_verify.push((job, error)),
                    }
                }
            }
            drop(in_flight);
            // The next round batches in plan order, whatever order the answers came in.
            again.sort_by_key(|job| job.index);
            to_verify.sort_by_key(|(job, _)| job.index);
            if !to_verify.is_empty() {
                let acc = account.clone().expect("creates always name their account");
                self.resolve_lost_creates(&acc, to_verify, &mut finish, &mut again)
                    .await;
            }
            pending = again;
            pending.extend(later);
        }
        finished
    }

    /// Sorts one attempt's answer; updates the job for a next attempt.
    fn step(&self, job: &mut Job, answer: Result<Value, FailedAttempt>) -> Step {
        match answer {
            Ok(value) => match outcome(&job.op, &value) {
                Ok(outcome) => {
                    if let (WriteOutcome::Created(id), Some(acc)) = (&outcome, &job.account) {
                        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
                        ledger
                            .claimed
                            .entry(acc.clone())
                            .or_default()
                            .insert(id.clone());
                        ledger.owner.insert(id.clone(), acc.clone());
                    }
                    Step::Done(Ok(match outcome {
                        WriteOutcome::Created(id) if job.resent => WriteOutcome::Resent(id),
                        outcome => outcome,
                    }))
                }
                Err(failure) => self.retry_or_fail(job, failure),
            },
            Err(FailedAttempt::Fatal(e))
                if e.is_not_found()
                    && job.uncertain
                    && matches!(job.op, WriteOp::Delete { .. }) =>
            {
                Step::Done(Ok(WriteOutcome::AlreadyGone))
            }
            Err(failure) => self.retry_or_fail(job, failure),
        }
    }

    fn retry_or_fail(&self, job: &mut Job, failure: FailedAttempt) -> Step {
        match failure {
            // Halted before a retry of a write whose earlier answer was lost: it may have been
            // done, so it is uncertain, not "not sent".
            FailedAttempt::Fatal(e) if e.kind == ErrorKind::Halted && job.uncertain => {
                Step::Done(Err(GraphError::new(
                    ErrorKind::Uncertain,
                    format!(
                        "the answer to an earlier attempt was lost and the command was stopped before it could be tried again, so it may or may not have been done; run `convctl plan` to see ({})",
                        e.message()
                    ),
                )
                .with_attempts(job.backoff.attempts + 1)))
            }
            FailedAttempt::Fatal(e) => Step::Done(Err(e.with_attempts(job.backoff.attempts + 1))),
            FailedAttempt::Uncertain(e) if matches!(job.op, WriteOp::Create { .. }) => {
                job.uncertain = true;
                Step::Verify(e)
            }
            FailedAttempt::Uncertain(error) => {
                // A delete or update that may have been applied: repeating it is safe (a
                // delete that then finds nothing counts as done).
                job.uncertain = true;
                self.again(job, error, None)
            }
            FailedAttempt::Retry { error, wait } => self.again(job, error, wait),
            FailedAttempt::Unreachable(error) => match job.backoff.next_unreachable() {
                Some(d) => {
                    job.wait = d;
                    Step::Again
                }
                None => Step::Done(Err(job.backoff.exhausted(error))),
            },
        }
    }

    fn again(&self, job: &mut Job, error: GraphError, server_wait: Option<Duration>) -> Step {
        match job.backoff.next(server_wait) {
            Some(d) => {
                self.transport.log(|| {
                    format!(
                        "retry of the {} in {} ms after: {}",
                        describe(&job.op),
                        d.as_millis(),
                        context(error.clone(), job)
                    )
                });
                job.wait = d;
                Step::Again
            }
            None => Step::Done(Err(job.backoff.exhausted(error))),
        }
    }

    /// One round trip for a chunk of writes: a plain request for one, a batch for more.
    /// Answers are in chunk order.
    ///
    /// A write not tried yet may wait for the limiter as long as the command's budget lasts:
    /// waiting for room in the account's score is pacing, not a retry, so its own retry budget
    /// starts once it is admitted (as does its `first_try`).
    async fn send_chunk(&self, chunk: &mut [Job]) -> Vec<Result<Value, FailedAttempt>> {
        let t = &self.transport;
        let account = chunk[0].account.clone();
        let deadline = chunk
            .iter()
            .map(|j| match j.first_try {
                None => t.policy.budget.deadline().unwrap_or_else(far_future),
                Some(_) => j.backoff.deadline(),
            })
            .max()
            .unwrap_or_else(Instant::now);
        let points = u32::try_from(chunk.len())
            .unwrap_or(u32::MAX)
            .saturating_mul(WRITE_POINTS);
        // The body (≈ 20 KB for 50 creates) is built once the limiter admits the batch: an
        // apply of 50,000 creates queues 1,000 batches, and only those in flight need one.
        let admission = match t.admit(account.as_ref(), points, deadline).await {
            Ok(admission) => admission,
            Err(failure) => return chunk.iter().map(|_| Err(failure.clone())).collect(),
        };
        let now = Instant::now();
        for job in chunk.iter_mut() {
            if job.first_try.is_none() {
                job.first_try = Some(now);
                job.backoff.restart();
            }
        }
        if chunk.len() == 1 {
            let (method, path, form) = plain_parts(&chunk[0].op);
            let request = Request {
                method,
                url: t.url(&path),
                form,
                account,
                note: String::new(),
                many_accounts: false,
                points,
            };
            return vec![t.send(admission, &request, true).await];
        }
        let batch: Vec<Value> = chunk
            .iter()
            .map(|job| {
                let (method, path, form) = plain_parts(&job.op);
                batch::sub_request(t, method, &path, form.as_deref())
            })
            .collect();
        let request = batch::request(t, batch, account.clone(), points);
        match t.send(admission, &request, true).await {
            Ok(Value::Array(entries)) if entries.len() == chunk.len() => {
                // The entries of one account answer in order: the last one's usage headers
                // hold the others' calls, so they alone are recorded (an earlier entry's
                // lower score would let a waiting request through too early).
                let usages: Vec<Usage> = entries.iter().map(batch::entry_usage).collect();
                if let Some(last) = usages.iter().rev().find(|u| !u.is_empty()) {
                    t.limiter.record(account.as_ref(), last);
                }
                let answers: Vec<_> = entries
                    .iter()
                    .zip(&usages)
                    .map(|(entry, usage)| batch::entry(t, entry, usage, account.as_ref(), true))
                    .collect();
                t.log(|| batch_summary(account.as_ref(), &answers));
                answers
            }
            Ok(_) => {
                let e = GraphError::new(
                    ErrorKind::Protocol,
                    "the batch answer is not a list of one result per request",
                );
                chunk
                    .iter()
                    .map(|_| Err(FailedAttempt::Uncertain(e.clone())))
                    .collect()
            }
            Err(failure) => chunk.iter().map(|_| Err(failure.clone())).collect(),
        }
    }
}

/// `batch of 3 [act_1]: 1 ok, 1 not run or lost, 1 failed (code 100)`, for verbose output.
fn batch_summary(
    account: Option<&AdAccountId>,
    answers: &[Result<Value, FailedAttempt>],
) -> String {
    let ok = answers.iter().filter(|a| a.is_ok()).count();
    let lost = answers
        .iter()
        .filter(|a| matches!(a, Err(FailedAttempt::Uncertain(_))))
        .count();
    let mut codes: Vec<String> = answers
        .iter()
        .filter_map(|a| match a {
            Err(FailedAttempt::Uncertain(_)) | Ok(_) => None,
            Err(f) => Some(
                f.clone()
                    .into_error()
                    .code
                    .map_or_else(|| "no code".to_string(), |c| c.to_string()),
            ),
        })
        .collect();
    let failed = codes.len();
    codes.sort();
    codes.dedup();
    let account = account.map(|a| format!(" [{a}]")).unwrap_or_default();
    let mut text = format!("batch of {}{account}: {ok} ok", answers.len());
    if lost > 0 {
        text.push_str(&format!(", {lost} not run or lost"));
    }
    if failed > 0 {
        text.push_str(&format!(", {failed} failed (code {})", codes.join(", ")));
    }
    text
}

/// Method, path under the version, and form fields of a write.
fn plain_parts(op: &WriteOp) -> (Method, String, Option<Vec<(String, String)>>) {
    match op {
        WriteOp::Create {
            account,
            conversion,
        } => (
            Method::POST,
            format!("{account}/customconversions"),
            Some(create_fields(conversion)),
        ),
        WriteOp::Update { id, update } => {
            let mut fields = Vec::new();
            if let Some(name) = &update.name {
                fields.push(("name".to_string(), name.clone()));
            }
            if let Some(description) = &update.description {
                fields.push(("description".to_string(), description.clone()));
            }
            if let Some(value) = update.default_conversion_value {
                fields.push(("default_conversion_value".to_string(), number_text(value)));
            }
            (Method::POST, id.to_string(), Some(fields))
        }
        WriteOp::Delete { id } => (Method::DELETE, id.to_string(), None),
    }
}

fn create_fields(c: &NewConversion) -> Vec<(String, String)> {
    let mut fields = vec![("name".to_string(), c.name.clone())];
    let mut push = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            fields.push((key.to_string(), v));
        }
    };
    push(
        "description",
        Some(c.description.clone()).filter(|d| !d.is_empty()),
    );
    push("rule", c.rule.clone());
    push("advanced_rule", c.advanced_rule.clone());
    push(
        "custom_event_type",
        c.custom_event_type.map(|t| t.as_str().to_string()),
    );
    push(
        "event_source_id",
        c.event_source_id.as_ref().map(|id| id.to_string()),
    );
    push(
        "action_source_type",
        c.action_source_type.map(|t| t.as_str().to_string()),
    );
    push(
        "default_conversion_value",
        Some(number_text(c.default_conversion_value)),
    );
    fields
}

/// `12` for 12.0, `12.5` for 12.5.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// What a successful answer means for the write.
fn outcome(op: &WriteOp, value: &Value) -> Result<WriteOutcome, FailedAttempt> {
    let refused = |what: &str| {
        FailedAttempt::Fatal(GraphError::new(
            ErrorKind::Api,
            format!("the API did not confirm the {what} (`success` is false)"),
        ))
    };
    let success = match value.get("success") {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    };
    match op {
        WriteOp::Create { .. } => {
            let id = value.get("id").and_then(|v| match v {
                Value::String(s) => ConversionId::parse(s).ok(),
                Value::Number(n) => ConversionId::parse(&n.to_string()).ok(),
                _ => None,
            });
            id.map(WriteOutcome::Created).ok_or_else(|| {
                // Something was accepted but we cannot tell what: check before repeating.
                FailedAttempt::Uncertain(GraphError::new(
                    ErrorKind::Protocol,
                    "the API accepted the create but returned no id",
                ))
            })
        }
        WriteOp::Update { .. } if success == Some(false) => Err(refused("update")),
        WriteOp::Update { .. } => Ok(WriteOutcome::Updated),
        WriteOp::Delete { .. } if success == Some(false) => Err(refused("delete")),
        WriteOp::Delete { .. } => Ok(WriteOutcome::Deleted),
    }
}

fn describe(op: &WriteOp) -> String {
    match op {
        WriteOp::Create {
            account,
            conversion,
        } => format!("create of {:?} in {account}", conversion.name),
        WriteOp::Update { id, .. } => format!("update of {id}"),
        WriteOp::Delete { id } => format!("delete of {id}"),
    }
}

/// A deadline no command reaches (for a command without a time budget).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 86_400)
}

/// Attaches the account and conversion a write concerns to its error. A delete refused for
/// permission gets the truth as its hint: the app may not delete custom conversions (the
/// token's permissions are not what is missing).
fn context(error: GraphError, job: &Job) -> GraphError {
    let mut error = error.with_account(job.account.as_ref());
    if matches!(job.op, WriteOp::Delete { .. }) && error.is_permission_refusal() {
        error = error.with_hint_text(super::error::DELETE_REFUSED_HINT);
    }
    match &job.op {
        WriteOp::Create { conversion, .. } => error.with_conversion(None, Some(&conversion.name)),
        WriteOp::Update { id, update } => error.with_conversion(Some(id), update.name.as_deref()),
        WriteOp::Delete { id } => error.with_conversion(Some(id), None),
    }
}
