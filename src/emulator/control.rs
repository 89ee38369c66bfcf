//! What the emulator does *around* the API: request statistics (`/_emulator/stats`), seeded
//! fault decisions, and Meta's limits on each account with the usage headers every answer
//! about an account carries (`limits`).
//!
//! Settings that tests may change while the emulator runs (`set_faults`) are atomics, so the
//! hot path reads them without locks. This module never touches the store.

use super::limits::{Limits, Throttle};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Routes counted in `by_route`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    ListConversions,
    CreateConversion,
    GetConversion,
    UpdateConversion,
    DeleteConversion,
    GetAccount,
    /// `GET /?ids=a,b` (multi-object read).
    ReadMany,
    /// `GET /<id>/stats` (daily counts).
    ConversionStats,
    Events,
    Batch,
    /// Answered by `--fault-rate` before anything else happened.
    Faulted,
    Other,
}

impl Route {
    const ALL: [Route; 12] = [
        Route::ListConversions,
        Route::CreateConversion,
        Route::GetConversion,
        Route::UpdateConversion,
        Route::DeleteConversion,
        Route::GetAccount,
        Route::ReadMany,
        Route::ConversionStats,
        Route::Events,
        Route::Batch,
        Route::Faulted,
        Route::Other,
    ];

    pub(crate) fn key(self) -> &'static str {
        match self {
            Route::ListConversions => "GET /act_{id}/customconversions",
            Route::CreateConversion => "POST /act_{id}/customconversions",
            Route::GetConversion => "GET /{id}",
            Route::UpdateConversion => "POST /{id}",
            Route::DeleteConversion => "DELETE /{id}",
            Route::GetAccount => "GET /act_{id}",
            Route::ReadMany => "GET /?ids=",
            Route::ConversionStats => "GET /{id}/stats",
            Route::Events => "POST /{pixel_id}/events",
            Route::Batch => "POST / (batch)",
            Route::Faulted => "injected fault",
            Route::Other => "other",
        }
    }
}

/// How the token came (reference: authentication; counted in stats `auth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthSource {
    Header,
    Query,
    Form,
    /// `access_token` in a JSON body.
    Json,
}

/// Counters behind `GET /_emulator/stats`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    requests: AtomicU64,
    /// HTTP exchanges (a batch is one, whatever it carries): the round trips a client paid.
    http_requests: AtomicU64,
    writes: AtomicU64,
    batches: AtomicU64,
    by_route: [AtomicU64; 12],
    auth: [AtomicU64; 4],
    faults: AtomicU64,
    dropped: AtomicU64,
    throttled: AtomicU64,
    events: AtomicU64,
}

impl Stats {
    pub(crate) fn request(&self, route: Route) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let i = Route::ALL
            .iter()
            .position(|r| *r == route)
            .unwrap_or(Route::ALL.len() - 1);
        self.by_route[i].fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn http_request(&self) {
        self.http_requests.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn batch(&self) {
        self.batches.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn auth(&self, source: AuthSource) {
        self.auth[source as usize].fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn fault(&self) {
        self.faults.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn dropped(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn events(&self, n: usize) {
        self.events.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn to_json(&self, conversions: usize) -> Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut by_route = serde_json::Map::new();
        for (route, count) in Route::ALL.iter().zip(&self.by_route) {
            let n = get(count);
            if n > 0 {
                by_route.insert(route.key().to_string(), json!(n));
            }
        }
        json!({
            "requests": get(&self.requests),
            "http_requests": get(&self.http_requests),
            "writes": get(&self.writes),
            "batches": get(&self.batches),
            "by_route": by_route,
            "auth": {"header": get(&self.auth[0]), "query": get(&self.auth[1]), "form": get(&self.auth[2]), "json": get(&self.auth[3])},
            "faults_injected": get(&self.faults),
            "answers_dropped": get(&self.dropped),
            "throttled": get(&self.throttled),
            "events_received": get(&self.events),
            "conversions": conversions,
        })
    }
}

/// Fault and pacing settings that can change at run time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    pub latency_ms: u64,
    pub fault_rate: f64,
    pub drop_after_commit: f64,
    /// Calls per account per minute (instead of the tier's Business Use Case budget);
    /// `None`: the tier's budget.
    pub rate_limit: Option<u32>,
}

/// A transient failure injected before the request does anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InjectedFault {
    Code1,
    Code2,
    Code17,
    Code80004,
    /// HTTP 500 with a body that is not a Graph error (a proxy's answer).
    Http500,
}

/// What happens to the answer of a committed write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterCommit {
    Answer,
    Http500,
    DropConnection,
}

/// Fault dice, limits and usage figures.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) stats: Stats,
    latency_ms: AtomicU64,
    fault_rate: AtomicU64,
    drop_after_commit: AtomicU64,
    rng: Mutex<StdRng>,
    pub(crate) limits: Limits,
}

impl Control {
    pub(crate) fn new(faults: Faults, seed: Option<u64>, limits: Limits) -> Self {
        let seed = seed.unwrap_or_else(|| rand::rng().random());
        let control = Control {
            stats: Stats::default(),
            latency_ms: AtomicU64::new(0),
            fault_rate: AtomicU64::new(0),
            drop_after_commit: AtomicU64::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            limits,
        };
        control.set_faults(faults);
        control
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        self.latency_ms.store(faults.latency_ms, Ordering::Relaxed);
        self.fault_rate
            .store(faults.fault_rate.to_bits(), Ordering::Relaxed);
        self.drop_after_commit
            .store(faults.drop_after_commit.to_bits(), Ordering::Relaxed);
        self.limits.set_rate_limit(faults.rate_limit);
    }

