//! Daily counts of custom conversions from the `stats` edge (reference: Custom conversions):
//! `GET /<id>/stats?aggregation=count&start_time=…&end_time=…`, whose answer is a list of
//! `CustomConversionStatsResult` (`{aggregation, timestamp, data: [...]}`, one per time bucket,
//! as both official SDKs describe it).
//!
//! Asked like the listings: up to [`MAX_BATCH`] conversions' first pages in one batch request
//! (500 accounts × 50 conversions: 500 round trips, not 25,000), in rounds: an entry that was
//! not run, throttled or failed for now is asked again in the next round's batches after one
//! backoff; a conversion whose batch could not be had in a few rounds, or was refused as a whole,
//! is asked on its own with the usual retries. Conversions of accounts with their own token, or
//! that the API asked to slow down, are asked on their own. Further pages (`next`) are followed
//! on their own, on the configured host only.
//!
//! Reading an answer is lenient, as the shape of a bucket's `data` is not documented: a
//! bucket's count is the sum of the `count` (else numeric `value`) of its items, or its own
//! `count`; a bucket outside the window is ignored.

use super::batch::{self, MAX_BATCH, Rounds};
use super::client::{GraphClient, Inner};
use super::error::{ErrorKind, GraphError, json_i64};
use super::transport::{FailedAttempt, Request};
use crate::model::access_tier::READ_POINTS;
use crate::model::ids::{AdAccountId, ConversionId};
use crate::model::stats::{DailyCounts, StatsWindow, utc_day};
use reqwest::Method;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Pages of one conversion's stats before the client decides the API is looping.
const MAX_PAGES: usize = 100;

/// A conversion whose counts are asked: its account (for limits, tokens and usage) and id.
pub type StatsTarget = (AdAccountId, ConversionId);

/// How one conversion's first page came out of a round of batches.
enum Settled {
    Done(Result<DailyCounts, GraphError>),
    /// Read, with more pages to follow on its own.
    More(DailyCounts, Url),
    Again {
        wait: Option<Duration>,
        error: GraphError,
    },
    Alone,
}

impl GraphClient {
    /// The daily counts of each conversion over `window`, in the order asked.
    pub async fn daily_counts(
        &self,
        targets: &[StatsTarget],
        window: StatsWindow,
    ) -> Vec<Result<DailyCounts, GraphError>> {
        let inner = &self.inner;
        let size = inner.batch_size.min(MAX_BATCH);
        let (batched, alone): (Vec<usize>, Vec<usize>) = (0..targets.len()).partition(|&i| {
            let account = &targets[i].0;
            size > 1
                && !inner.transport.limiter.is_paced(account)
                && !inner.transport.has_own_token(account)
        });
        let mut out: Vec<Option<Result<DailyCounts, GraphError>>> =
            (0..targets.len()).map(|_| None).collect();
        let (lone, in_batches) = futures::future::join(
            futures::future::join_all(alone.into_iter().map(|i| {
                let (account, id) = &targets[i];
                async move { (i, inner.stats_alone(account, id, window).await) }
            })),
            inner.stats_in_batches(targets, batched, size, window),
        )
        .await;
        for (i, result) in lone.into_iter().chain(in_batches) {
            out[i] = Some(result);
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(GraphError::new(
                        ErrorKind::Protocol,
                        "internal: a conversion's counts were lost track of",
                    ))
                })
            })
            .collect()
    }
}

impl Inner {
    /// `{id}/stats?aggregation=count&start_time=…&end_time=…&limit=100` under the version.
    fn stats_url(&self, id: &ConversionId, window: StatsWindow) -> Url {
        let (start, end) = window.bounds();
        let mut url = self.transport.url(&format!("{id}/stats"));
        url.query_pairs_mut()
            .append_pair("aggregation", "count")
            .append_pair("start_time", &start.to_string())
            .append_pair("end_time", &end.to_string())
            .append_pair("limit", "100");
        url
    }

    /// One conversion's counts, every page asked on its own.
    async fn stats_alone(
        &self,
        account: &AdAccountId,
        id: &ConversionId,
        window: StatsWindow,
    ) -> Result<DailyCounts, GraphError> {
        let counts = DailyCounts {
            daily: vec![0; window.len()],
        };
        self.stats_pages(
            account,
            id,
            counts,
            Some(self.stats_url(id, window)),
            window,
        )
        .await
    }

