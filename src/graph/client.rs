//! [`GraphClient`]: the handle the commands hold (cheap to clone), and reading: every custom
//! conversion of an account, all pages, exactly the fields needed.
//!
//! Paging follows `next` as given, but only when it points at the configured scheme, host and
//! port (the token never goes anywhere else), with any `access_token`/`appsecret_proof` copied
//! into it removed (the header carries the token; the proof is added afresh). Cursors are never
//! stored. The client also keeps a small ledger of what it has seen and created, so that a
//! write whose answer was lost can be resolved without making a duplicate (see `write`).

use super::config::GraphConfig;
use super::error::{ErrorKind, GraphError};
use super::live::{self, FIELDS, OPTIONAL_FIELDS};
use super::model::LiveConversion;
use super::transport::{LogSink, Request, Transport};
use crate::ids::{AdAccountId, ConversionId};
use reqwest::Method;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;
use url::Url;

/// Pages per listing before the client decides the API is looping (100 conversions per
/// account, archived ones included, make a few pages at most).
const MAX_PAGES: usize = 1000;

/// The Graph API client. Clones share connections, limits and the ledger.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) batch_size: usize,
    /// Set once the API refused the optional fields: ask without them from then on.
    reduced_fields: AtomicBool,
    pub(crate) ledger: Mutex<Ledger>,
}

/// What the client learnt from listings and its own writes.
#[derive(Default)]
pub(crate) struct Ledger {
    /// Which account a conversion belongs to (so updates and deletes count against it).
    pub(crate) owner: HashMap<ConversionId, AdAccountId>,
    /// Per account: each listed id and when the answer that first showed it arrived.
    pub(crate) seen: HashMap<AdAccountId, HashMap<ConversionId, Instant>>,
    /// Ids this client created or adopted: never adopted again.
    pub(crate) claimed: HashSet<ConversionId>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("api_base", &self.inner.transport.base.as_str())
            .field("api_version", &self.inner.transport.version)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    pub fn new(config: GraphConfig) -> Result<GraphClient, GraphError> {
        Self::build(config, None)
    }

    /// Like [`new`](Self::new), with verbose lines sent to `sink` instead of stderr (whatever
    /// `config.verbose` says). Lines are redacted before they reach it.
    pub fn with_log_sink(config: GraphConfig, sink: LogSink) -> Result<GraphClient, GraphError> {
        Self::build(config, Some(sink))
    }

    fn build(config: GraphConfig, sink: Option<LogSink>) -> Result<GraphClient, GraphError> {
        let transport = Transport::new(&config, sink)?;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                transport,
                batch_size: config.batch_size.clamp(1, 50),
                reduced_fields: AtomicBool::new(false),
                ledger: Mutex::new(Ledger::default()),
            }),
        })
    }

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

    /// Many accounts concurrently within the parallelism limits; results in input order.
    pub async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        // One task per account (see `write_observed`); the limiter bounds what is in flight.
        let tasks = accounts.iter().map(|account| {
            let (client, account) = (self.clone(), account.clone());
            let task = tokio::spawn(async move { client.list_conversions(&account).await });
            async move {
                task.await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            }
        });
        futures::future::join_all(tasks).await
    }

    /// The API version requests go to (`v26.0`).
    pub fn api_version(&self) -> &str {
        &self.inner.transport.version
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
    pub(crate) async fn fetch_all(
        &self,
        account: &AdAccountId,
    ) -> Result<Vec<(LiveConversion, Instant)>, GraphError> {
        let reduced = self.reduced_fields.load(Ordering::Relaxed);
        match self.fetch_pages(account, reduced).await {
            Err(e) if !reduced && refuses_a_field(&e) => {
                self.transport.log(|| {
                    format!(
                        "{account}: the API refused the full field list ({}); asking again without {} (they stay unknown)",
                        e.message(),
                        OPTIONAL_FIELDS.join(", ")
                    )
                });
                let result = self.fetch_pages(account, true).await;
                if result.is_ok() {
                    self.reduced_fields.store(true, Ordering::Relaxed);
                }
                result
            }
            other => other,
        }
    }

    async fn fetch_pages(
        &self,
        account: &AdAccountId,
        reduced: bool,
    ) -> Result<Vec<(LiveConversion, Instant)>, GraphError> {
        let t = &self.transport;
        let fields: Vec<&str> = FIELDS
            .iter()
            .copied()
            .filter(|f| !reduced || !OPTIONAL_FIELDS.contains(f))
            .collect();
        let mut url = t.url(&format!("{account}/customconversions"));
        url.query_pairs_mut()
            .append_pair("fields", &fields.join(","))
            .append_pair("limit", "100");
        let mut out = Vec::new();
        let mut raw_items = Vec::new();
        let mut visited = HashSet::new();
        for page in 1..=MAX_PAGES {
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
            let arrived = Instant::now();
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
            raw_items.extend(data.iter().cloned());
            // `next` is absent on the last page, and only then: short pages may still have it.
            let next = match value.get("paging").and_then(|p| p.get("next")) {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => {
                    let missing = live::missing_fields(&raw_items);
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
