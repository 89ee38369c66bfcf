//! Reading: every custom conversion of an account, all pages, exactly the fields needed, and
//! for many accounts the first pages in batches.
//!
//! One account: `GET act_<ID>/customconversions?fields=…&limit=100`, then `next` as given, but
//! only on the configured scheme, host and port (the token never goes anywhere else), with any
//! `access_token`/`appsecret_proof` copied into it removed. Cursors are never stored.
//!
//! Many accounts: the same first-page GETs go up to [`MAX_BATCH`] to a batch request, so that
//! an agency's 500 accounts take 10 round trips instead of 500 (each sub-request still counts
//! against the rate limits; a batch about many accounts takes a global slot only). Each entry is
//! settled as the single-account path would settle that answer: a page is read and its `next`
//! followed on its own; a refusal is the account's error; a refusal of the optional fields is
//! asked again, in a batch, without them; a throttled, failed-for-now or unrun entry is asked
//! again in the next batch after the backoff. A batch that cannot be had in a few tries leaves
//! its accounts to be listed on their own (with their own retries), unless no connection could
//! be made at all. Accounts the API asked to slow down are not batched. `batch_size` 1 lists
//! one request per account.

use super::batch::{self, MAX_BATCH};
use super::client::{GraphClient, Inner};
use super::error::{ErrorKind, GraphError};
use super::live::{self, FIELDS, OPTIONAL_FIELDS};
use super::transport::{Backoff, Failure, Request};
use crate::model::LiveConversion;
use crate::model::ids::AdAccountId;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Pages per listing before the client decides the API is looping (100 conversions per
/// account, archived ones included, make a few pages at most).
const MAX_PAGES: usize = 1000;

/// Conversions of one account, each with the instant the answer that showed it arrived.
pub(crate) type Listed = Vec<(LiveConversion, Instant)>;

/// Tries of one batch of first pages before its accounts are listed on their own.
const BATCH_ATTEMPTS: u32 = 3;

/// An account's listing while its pages are read.
#[derive(Default)]
struct Pages {
    out: Listed,
    /// Reportable fields no conversion carried so far (`None`: no conversion seen yet).
    missing: Option<Vec<&'static str>>,
    /// `next` links followed so far (a loop is an error).
    visited: HashSet<String>,
    /// The page to ask for next.
    next: Option<Url>,
    /// Pages read so far.
    read: usize,
}

impl GraphClient {
    /// Every conversion of the account (archived ones included, the caller filters), all
    /// pages, exactly the fields needed.
    pub async fn list_conversions(
        &self,
        account: &AdAccountId,
    ) -> Result<Vec<LiveConversion>, GraphError> {
        let listed = self.inner.fetch_all(account).await?;
        self.inner.remember(account, &listed);
        Ok(listed.into_iter().map(|(c, _)| c).collect())
    }

    /// Many accounts concurrently within the parallelism limits, first pages in batches of up
    /// to `batch_size`; results in input order.
    pub async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        let size = self.inner.batch_size.min(MAX_BATCH);
        let (batched, alone): (Vec<usize>, Vec<usize>) = (0..accounts.len()).partition(|&i| {
            size > 1
                    && !self.inner.transport.limiter.is_paced(&accounts[i])
                    // A batch carries one token: an account with its own is listed alone.
                    && !self.inner.transport.has_own_token(&accounts[i])
        });
        // A lone account gains nothing from a batch: a plain request is the same round trip.
        let mut singles = alone;
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for chunk in batched.chunks(size.max(1)) {
            match chunk {
                [one] => singles.push(*one),
                _ => groups.push(chunk.to_vec()),
            }
        }
        // One task per batch and per lone account (JSON work spreads over the runtime's
        // threads); the limiter bounds what is in flight.
        let tasks = groups
            .into_iter()
            .chain(singles.into_iter().map(|i| vec![i]))
            .map(|group| {
                let inner = self.inner.clone();
                let chunk: Vec<AdAccountId> = group.iter().map(|&i| accounts[i].clone()).collect();
                let task = tokio::spawn(async move {
                    let listed = if chunk.len() == 1 {
                        vec![inner.fetch_all(&chunk[0]).await]
                    } else {
                        inner.fetch_batch(&chunk).await
                    };
                    chunk
                        .iter()
                        .zip(listed)
                        .map(|(account, result)| {
                            result.map(|listed| {
                                inner.remember(account, &listed);
                                listed.into_iter().map(|(c, _)| c).collect()
                            })
                        })
                        .collect::<Vec<_>>()
                });
                async move {
                    let results = task
                        .await
                        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                    group.into_iter().zip(results)
                }
            });
        let mut out: Vec<Option<Result<Vec<LiveConversion>, GraphError>>> =
            (0..accounts.len()).map(|_| None).collect();
        for (i, result) in futures::future::join_all(tasks).await.into_iter().flatten() {
            out[i] = Some(result);
        }
        all_settled(out)
    }
}