    /// Reads the pages from `next` on into `counts`.
    async fn stats_pages(
        &self,
        account: &AdAccountId,
        id: &ConversionId,
        mut counts: DailyCounts,
        mut next: Option<Url>,
        window: StatsWindow,
    ) -> Result<DailyCounts, GraphError> {
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(GraphError::new(
                    ErrorKind::Protocol,
                    format!("more than {MAX_PAGES} pages of stats of conversion {id}; stopped"),
                )
                .with_account(Some(account)));
            }
            let request = Request {
                method: Method::GET,
                url,
                form: None,
                account: Some(account.clone()),
                note: format!("stats of {id}, page {pages}"),
                many_accounts: false,
                points: READ_POINTS,
            };
            let page = self
                .transport
                .call(&request)
                .await
                .map_err(|e| e.with_account(Some(account)))?;
            next = self.read_stats_page(account, id, &page, window, &mut counts)?;
        }
        Ok(counts)
    }

    /// Adds one page's buckets to `counts`; the next page, when there is one.
    fn read_stats_page(
        &self,
        account: &AdAccountId,
        id: &ConversionId,
        page: &Value,
        window: StatsWindow,
        counts: &mut DailyCounts,
    ) -> Result<Option<Url>, GraphError> {
        let damaged = |why: &str| {
            GraphError::new(
                ErrorKind::Protocol,
                format!("the stats of conversion {id} are damaged: {why}"),
            )
            .with_account(Some(account))
        };
        let Some(Value::Array(buckets)) = page.get("data") else {
            return Err(damaged("the answer has no `data` list"));
        };
        for bucket in buckets {
            let Some(day) = bucket.get("timestamp").and_then(bucket_time).map(utc_day) else {
                return Err(damaged("a bucket has no readable `timestamp`"));
            };
            if let Some(i) = window.index_of(day) {
                counts.daily[i] += bucket_count(bucket);
            }
        }
        match page.get("paging").and_then(|p| p.get("next")) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(next)) if next.is_empty() => Ok(None),
            Some(Value::String(next)) => self.checked_next(account, next).map(Some),
            Some(_) => Err(damaged("`paging.next` is not a URL string")),
        }
    }

    /// The counts of `targets[i]` for every `i` in `indices`, first pages in rounds of batches
    /// (see the module documentation); results by index.
    async fn stats_in_batches(
        self: &Arc<Self>,
        targets: &[StatsTarget],
        indices: Vec<usize>,
        size: usize,
        window: StatsWindow,
    ) -> Vec<(usize, Result<DailyCounts, GraphError>)> {
        let t = &self.transport;
        let mut done = Vec::with_capacity(indices.len());
        let mut more: Vec<(usize, DailyCounts, Url)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let mut pending = indices;
        let mut rounds = Rounds::new(t);
        while !pending.is_empty() {
            let deadline = rounds.start();
            let sent = pending.chunks(size.max(1)).map(|chunk| {
                let members: Vec<usize> = chunk.to_vec();
                let inner = Arc::clone(self);
                let targets: Vec<StatsTarget> =
                    members.iter().map(|&i| targets[i].clone()).collect();
                let task =
                    tokio::spawn(
                        async move { inner.stats_batch(&targets, window, deadline).await },
                    );
                async move {
                    let settled = task
                        .await
                        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                    members.into_iter().zip(settled).collect::<Vec<_>>()
                }
            });
            let outcomes = futures::future::join_all(sent).await;
            let mut again = Vec::new();
            let mut server_wait = None;
            let mut why = None;
            for (i, settled) in outcomes.into_iter().flatten() {
                match settled {
                    Settled::Done(result) => done.push((i, result)),
                    Settled::More(counts, next) => more.push((i, counts, next)),
                    Settled::Alone => alone.push(i),
                    Settled::Again { wait, error } => {
                        server_wait = server_wait.max(wait);
                        why = why.or(Some(error));
                        again.push(i);
                    }
                }
            }
            pending = again;
            let Some(error) = why else {
                continue;
            };
            let what = format!("the stats of {} conversions", pending.len());
            rounds
                .after_failures(
                    t,
                    &error,
                    server_wait,
                    &what,
                    "asking each on its own",
                    &mut pending,
                    &mut alone,
                )
                .await;
        }
        let followed = futures::future::join_all(more.into_iter().map(|(i, counts, next)| {
            let (account, id) = &targets[i];
            async move {
                (
                    i,
                    self.stats_pages(account, id, counts, Some(next), window)
                        .await,
                )
            }
        }));
        let lone = futures::future::join_all(alone.into_iter().map(|i| {
            let (account, id) = &targets[i];
            async move { (i, self.stats_alone(account, id, window).await) }
        }));
        let (followed, lone) = futures::future::join(followed, lone).await;
        done.extend(followed);
        done.extend(lone);
        done
    }

    /// One batch of first pages, settled entry by entry (in the order of `targets`).
    async fn stats_batch(
        &self,
        targets: &[StatsTarget],
        window: StatsWindow,
        deadline: tokio::time::Instant,
    ) -> Vec<Settled> {
        let t = &self.transport;
        let entries = targets
            .iter()
            .map(|(_, id)| {
                let url = self.stats_url(id, window);
                let path = url
                    .path()
                    .strip_prefix(t.url("").path())
                    .unwrap_or_default();
                batch::sub_request(
                    t,
                    Method::GET,
                    &format!("{path}?{}", url.query().unwrap_or_default()),
                    None,
                )
            })
            .collect();
        let mut request = batch::request(t, entries, None, 0);
        request.many_accounts = true;
        request.note = format!("stats of {} conversions", targets.len());
        let whole = |settled: &dyn Fn() -> Settled| targets.iter().map(|_| settled()).collect();
        match t.attempt(&request, false, deadline).await {
            Ok(Value::Array(answers)) if answers.len() == targets.len() => targets
                .iter()
                .zip(answers)
                .map(|((account, id), answer)| {
                    let usage = batch::entry_usage(&answer);
                    t.limiter.record(Some(account), &usage);
                    match batch::entry(t, &answer, &usage, Some(account), false) {
                        Ok(page) => {
                            let mut counts = DailyCounts {
                                daily: vec![0; window.len()],
                            };
                            match self.read_stats_page(account, id, &page, window, &mut counts) {
                                Ok(None) => Settled::Done(Ok(counts)),
                                Ok(Some(next)) => Settled::More(counts, next),
                                Err(e) => Settled::Done(Err(e)),
                            }
                        }
                        Err(FailedAttempt::Fatal(e)) => {
                            Settled::Done(Err(e.with_account(Some(account))))
                        }
                        Err(failure) => {
                            let wait = failure.wait();
                            Settled::Again {
                                wait,
                                error: failure.into_error(),
                            }
                        }
                    }
                })
                .collect(),
            Ok(_) => {
                t.log(|| "the batch answer is not a list of one result per request: asking each conversion's stats on its own".to_string());
                whole(&|| Settled::Alone)
            }
            Err(FailedAttempt::Fatal(e)) => {
                t.log(|| format!("the batch of stats was refused ({e}): asking each conversion's stats on its own"));
                whole(&|| Settled::Alone)
            }
            Err(failure) => {
                let wait = failure.wait();
                let error = failure.into_error();
                whole(&|| Settled::Again {
                    wait,
                    error: error.clone(),
                })
            }
        }
    }
}

