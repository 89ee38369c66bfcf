//! Reading: every custom conversion of an account, all pages, exactly the fields needed, and
//! for many accounts the first pages in batches.
//!
//! One account: `GET act_<ID>/customconversions?fields=…&limit=100`, then `next` as given, but
//! only on the configured scheme, host and port (the token never goes anywhere else), with any
//! `access_token`/`appsecret_proof` copied into it removed. Cursors are never stored.
//!
//! Whether the API reads back the fields whose readability is undocumented
//! ([`OPTIONAL_FIELDS`]) is learnt once per run ([`FieldKnowledge`]): the first listing asks
//! for them alone (a lone account, or, when many accounts take several batches, the first of
//! them on its own) while every other listing waits for its answer; a refusal makes every
//! later request leave them out (they stay unknown), an answer makes every later one ask for
//! them. Without this, a strict API would refuse each of the run's first concurrent requests.
//!
//! Many accounts: the same first-page GETs go up to [`MAX_BATCH`] to a batch request, so that
//! an agency's 500 accounts take 10 round trips instead of 500 (each sub-request still counts
//! against the rate limits; a batch about many accounts takes a global slot only). Batches go
//! in rounds: every batch of a round is sent at once, every entry is settled as the
//! single-account path would settle that answer, and whatever must be asked again (an unrun
//! `null` entry, a throttled or failed-for-now one, a refusal of the optional fields) from all
//! the round's batches is cut into the next round's batches, after one backoff. So a few unrun
//! entries in each of ten batches cost one more round trip, not ten. A page is read and its
//! `next` followed on its own. An account whose batch could not be had in [`batch::BATCH_ATTEMPTS`]
//! rounds, or whose batch was refused as a whole, is listed on its own (with its own
//! retries), unless no connection could be made at all. Accounts the API asked to slow down
//! are not batched. `batch_size` 1 lists one request per account.

use super::batch::{self, MAX_BATCH, Rounds};
use super::client::{GraphClient, Inner};
use super::decode::{self, FIELDS, OPTIONAL_FIELDS};
use super::error::{ErrorKind, GraphError};
use super::transport::{FailedAttempt, Request};
use crate::model::LiveConversion;
use crate::model::access_tier::READ_POINTS;
use crate::model::ids::AdAccountId;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Pages per listing before the client decides the API is looping (100 conversions per
/// account, archived ones included, make a few pages at most).
const MAX_PAGES: usize = 1000;

/// Conversions of one account, each with the instant the answer that showed it arrived.
pub(crate) type Listed = Vec<(LiveConversion, Instant)>;

/// What this run knows about reading back the optional fields (learnt once per run).
#[derive(Default)]
pub(crate) struct FieldKnowledge {
    /// [`UNKNOWN`], [`READABLE`] or [`REFUSED`].
    state: AtomicU8,
    /// Held by the listing that finds out, while the others wait.
    probe: tokio::sync::Mutex<()>,
}

const UNKNOWN: u8 = 0;
const READABLE: u8 = 1;
const REFUSED: u8 = 2;

impl FieldKnowledge {
    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Ask without the optional fields?
    pub(crate) fn reduced(&self) -> bool {
        self.state() == REFUSED
    }

    fn is_unknown(&self) -> bool {
        self.state() == UNKNOWN
    }

    fn learn(&self, readable: bool) {
        // A refusal is final; an answer does not undo it.
        let new = if readable { READABLE } else { REFUSED };
        let _ = self
            .state
            .compare_exchange(UNKNOWN, new, Ordering::AcqRel, Ordering::Acquire);
        if !readable {
            self.state.store(REFUSED, Ordering::Release);
        }
    }
}

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
        let inner = &self.inner;
        let size = inner.batch_size.min(MAX_BATCH);
        let mut out: Vec<Option<Result<Listed, GraphError>>> =
            (0..accounts.len()).map(|_| None).collect();
        let (mut batched, mut alone): (Vec<usize>, Vec<usize>) =
            (0..accounts.len()).partition(|&i| {
                size > 1
                    && !inner.transport.limiter.is_paced(&accounts[i])
                    // A batch carries one token: an account with its own is listed alone.
                    && !inner.transport.has_own_token(&accounts[i])
            });
        // When the listing takes several batches, find out first, on one account, whether the
        // optional fields are read back: every batch then asks for the right fields, instead of
        // each being refused once. (One batch finds out by itself at the same cost.)
        if batched.len() > size && inner.fields.is_unknown() {
            let first = batched[0];
            if let Some(result) = inner.probe_fields(&accounts[first]).await {
                out[first] = Some(result);
                batched.remove(0);
            }
        }
        // A lone account gains nothing from a batch: a plain request is the same round trip.
        if batched.len() == 1 {
            alone.append(&mut batched);
        }
        let lone = alone.into_iter().map(|i| {
            let (inner, account) = (inner.clone(), accounts[i].clone());
            let task = tokio::spawn(async move { inner.fetch_all(&account).await });
            async move {
                let result = task
                    .await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                (i, result)
            }
        });
        let in_batches = inner.list_in_batches(accounts, batched, size);
        let (lone, in_batches) =
            futures::future::join(futures::future::join_all(lone), in_batches).await;
        for (i, result) in lone.into_iter().chain(in_batches) {
            out[i] = Some(result);
        }
        all_settled(out)
            .into_iter()
            .zip(accounts)
            .map(|(result, account)| {
                result.map(|listed| {
                    inner.remember(account, &listed);
                    listed.into_iter().map(|(c, _)| c).collect()
                })
            })
            .collect()
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
    ) && (message.contains("field") || OPTIONAL_FIELDS.iter().any(|f| message.contains(f)))
}

