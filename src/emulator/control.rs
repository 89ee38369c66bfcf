//! What the emulator does *around* the API: request statistics (`/_emulator/stats`), seeded
//! fault decisions, per-account rate limits and the usage headers every answer carries.
//!
//! Settings that tests may change while the emulator runs (`set_faults`) are atomics, so the
//! hot path reads them without locks. This module never touches the store.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The rate-limit window (reference: `--rate-limit N` is per account per minute).
const WINDOW: Duration = Duration::from_secs(60);
/// Nominal per-account budget used for usage percentages when no `--rate-limit` is set
/// (convention: the real budget depends on the access tier).
const NOMINAL_ACCOUNT_BUDGET: u64 = 6000;
/// Nominal app budget per minute for `X-App-Usage` (convention).
const NOMINAL_APP_BUDGET: u64 = 60_000;

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
    /// Calls per account per minute; `None` = unlimited.
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

#[derive(Debug)]
struct Window {
    started: Instant,
    count: u64,
}

/// Fault dice, rate windows and usage figures.
#[derive(Debug)]
pub(crate) struct Control {
    pub(crate) stats: Stats,
    latency_ms: AtomicU64,
    fault_rate: AtomicU64,
    drop_after_commit: AtomicU64,
    rate_limit: AtomicU64,
    rng: Mutex<StdRng>,
    windows: Mutex<HashMap<String, Window>>,
    app_window: Mutex<Window>,
}