    pub(crate) fn faults(&self) -> Faults {
        Faults {
            latency_ms: self.latency_ms.load(Ordering::Relaxed),
            fault_rate: f64::from_bits(self.fault_rate.load(Ordering::Relaxed)),
            drop_after_commit: f64::from_bits(self.drop_after_commit.load(Ordering::Relaxed)),
            rate_limit: self.limits.rate_limit(),
        }
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    /// Rolls the `--fault-rate` dice.
    pub(crate) fn roll_fault(&self) -> Option<InjectedFault> {
        let rate = f64::from_bits(self.fault_rate.load(Ordering::Relaxed));
        if rate <= 0.0 {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if !rng.random_bool(rate.min(1.0)) {
            return None;
        }
        self.stats.fault();
        Some(match rng.random_range(0..5u32) {
            0 => InjectedFault::Code1,
            1 => InjectedFault::Code2,
            2 => InjectedFault::Code17,
            3 => InjectedFault::Code80004,
            _ => InjectedFault::Http500,
        })
    }

    /// Rolls the `--drop-after-commit` dice for a committed write.
    pub(crate) fn roll_after_commit(&self) -> AfterCommit {
        let rate = f64::from_bits(self.drop_after_commit.load(Ordering::Relaxed));
        if rate <= 0.0 {
            return AfterCommit::Answer;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if !rng.random_bool(rate.min(1.0)) {
            return AfterCommit::Answer;
        }
        self.stats.dropped();
        if rng.random_bool(0.5) {
            AfterCommit::Http500
        } else {
            AfterCommit::DropConnection
        }
    }

    /// A trace id like the real API's (11 characters, letters and digits).
    pub(crate) fn trace_id(&self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        (0..11)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    /// Counts a call of `points` against `account` (digits), or refuses it (not counted) with
    /// the limit that did, counted in `throttled`.
    pub(crate) fn admit(&self, account: &str, points: u32) -> Result<(), Throttle> {
        self.limits.admit(account, points).inspect_err(|_| {
            self.stats.throttled();
        })
    }

    /// The usage headers of an answer about `account` (none for an answer about no account:
    /// Marketing API calls do not move the app's Graph API figures, so there is no
    /// `X-App-Usage`).
    pub(crate) fn usage_headers(&self, account: Option<&str>) -> Vec<(&'static str, String)> {
        account.map_or_else(Vec::new, |a| self.limits.headers(a).to_vec())
    }

    /// The usage headers of an injected throttling fault about `account`.
    pub(crate) fn injected_headers(
        &self,
        account: Option<&str>,
        throttle: Throttle,
    ) -> Vec<(&'static str, String)> {
        account.map_or_else(Vec::new, |a| {
            self.limits.headers_of_injected(a, throttle).to_vec()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::access_tier::AccessTier;

    fn control(rate: f64, limit: Option<u32>) -> Control {
        Control::new(
            Faults {
                latency_ms: 0,
                fault_rate: rate,
                drop_after_commit: rate,
                rate_limit: limit,
            },
            Some(7),
            Limits::new(AccessTier::Standard, Duration::from_secs(300), limit),
        )
    }

    #[test]
    fn seeded_dice_repeat() {
        let a = control(0.5, None);
        let b = control(0.5, None);
        let ra: Vec<_> = (0..50).map(|_| a.roll_fault()).collect();
        let rb: Vec<_> = (0..50).map(|_| b.roll_fault()).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(Option::is_some) && ra.iter().any(Option::is_none));
    }

    /// Refusals are counted; answers about an account carry its two usage headers, answers
    /// about none carry no usage header (no `X-App-Usage`).
    #[tokio::test]
    async fn refusals_are_counted_and_headers_are_per_account() {
        let c = control(0.0, Some(2));
        assert!(c.admit("1", 1).is_ok());
        assert!(c.admit("1", 1).is_ok());
        assert_eq!(c.admit("1", 1), Err(Throttle::BusinessUseCase));
        assert_eq!(c.stats.to_json(0)["throttled"], 1);
        let names: Vec<&str> = c.usage_headers(Some("1")).iter().map(|h| h.0).collect();
        assert_eq!(names, ["x-ad-account-usage", "x-business-use-case-usage"]);
        assert!(c.usage_headers(None).is_empty());
        c.set_faults(Faults {
            rate_limit: None,
            ..c.faults()
        });
        assert_eq!(c.faults().rate_limit, None);
        assert!(c.admit("1", 1).is_ok(), "the tier's budget again");
    }
}