/// How one account's first page came out of a round of batches.
enum Settled {
    /// Read: pages to follow on its own.
    Started(Pages),
    /// Final: that account's result.
    Done(Result<Listed, GraphError>),
    /// Ask again in the next round (`wait`: what the API asked; `error`: why).
    Again {
        wait: Option<Duration>,
        error: Option<GraphError>,
    },
    /// List it on its own.
    Alone,
}

/// The outcome of one batch request of a round: per account index, how it settled; and
/// whether no connection could be made at all.
struct BatchOutcome {
    settled: Vec<(usize, Settled)>,
    unreachable: Option<GraphError>,
}

impl Inner {
    /// Every conversion of the account with the instant its page arrived; records nothing.
    pub(crate) async fn fetch_all(&self, account: &AdAccountId) -> Result<Listed, GraphError> {
        // While the optional fields are not known to be readable or refused, one listing at a
        // time finds out; the others wait here and then know.
        let probe = if self.fields.is_unknown() {
            let guard = self.fields.probe.lock().await;
            self.fields.is_unknown().then_some(guard)
        } else {
            None
        };
        let reduced = self.fields.reduced();
        let result = match self.fetch_pages(account, reduced).await {
            Err(e) if !reduced && refuses_a_field(&e) => {
                self.log_refused_fields(account, &e);
                self.fields.learn(false);
                drop(probe);
                return self.fetch_pages(account, true).await;
            }
            other => other,
        };
        if result.is_ok() && !reduced {
            self.fields.learn(true);
        }
        result
    }