impl Control {
    pub(crate) fn new(faults: Faults, seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| rand::rng().random());
        let control = Control {
            stats: Stats::default(),
            latency_ms: AtomicU64::new(0),
            fault_rate: AtomicU64::new(0),
            drop_after_commit: AtomicU64::new(0),
            rate_limit: AtomicU64::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
            windows: Mutex::new(HashMap::new()),
            app_window: Mutex::new(Window {
                started: Instant::now(),
                count: 0,
            }),
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
        self.rate_limit
            .store(u64::from(faults.rate_limit.unwrap_or(0)), Ordering::Relaxed);
        self.windows
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub(crate) fn faults(&self) -> Faults {
        let limit = self.rate_limit.load(Ordering::Relaxed);
        Faults {
            latency_ms: self.latency_ms.load(Ordering::Relaxed),
            fault_rate: f64::from_bits(self.fault_rate.load(Ordering::Relaxed)),
            drop_after_commit: f64::from_bits(self.drop_after_commit.load(Ordering::Relaxed)),
            rate_limit: (limit > 0).then_some(limit as u32),
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

    /// Counts one call against the app and, when given, the account. `Err(minutes)` when the
    /// account is over `--rate-limit` (the call is refused, and not counted).
    pub(crate) fn admit(&self, account_digits: Option<&str>) -> Result<(), u64> {
        {
            let mut app = self.app_window.lock().unwrap_or_else(|e| e.into_inner());
            if app.started.elapsed() >= WINDOW {
                *app = Window {
                    started: Instant::now(),
                    count: 0,
                };
            }
            app.count += 1;
        }
        let Some(account) = account_digits else {
            return Ok(());
        };
        let limit = self.rate_limit.load(Ordering::Relaxed);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = match windows.get_mut(account) {
            Some(w) => w,
            None => windows.entry(account.to_string()).or_insert(Window {
                started: Instant::now(),
                count: 0,
            }),
        };
        if window.started.elapsed() >= WINDOW {
            *window = Window {
                started: Instant::now(),
                count: 0,
            };
        }
        if limit > 0 && window.count >= limit {
            self.stats.throttled();
            let left = WINDOW.saturating_sub(window.started.elapsed()).as_secs();
            return Err(left.div_ceil(60).max(1));
        }
        window.count += 1;
        Ok(())
    }

    /// The usage headers of an answer (reference: Rate-limit headers): `X-App-Usage` once the
    /// app has made a call; for an answer about an account that has been called,
    /// `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage` too. As in Meta's sample,
    /// `reset_time_duration` counts down to the end of the account's window whenever its usage
    /// is above 0 (it is not a block); `estimated_time_to_regain_access` is above 0 only while
    /// the account is over `--rate-limit`.
    pub(crate) fn usage_headers(
        &self,
        account_digits: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let mut headers = Vec::with_capacity(3);
        let app_pct = {
            let app = self.app_window.lock().unwrap_or_else(|e| e.into_inner());
            if app.count == 0 {
                return headers;
            }
            (app.count * 100 / NOMINAL_APP_BUDGET).min(100)
        };
        headers.push((
            "x-app-usage",
            format!(
                r#"{{"call_count":{app_pct},"total_time":{app_pct},"total_cputime":{app_pct}}}"#
            ),
        ));
        let Some(account) = account_digits else {
            return headers;
        };
        let limit = self.rate_limit.load(Ordering::Relaxed);
        let budget = if limit > 0 {
            limit
        } else {
            NOMINAL_ACCOUNT_BUDGET
        };
        let (pct, reset_secs, regain_secs) = {
            let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
            let Some(w) = windows.get(account) else {
                return headers;
            };
            let left = WINDOW.saturating_sub(w.started.elapsed());
            if left.is_zero() || w.count == 0 {
                (0.0, 0, 0)
            } else {
                let pct = (w.count as f64 * 100.0 / budget as f64).min(100.0);
                let reset = left.as_secs().max(1);
                let regain = if limit > 0 && w.count >= limit {
                    reset
                } else {
                    0
                };
                (pct, reset, regain)
            }
        };
        let pct = (pct * 100.0).round() / 100.0;
        headers.push((
            "x-ad-account-usage",
            format!(
                r#"{{"acc_id_util_pct":{pct},"reset_time_duration":{reset_secs},"ads_api_access_tier":"standard_access"}}"#
            ),
        ));
        let p = pct.round() as u64;
        headers.push((
            "x-business-use-case-usage",
            format!(
                r#"{{"{account}":[{{"type":"ads_management","call_count":{p},"total_cputime":{},"total_time":{},"estimated_time_to_regain_access":{}}}]}}"#,
                p / 2,
                p / 2,
                regain_secs.div_ceil(60)
            ),
        ));
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(rate: f64, limit: Option<u32>) -> Faults {
        Faults {
            latency_ms: 0,
            fault_rate: rate,
            drop_after_commit: rate,
            rate_limit: limit,
        }
    }

    #[test]
    fn seeded_dice_repeat() {
        let a = Control::new(faults(0.5, None), Some(7));
        let b = Control::new(faults(0.5, None), Some(7));
        let ra: Vec<_> = (0..50).map(|_| a.roll_fault()).collect();
        let rb: Vec<_> = (0..50).map(|_| b.roll_fault()).collect();
        assert_eq!(ra, rb);
        assert!(ra.iter().any(Option::is_some) && ra.iter().any(Option::is_none));
    }

    #[test]
    fn rate_limit_per_account() {
        let c = Control::new(faults(0.0, Some(2)), None);
        assert!(c.admit(Some("1")).is_ok());
        assert!(c.admit(Some("1")).is_ok());
        assert_eq!(c.admit(Some("1")), Err(1));
        assert!(c.admit(Some("2")).is_ok());
        let headers = c.usage_headers(Some("1"));
        let buc: Value = serde_json::from_str(&headers[2].1).unwrap();
        assert_eq!(buc["1"][0]["estimated_time_to_regain_access"], 1);
        let acc: Value = serde_json::from_str(&headers[1].1).unwrap();
        assert_eq!(acc["acc_id_util_pct"], 100.0);
        let reset = acc["reset_time_duration"].as_u64().unwrap();
        assert!((1..=60).contains(&reset), "{acc}");
    }

    /// Usage headers once called; `reset_time_duration` counts down while usage is above 0;
    /// the regain figure stays 0 below the limit.
    #[test]
    fn usage_headers_once_called_with_a_reset_that_counts_down() {
        let c = Control::new(faults(0.0, None), None);
        assert!(
            c.usage_headers(Some("7")).is_empty(),
            "nothing before any call"
        );
        c.admit(Some("8")).unwrap();
        let only_app = c.usage_headers(Some("7"));
        assert_eq!(
            only_app.len(),
            1,
            "account 7 was never called: {only_app:?}"
        );
        c.admit(Some("7")).unwrap();
        let headers = c.usage_headers(Some("7"));
        assert_eq!(headers.len(), 3);
        let acc: Value = serde_json::from_str(&headers[1].1).unwrap();
        assert!(acc["acc_id_util_pct"].as_f64().unwrap() > 0.0);
        let reset = acc["reset_time_duration"].as_u64().unwrap();
        assert!(
            (59..=60).contains(&reset),
            "counts down from the window's end: {acc}"
        );
        let buc: Value = serde_json::from_str(&headers[2].1).unwrap();
        assert_eq!(buc["7"][0]["estimated_time_to_regain_access"], 0);
    }
}