/// Results gathered by index; a slot left empty (a bug) is an error, never a panic.
fn all_settled<T>(slots: Vec<Option<Result<T, GraphError>>>) -> Vec<Result<T, GraphError>> {
    slots
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(GraphError::new(
                    ErrorKind::Protocol,
                    "internal: a listing was lost track of",
                ))
            })
        })
        .collect()
}

/// Did the API refuse the listing because of a field it will not read back (the undocumented
/// ones, or `pixel` without extra permissions)? Then the client asks again without them.
fn refuses_a_field(error: &GraphError) -> bool {
    let message = error.message();
    matches!(
        error.kind,
        ErrorKind::InvalidRequest | ErrorKind::Permission
    ) && !message.contains("appsecret_proof")
        && (message.contains("field") || OPTIONAL_FIELDS.iter().any(|f| message.contains(f)))
}

impl Inner {
    /// Every conversion of the account with the instant its page arrived; records nothing.
    pub(crate) async fn fetch_all(&self, account: &AdAccountId) -> Result<Listed, GraphError> {
        let reduced = self.reduced_fields.load(Ordering::Relaxed);
        match self.fetch_pages(account, reduced).await {
            Err(e) if !reduced && refuses_a_field(&e) => {
                self.log_refused_fields(account, &e);
                let result = self.fetch_pages(account, true).await;
                if result.is_ok() {
                    self.reduced_fields.store(true, Ordering::Relaxed);
                }
                result
            }
            other => other,
        }
    }

    /// Says (with `--verbose`) that the API would not read back the optional fields.
    fn log_refused_fields(&self, account: &AdAccountId, e: &GraphError) {
        self.transport.log(|| {
            format!(
                "{account}: the API refused the full field list ({}); asking again without {} (they stay unknown)",
                e.message(),
                OPTIONAL_FIELDS.join(", ")
            )
        });
    }