    /// The first listing of a run, asked alone with the optional fields: `Some(result)` when
    /// it settled the account (read, or failed for another reason), `None` when the API
    /// refused the fields (now known; the account is to be listed with the others).
    async fn probe_fields(&self, account: &AdAccountId) -> Option<Result<Listed, GraphError>> {
        let _probe = self.fields.probe.lock().await;
        if !self.fields.is_unknown() {
            return None;
        }
        match self.fetch_pages(account, false).await {
            Err(e) if refuses_a_field(&e) => {
                self.log_refused_fields(account, &e);
                self.fields.learn(false);
                None
            }
            Ok(listed) => {
                self.fields.learn(true);
                Some(Ok(listed))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Says (with `--verbose`) that the API would not read back the optional fields.
    fn log_refused_fields(&self, account: &AdAccountId, e: &GraphError) {
        self.transport.log(|| {
            format!(
                "{account}: the API refused the full field list ({}); asking again without {}, for the rest of the run (they stay unknown)",
                e.message(),
                OPTIONAL_FIELDS.join(", ")
            )
        });
    }

    /// The listings of `accounts[i]` for every `i` in `indices`, their first pages in rounds of
    /// batches of up to `size` (see the module documentation); results by index.
    async fn list_in_batches(
        self: &Arc<Self>,
        accounts: &[AdAccountId],
        indices: Vec<usize>,
        size: usize,
    ) -> Vec<(usize, Result<Listed, GraphError>)> {
        let t = &self.transport;
        let total = indices.len();
        if total == 0 {
            return Vec::new();
        }
        let mut done: Vec<(usize, Result<Listed, GraphError>)> = Vec::with_capacity(total);
        let mut started: Vec<(usize, Pages)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let mut pending = indices;
        let mut rounds = Rounds::new(t);
        while !pending.is_empty() {
            let deadline = rounds.start();
            let outcomes = self.send_round(accounts, &pending, size, deadline).await;
            let mut again = Vec::new();
            let mut server_wait: Option<Duration> = None;
            let mut why: Option<GraphError> = None;
            let mut unreachable = None;
            for outcome in outcomes {
                unreachable = unreachable.or(outcome.unreachable);
                for (i, settled) in outcome.settled {
                    match settled {
                        Settled::Started(pages) => started.push((i, pages)),
                        Settled::Done(result) => done.push((i, result)),
                        Settled::Alone => alone.push(i),
                        Settled::Again { wait, error } => {
                            server_wait = server_wait.max(wait);
                            why = why.or(error);
                            again.push(i);
                        }
                    }
                }
            }
            if let Some(e) = unreachable {
                match rounds.backoff().next_unreachable() {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        pending = again;
                        continue;
                    }
                    None => {
                        let e = rounds.backoff().exhausted(e);
                        done.extend(
                            again
                                .into_iter()
                                .map(|i| (i, Err(e.clone().with_account(Some(&accounts[i]))))),
                        );
                        break;
                    }
                }
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
            // A refusal of the optional fields alone is asked again at once; anything else
            // waits out the backoff (or the API's wait), and gives up after a few rounds.
            if let Some(error) = why {
                let what = format!("the first pages of {} accounts", pending.len());
                rounds
                    .after_failures(
                        t,
                        &error,
                        server_wait,
                        &what,
                        "listing each on its own",
                        &mut pending,
                        &mut alone,
                    )
                    .await;
            }
        }
        t.log(|| {
            format!(
                "first pages of {total} accounts: {} read from the batch, {} listed on their own ({} round(s) of batches)",
                started.len(),
                alone.len(),
                rounds.count()
            )
        });
        self.finish_listings(accounts, started, alone, done).await
    }

    /// One round: the pending accounts cut into batches, all sent at once (one task each, so
    /// that parsing spreads over the runtime's threads; the limiter bounds what is in flight).
    async fn send_round(
        self: &Arc<Self>,
        accounts: &[AdAccountId],
        pending: &[usize],
        size: usize,
        deadline: Instant,
    ) -> Vec<BatchOutcome> {
        let tasks = pending.chunks(size.max(1)).map(|chunk| {
            let inner = Arc::clone(self);
            let members: Vec<(usize, AdAccountId)> =
                chunk.iter().map(|&i| (i, accounts[i].clone())).collect();
            let task = tokio::spawn(async move { inner.send_batch(members, deadline).await });
            async move {
                task.await
                    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
            }
        });
        futures::future::join_all(tasks).await
    }

    /// One batch of first pages, sent and settled entry by entry.
    async fn send_batch(
        &self,
        members: Vec<(usize, AdAccountId)>,
        deadline: Instant,
    ) -> BatchOutcome {
        let t = &self.transport;
        let reduced = self.fields.reduced();
        let entries = members
            .iter()
            .map(|(_, account)| {
                let url = self.first_page(account, reduced);
                let path = url
                    .path()
                    .strip_prefix(t.url("").path())
                    .unwrap_or_default();
                let path = format!("{path}?{}", url.query().unwrap_or_default());
                batch::sub_request(t, Method::GET, &path, None)
            })
            .collect();
        let mut request = batch::request(t, entries, None, 0);
        request.many_accounts = true;
        request.note = format!("first pages of {} accounts", members.len());
        let answer = t.attempt(&request, false, deadline).await;
        drop(request);
        let whole = |settled: &dyn Fn() -> Settled| BatchOutcome {
            settled: members.iter().map(|(i, _)| (*i, settled())).collect(),
            unreachable: None,
        };
        match answer {
            Ok(Value::Array(entries)) if entries.len() == members.len() => {
                self.settle_entries(&members, entries, reduced)
            }
            Ok(_) => {
                t.log(|| "the batch answer is not a list of one result per request: listing each account on its own".to_string());
                whole(&|| Settled::Alone)
            }
            Err(FailedAttempt::Unreachable(e)) => BatchOutcome {
                settled: members
                    .iter()
                    .map(|(i, _)| {
                        (
                            *i,
                            Settled::Again {
                                wait: None,
                                error: None,
                            },
                        )
                    })
                    .collect(),
                unreachable: Some(e),
            },
            Err(FailedAttempt::Fatal(e)) => {
                t.log(|| format!("the batch of first pages was refused ({e}): listing each account on its own"));
                whole(&|| Settled::Alone)
            }
            Err(failure) => {
                let wait = failure.wait();
                let error = failure.into_error();
                whole(&|| Settled::Again {
                    wait,
                    error: Some(error.clone()),
                })
            }
        }
    }

    /// Each entry of a batch answer settled like a page of the single-account path. Each page
    /// is parsed into conversions and dropped before the next is read: 50 accounts' pages
    /// never sit in memory at once as JSON trees.
    fn settle_entries(
        &self,
        members: &[(usize, AdAccountId)],
        entries: Vec<Value>,
        reduced: bool,
    ) -> BatchOutcome {
        let t = &self.transport;
        let arrived = Instant::now();
        let mut settled = Vec::with_capacity(members.len());
        for ((i, account), entry) in members.iter().zip(entries) {
            let usage = batch::entry_usage(&entry);
            t.limiter.record(Some(account), &usage);
            let page = batch::entry(t, &entry, &usage, Some(account), false);
            drop(entry);
            let outcome = match page {
                Ok(page) => {
                    if !reduced {
                        self.fields.learn(true);
                    }
                    let mut pages = Pages::default();
                    match self.read_page(account, page, arrived, &mut pages) {
                        Ok(()) => Settled::Started(pages),
                        Err(e) => Settled::Done(Err(e)),
                    }
                }
                Err(FailedAttempt::Fatal(e)) if !reduced && refuses_a_field(&e) => {
                    self.log_refused_fields(account, &e);
                    self.fields.learn(false);
                    Settled::Again {
                        wait: None,
                        error: None,
                    }
                }
                Err(FailedAttempt::Fatal(e)) => Settled::Done(Err(e.with_account(Some(account)))),
                Err(failure) => {
                    let wait = failure.wait();
                    let error = failure.into_error();
                    t.log(|| format!("{account}: first page not read from the batch: {error}"));
                    Settled::Again {
                        wait,
                        error: Some(error),
                    }
                }
            };
            settled.push((*i, outcome));
        }
        BatchOutcome {
            settled,
            unreachable: None,
        }
    }

    /// The rest of the listings: pages after the first of those read from a batch, and the
    /// accounts listed on their own, all at once.
    async fn finish_listings(
        &self,
        accounts: &[AdAccountId],
        started: Vec<(usize, Pages)>,
        alone: Vec<usize>,
        mut done: Vec<(usize, Result<Listed, GraphError>)>,
    ) -> Vec<(usize, Result<Listed, GraphError>)> {
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
        done.extend(followed);
        done.extend(lone);
        done
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
                points: READ_POINTS,
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
                decode::parse_conversion(item).map_err(|e| e.with_account(Some(account)))?,
                arrived,
            ));
        }
        if !data.is_empty() {
            let here = decode::missing_fields(data);
            pages.missing = Some(match pages.missing.take() {
                None => here,
                Some(before) => before.into_iter().filter(|f| here.contains(f)).collect(),
            });
        }
        // `next` is absent on the last page, and only then: short pages may still have it. A
        // `paging` or `next` of the wrong type is a damaged answer, never "the last page": read
        // as the end, it would hide conversions (and a create checked against such a listing
        // would be sent again).
        let next = match value.get("paging") {
            None | Some(Value::Null) => None,
            Some(Value::Object(paging)) => match paging.get("next") {
                None | Some(Value::Null) => None,
                Some(Value::String(next)) => Some(next),
                Some(_) => {
                    return Err(damaged_paging(account, "`paging.next` is not a URL string"));
                }
            },
            Some(_) => return Err(damaged_paging(account, "`paging` is not an object")),
        };
        if let Some(next) = next
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
    pub(super) fn checked_next(
        &self,
        account: &AdAccountId,
        next: &str,
    ) -> Result<Url, GraphError> {
        let unsafe_next = |why: &str| {
            GraphError::new(
                ErrorKind::UnsafeRedirect,
                format!("the API's paging `next` link {why}; not followed, so that the token is never sent elsewhere"),
            )
            .with_account(Some(account))
        };
        let url = Url::parse(next).map_err(|_| unsafe_next("is not a URL"))?;
        if !self.transport.same_origin(&url) {
            return Err(unsafe_next(&format!(
                "points at another host than {}",
                self.transport.names.api_base
            )));
        }
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "access_token" && k != "appsecret_proof")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut clean = url;
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

/// An answer whose paging cannot be trusted.
fn damaged_paging(account: &AdAccountId, why: &str) -> GraphError {
    GraphError::new(
        ErrorKind::Protocol,
        format!("the API's list answer is damaged: {why}"),
    )
    .with_account(Some(account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{FLAG_NAMES, GraphConfig, SettingNames};
    use crate::model::Secret;

    #[test]
    fn a_next_link_elsewhere_names_the_base_setting_as_the_caller_does() {
        let refusal = |names| {
            let mut config = GraphConfig::new("http://127.0.0.1:9", Secret::new("tok"));
            config.names = names;
            let client = GraphClient::new(config).unwrap();
            let account = AdAccountId::parse("act_1").unwrap();
            let next = "http://elsewhere.example/v26.0/act_1/customconversions?after=X";
            client
                .inner
                .checked_next(&account, next)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refusal(SettingNames::default()),
            "act_1: the API's paging `next` link points at another host than the API base address; not followed, so that the token is never sent elsewhere"
        );
        assert_eq!(
            refusal(FLAG_NAMES),
            "act_1: the API's paging `next` link points at another host than --api-base; not followed, so that the token is never sent elsewhere"
        );
    }
}