/// A bucket's `timestamp`: a Graph datetime (`2026-12-01T00:00:00+0000`) or unix seconds.
fn bucket_time(value: &Value) -> Option<i64> {
    match value {
        Value::String(text) => crate::model::parse_api_time(text).map(|t| t.as_second()),
        other => json_i64(other),
    }
}

/// Events in one bucket: the sum of its items' `count` (else numeric `value`), or its own
/// `count` when it has no items.
fn bucket_count(bucket: &Value) -> u64 {
    let number = |v: Option<&Value>| -> Option<u64> {
        let v = v?;
        json_i64(v)
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|n| u64::try_from(n).ok())
    };
    match bucket.get("data") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| number(item.get("count")).or_else(|| number(item.get("value"))))
            .map(Option::unwrap_or_default)
            .sum(),
        _ => number(bucket.get("count")).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bucket_counts_its_items_or_itself() {
        assert_eq!(
            bucket_count(&json!({"data": [{"count": 3}, {"count": "2"}]})),
            5
        );
        assert_eq!(bucket_count(&json!({"data": [{"value": 7}]})), 7);
        assert_eq!(bucket_count(&json!({"count": 4, "data": []})), 4);
        assert_eq!(bucket_count(&json!({"timestamp": "x"})), 0);
        assert_eq!(
            bucket_time(&json!("2026-12-01T00:00:00+0000")),
            Some(1_796_083_200)
        );
        assert_eq!(bucket_time(&json!(1_796_083_200)), Some(1_796_083_200));
    }
}