    /// Several accounts' listings, their first pages in batch requests; results in order.
    ///
    /// Each entry is settled like a page of the single-account path: a page is read (and
    /// `next` followed on its own); a throttled, failed-for-now or unrun entry is asked again
    /// in the next batch after the backoff (the API's wait when it gave one); a refusal of the
    /// optional fields asks again without them; any other refusal is that account's error.
    /// A batch that is refused or answered with something other than one result per request,
    /// or that cannot be had within [`BATCH_ATTEMPTS`] tries (timeouts, 5xx, throttling),
    /// leaves its accounts to be listed on their own ([`fetch_all`], with their own retries),
    /// except when no connection could be made at all: that is every account's error, not 50
    /// more waits for the same refusal.
    ///
    /// [`fetch_all`]: Inner::fetch_all
    async fn fetch_batch(&self, accounts: &[AdAccountId]) -> Vec<Result<Listed, GraphError>> {
        let t = &self.transport;
        let mut settled: Vec<Option<Result<Listed, GraphError>>> =
            accounts.iter().map(|_| None).collect();
        let mut started: Vec<(usize, Pages)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let mut pending: Vec<usize> = (0..accounts.len()).collect();
        let mut backoff = Backoff::new(&t.policy);
        let mut without_optional = self.reduced_fields.load(Ordering::Relaxed);
        let mut tries = 0;
        while !pending.is_empty() {
            tries += 1;
            let reduced = without_optional;
            let entries = pending
                .iter()
                .map(|&i| {
                    let url = self.first_page(&accounts[i], reduced);
                    let path = url
                        .path()
                        .strip_prefix(t.url("").path())
                        .unwrap_or_default();
                    let path = format!("{path}?{}", url.query().unwrap_or_default());
                    batch::sub_request(t, Method::GET, &path, None)
                })
                .collect();
            let mut request = batch::request(t, entries, None);
            request.many_accounts = true;
            request.note = format!("first pages of {} accounts", pending.len());
            let answer = t.attempt(&request, false, backoff.deadline()).await;
            drop(request);
            let (again, server_wait, why) = match answer {
                Ok(Value::Array(entries)) if entries.len() == pending.len() => {
                    let arrived = Instant::now();
                    let mut again = Vec::new();
                    let mut server_wait: Option<Duration> = None;
                    let mut why = None;
                    // Each page is parsed into conversions and dropped before the next is read:
                    // 50 accounts' pages never sit in memory at once as JSON trees.
                    for (i, entry) in pending.iter().copied().zip(entries) {
                        let account = &accounts[i];
                        let page = batch::entry(t, &entry, Some(account), false);
                        drop(entry);
                        match page {
                            Ok(page) => {
                                let mut pages = Pages::default();
                                match self.read_page(account, page, arrived, &mut pages) {
                                    Ok(()) => started.push((i, pages)),
                                    Err(e) => settled[i] = Some(Err(e)),
                                }
                                if reduced {
                                    self.reduced_fields.store(true, Ordering::Relaxed);
                                }
                            }
                            Err(Failure::Fatal(e)) if !reduced && refuses_a_field(&e) => {
                                without_optional = true;
                                self.log_refused_fields(account, &e);
                                again.push(i);
                            }
                            Err(Failure::Fatal(e)) => {
                                settled[i] = Some(Err(e
                                    .with_attempts(backoff.attempts + 1)
                                    .with_account(Some(account))));
                            }
                            Err(failure) => {
                                if let Failure::Retry { wait, .. } = &failure {
                                    server_wait = server_wait.max(*wait);
                                }
                                let error = failure.into_error();
                                t.log(|| {
                                    format!(
                                        "{account}: first page not read from the batch: {error}"
                                    )
                                });
                                why = Some(error);
                                again.push(i);
                            }
                        }
                    }
                    (again, server_wait, why)
                }
                Ok(_) => {
                    t.log(|| "the batch answer is not a list of one result per request: listing each account on its own".to_string());
                    alone.append(&mut pending);
                    break;
                }
                Err(Failure::Unreachable(e)) => match backoff.next_unreachable() {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    None => {
                        let e = backoff.exhausted(e);
                        for &i in &pending {
                            settled[i] = Some(Err(e.clone().with_account(Some(&accounts[i]))));
                        }
                        break;
                    }
                },
                Err(Failure::Fatal(e)) => {
                    t.log(|| format!("the batch of first pages was refused ({e}): listing each account on its own"));
                    alone.append(&mut pending);
                    break;
                }
                Err(failure) => {
                    let wait = match &failure {
                        Failure::Retry { wait, .. } => *wait,
                        _ => None,
                    };
                    (pending.clone(), wait, Some(failure.into_error()))
                }
            };
            pending = again;
            if pending.is_empty() {
                break;
            }
            // A refusal of the optional fields is asked again at once; anything else waits.
            if let Some(error) = why {
                match backoff.next(server_wait).filter(|_| tries < BATCH_ATTEMPTS) {
                    Some(delay) => {
                        t.log(|| {
                            format!(
                                "retry of the first pages of {} accounts in {} ms after: {error}",
                                pending.len(),
                                delay.as_millis()
                            )
                        });
                        tokio::time::sleep(delay).await;
                    }
                    None => {
                        t.log(|| format!("the first pages of {} accounts could not be read in a batch ({error}): listing each on its own", pending.len()));
                        alone.append(&mut pending);
                    }
                }
            }
        }
        let read = started.len();
        t.log(|| {
            format!(
                "first pages of {} accounts: {read} read from the batch, {} listed on their own",
                accounts.len(),
                alone.len()
            )
        });
        let follow = futures::future::join_all(
            started
                .into_iter()
                .map(|(i, pages)| async move { (i, self.follow(&accounts[i], pages).await) }),
        );
        let lone = futures::future::join_all(
            alone
                .into_iter()
                .map(|i| async move { (i, self.fetch_all(&accounts[i]).await) }),
        );
        let (followed, lone) = futures::future::join(follow, lone).await;
        for (i, result) in followed.into_iter().chain(lone) {
            settled[i] = Some(result);
        }
        all_settled(settled)
    }

