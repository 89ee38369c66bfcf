//! Reading: every custom conversion of an account, all pages, exactly the fields needed, and
//! for many accounts the first pages in batches.
//!
//! One account: `GET act_<ID>/customconversions?fields=…&limit=100`, then `next` as given, but
//! only on the configured scheme, host and port (the token never goes anywhere else), with any
//! `access_token`/`appsecret_proof` copied into it removed. Cursors are never stored.
//!
//! Many accounts: the same first-page GETs go up to [`MAX_BATCH`] to a batch request, so that
//! an agency's 500 accounts take 10 round trips instead of 500 (each sub-request still counts
//! against the rate limits). Whatever a batch does not settle cleanly (a sub-request that
//! failed, was throttled or was not run; a batch answer that is not a list) is listed again on
//! its own, with the single-account path's retries, so that batching never changes what a
//! listing returns or how it fails; a page that has `next` is followed on its own. Accounts the
//! API asked to slow down are not batched. `batch_size` 1 lists one request per account.

use super::batch::{self, MAX_BATCH};
use super::client::{GraphClient, Inner};
use super::error::{ErrorKind, GraphError};
use super::live::{self, FIELDS, OPTIONAL_FIELDS};
use super::model::LiveConversion;
use super::transport::Request;
use crate::ids::AdAccountId;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::time::Instant;
use url::Url;

/// Pages per listing before the client decides the API is looping (100 conversions per
/// account, archived ones included, make a few pages at most).
const MAX_PAGES: usize = 1000;

/// Conversions of one account, each with the instant the answer that showed it arrived.
pub(crate) type Listed = Vec<(LiveConversion, Instant)>;

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
        let (batched, alone): (Vec<usize>, Vec<usize>) = (0..accounts.len())
            .partition(|&i| size > 1 && !self.inner.transport.limiter.is_paced(&accounts[i]));
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
        out.into_iter()
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
        match self.fetch_pages(account, reduced, None).await {
            Err(e) if !reduced && refuses_a_field(&e) => {
                self.transport.log(|| {
                    format!(
                        "{account}: the API refused the full field list ({}); asking again without {} (they stay unknown)",
                        e.message(),
                        OPTIONAL_FIELDS.join(", ")
                    )
                });
                let result = self.fetch_pages(account, true, None).await;
                if result.is_ok() {
                    self.reduced_fields.store(true, Ordering::Relaxed);
                }
                result
            }
            other => other,
        }
    }

    /// Several accounts' listings, their first pages in one batch request; results in order.
    /// An account whose sub-request did not succeed is listed on its own ([`fetch_all`]).
    ///
    /// [`fetch_all`]: Inner::fetch_all
    async fn fetch_batch(&self, accounts: &[AdAccountId]) -> Vec<Result<Listed, GraphError>> {
        let t = &self.transport;
        let reduced = self.reduced_fields.load(Ordering::Relaxed);
        let entries = accounts
            .iter()
            .map(|account| {
                let url = self.first_page(account, reduced);
                let path = url
                    .path()
                    .strip_prefix(t.url("").path())
                    .unwrap_or_default();
                let path = format!("{path}?{}", url.query().unwrap_or_default());
                batch::sub_request(t, Method::GET, &path, None)
            })
            .collect();
        let mut request = batch::request(t, entries, None);
        request.note = format!("first pages of {} accounts", accounts.len());
        let answers: Vec<Option<Value>> = match t.call(&request).await {
            Ok(Value::Array(entries)) if entries.len() == accounts.len() => {
                let arrived = Instant::now();
                let read = AtomicUsize::new(0);
                let read = &read;
                // Each entry is read inside its account's future, so that its page is parsed
                // into conversions and dropped before the next one is read: 50 accounts'
                // pages never sit in memory at once as JSON trees.
                let listed = futures::future::join_all(accounts.iter().zip(entries).map(
                    |(account, entry)| async move {
                        let page = batch::entry(t, &entry, Some(account), false);
                        drop(entry);
                        match page {
                            Ok(page) => {
                                read.fetch_add(1, Ordering::Relaxed);
                                self.fetch_pages(account, reduced, Some((page, arrived)))
                                    .await
                            }
                            Err(_) => self.fetch_all(account).await,
                        }
                    },
                ))
                .await;
                let ok = read.load(Ordering::Relaxed);
                t.log(|| {
                    format!(
                        "first pages of {} accounts: {ok} read from the batch, {} listed on their own",
                        accounts.len(),
                        accounts.len() - ok
                    )
                });
                return listed;
            }
            Ok(_) => {
                t.log(|| {
                    "the batch answer is not a list of one result per request: listing each account on its own".to_string()
                });
                accounts.iter().map(|_| None).collect()
            }
            // Nothing got through (no network, a wrong --api-base): asking again per account
            // would only repeat the wait, 50 times over.
            Err(e) if e.kind == ErrorKind::Network => {
                return accounts
                    .iter()
                    .map(|a| Err(e.clone().with_account(Some(a))))
                    .collect();
            }
            Err(e) => {
                t.log(|| {
                    format!(
                        "the batch of first pages failed ({e}): listing each account on its own"
                    )
                });
                accounts.iter().map(|_| None).collect()
            }
        };
        futures::future::join_all(
            accounts
                .iter()
                .zip(answers)
                .map(|(account, _)| self.fetch_all(account)),
        )
        .await
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

    /// All pages of an account from the first (asked for here, or `first`: already read with
    /// the instant it arrived), following `next`.
    async fn fetch_pages(
        &self,
        account: &AdAccountId,
        reduced: bool,
        mut first: Option<(Value, Instant)>,
    ) -> Result<Listed, GraphError> {
        let t = &self.transport;
        let mut url = self.first_page(account, reduced);
        let mut out = Vec::new();
        // Reportable fields no conversion carried so far (`None`: no conversion seen yet).
        let mut missing: Option<Vec<&str>> = None;
        let mut visited = HashSet::new();
        for page in 1..=MAX_PAGES {
            let (value, arrived) = match first.take() {
                Some(read) => read,
                None => {
                    let request = Request {
                        method: Method::GET,
                        url: url.clone(),
                        form: None,
                        account: Some(account.clone()),
                        note: format!("page {page}"),
                    };
                    let value = t
                        .call(&request)
                        .await
                        .map_err(|e| e.with_account(Some(account)))?;
                    (value, Instant::now())
                }
            };
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
                    return Err(GraphError::new(
                        ErrorKind::Protocol,
                        "the API's `data` is not a list",
                    )
                    .with_account(Some(account)));
                }
            };
            for item in data {
                out.push((
                    live::parse_conversion(item).map_err(|e| e.with_account(Some(account)))?,
                    arrived,
                ));
            }
            if !data.is_empty() {
                let here = live::missing_fields(data);
                missing = Some(match missing {
                    None => here,
                    Some(before) => before.into_iter().filter(|f| here.contains(f)).collect(),
                });
            }
            // `next` is absent on the last page, and only then: short pages may still have it.
            let next = match value.get("paging").and_then(|p| p.get("next")) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => {
                    let missing = missing.unwrap_or_default();
                    if !missing.is_empty() {
                        t.log(|| {
                            format!(
                                "{account}: no conversion in the answer carried {} (unknown: never a change)",
                                missing.join(", ")
                            )
                        });
                    }
                    return Ok(out);
                }
            };
            url = self.checked_next(account, &next)?;
            if !visited.insert(url.to_string()) {
                return Err(GraphError::new(
                    ErrorKind::Protocol,
                    "the API's paging went round in a circle (the same `next` twice)",
                )
                .with_account(Some(account)));
            }
        }
        Err(GraphError::new(
            ErrorKind::Protocol,
            format!("more than {MAX_PAGES} pages of custom conversions; stopped"),
        )
        .with_account(Some(account)))
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