    /// The URL of an account's first page.
    fn first_page(&self, account: &AdAccountId, reduced: bool) -> Url {
        let fields: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|f| !reduced || !OPTIONAL_FIELDS.contains(f))
            .collect();
        let mut url = self.transport.url(&format!("{account}/customconversions"));
        url.query_pairs_mut()
            .append_pair("fields", &fields.join(","))
            .append_pair("limit", "100");
        url
    }

    /// All pages of an account, asked one by one.
    async fn fetch_pages(
        &self,
        account: &AdAccountId,
        reduced: bool,
    ) -> Result<Listed, GraphError> {
        let pages = Pages {
            next: Some(self.first_page(account, reduced)),
            ..Pages::default()
        };
        self.follow(account, pages).await
    }

    /// Asks for the pages still to come (`pages.next`, and so on) and returns the listing.
    async fn follow(&self, account: &AdAccountId, mut pages: Pages) -> Result<Listed, GraphError> {
        let t = &self.transport;
        while let Some(url) = pages.next.take() {
            if pages.read >= MAX_PAGES {
                return Err(GraphError::new(
                    ErrorKind::Protocol,
                    format!("more than {MAX_PAGES} pages of custom conversions; stopped"),
                )
                .with_account(Some(account)));
            }
            let request = Request {
                method: Method::GET,
                url,
                form: None,
                account: Some(account.clone()),
                note: format!("page {}", pages.read + 1),
                many_accounts: false,
            };
            let value = t
                .call(&request)
                .await
                .map_err(|e| e.with_account(Some(account)))?;
            self.read_page(account, value, Instant::now(), &mut pages)?;
        }
        let missing = pages.missing.unwrap_or_default();
        if !missing.is_empty() {
            t.log(|| {
                format!(
                    "{account}: no conversion in the answer carried {} (unknown: never a change)",
                    missing.join(", ")
                )
            });
        }
        Ok(pages.out)
    }

    /// Takes in one page of an account's listing: its conversions, the fields they carried,
    /// and its `next` (checked: same origin, secrets stripped, never twice).
    fn read_page(
        &self,
        account: &AdAccountId,
        value: Value,
        arrived: Instant,
        pages: &mut Pages,
    ) -> Result<(), GraphError> {
        pages.read += 1;
        let data = match value.get("data") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => {
                return Err(GraphError::new(
                    ErrorKind::Protocol,
                    "the API answered a list without `data`",
                )
                .with_account(Some(account)));
            }
            Some(_) => {
                return Err(
                    GraphError::new(ErrorKind::Protocol, "the API's `data` is not a list")
                        .with_account(Some(account)),
                );
            }
        };
        for item in data {
            pages.out.push((
                live::parse_conversion(item).map_err(|e| e.with_account(Some(account)))?,
                arrived,
            ));
        }
        if !data.is_empty() {
            let here = live::missing_fields(data);
            pages.missing = Some(match pages.missing.take() {
                None => here,
                Some(before) => before.into_iter().filter(|f| here.contains(f)).collect(),
            });
        }
        // `next` is absent on the last page, and only then: short pages may still have it.
        if let Some(Value::String(next)) = value.get("paging").and_then(|p| p.get("next"))
            && !next.is_empty()
        {
            let url = self.checked_next(account, next)?;
            if !pages.visited.insert(url.to_string()) {
                return Err(GraphError::new(
                    ErrorKind::Protocol,
                    "the API's paging went round in a circle (the same `next` twice)",
                )
                .with_account(Some(account)));
            }
            pages.next = Some(url);
        }
        Ok(())
    }

    /// A `next` URL that may be followed: same origin as the base, secrets stripped.
    fn checked_next(&self, account: &AdAccountId, next: &str) -> Result<Url, GraphError> {
        let unsafe_next = |why: &str| {
            GraphError::new(
                ErrorKind::UnsafeRedirect,
                format!("the API's paging `next` link {why}; not followed, so that the token is never sent elsewhere"),
            )
            .with_account(Some(account))
        };
        let url = Url::parse(next).map_err(|_| unsafe_next("is not a URL"))?;
        if !self.transport.same_origin(&url) {
            return Err(unsafe_next("points at another host than --api-base"));
        }
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "access_token" && k != "appsecret_proof")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut clean = url.clone();
        clean.set_fragment(None);
        if kept.is_empty() {
            clean.set_query(None);
        } else {
            clean.query_pairs_mut().clear().extend_pairs(kept);
        }
        Ok(clean)
    }

    /// Records a listing in the ledger.
    pub(crate) fn remember(&self, account: &AdAccountId, listed: &[(LiveConversion, Instant)]) {
        let mut ledger = self.ledger.lock().unwrap_or_else(|e| e.into_inner());
        for (c, arrived) in listed {
            ledger.owner.insert(c.id.clone(), account.clone());
            ledger
                .seen
                .entry(account.clone())
                .or_default()
                .entry(c.id.clone())
                .or_insert(*arrived);
        }
        ledger.seen.entry(account.clone()).or_default();
    }
}
