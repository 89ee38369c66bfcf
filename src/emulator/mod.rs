//! A local Graph API (docs/api-fidelity.md), faithful to reference/graph-api.md, for tests, for
//! `--sandbox` and for users who want to try convctl without a Meta account.
//!
//! Owns the HTTP server (axum), the in-memory state (optionally persisted atomically), the
//! custom conversions edge and node, batch requests, authentication checks, usage headers,
//! rate limits, fault injection and the Conversions API endpoint. It shares `rule` with the rest
//! of convctl and never calls out to the network.
//!
//! Layout: `api` answers one Graph request against the `store`; `batch` runs many; `http` is
//! the axum face (latency, faults, dropped connections, `/_emulator/*`); `control` holds stats
//! and dice; `limits` Meta's limits on each account (the access tier's score, the Business Use
//! Case budget) and the usage headers that report them; `fields` pre-renders answers; `request`
//! parses what arrives.
//!
//! Test routes (no token needed, not counted in stats):
//! - `GET /_emulator/stats`, `GET /_emulator/state` (the saved document: times in unix seconds);
//! - `POST /_emulator/conversions` with a JSON object or array of [`SeedConversion`] — inserts
//!   straight into the state, ignoring `--cap`, limits and faults; answers `{"ids":[...]}`;
//! - `POST /_emulator/conversions/<ID>` with `{"is_archived","is_unavailable"}` (either may be
//!   left out) — what Events Manager (archiving) or Meta (flagging) does to a conversion;
//! - `POST /_emulator/faults` with any of `{"latency_ms","fault_rate","drop_after_commit",
//!   "rate_limit"}` (0 = the tier's budget) to change faults while running.
//!
//! Versions follow the version calendar (`model::api_versions`) on the emulator's day
//! ([`EmulatorConfig::today`], else the real date): a version is served from its release to its
//! expiry (Meta's published date, else 90 days after its successor) and answers code 2635
//! from then on, except on the Conversions API (`/events`), which keeps it two years after its
//! successor (Meta's Conversions API reference). Older versions are retired; unknown or
//! unreleased ones answer code 2500. Paths without a version are taken as the current one.
//!
//! Limits (`limits`): every call about an account counts in its ad-account score (reads 1,
//! writes 3, each batch entry and each id of `?ids=`); at the maximum of the tier (`--tier`,
//! standard by default: 9000; development: 60) code 17/2446079 and a block; the Business Use
//! Case budget (or `--rate-limit`) answers 80004. Every answer about an account carries
//! `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`, errors and injected faults included
//! (a throttling fault's are those of a blocked account); none carries `X-App-Usage`.

//! # Strict profile
//! `--strict` (`EmulatorConfig::strict`; `--sandbox` takes it from `CONVCTL_SANDBOX_STRICT=1`):
//! wherever the real API's behaviour is uncertain, the less convenient reading
//! (docs/api-fidelity.md): reading `event_source_id`, `action_source_type` or `advanced_rule`
//! is refused with code 100 "Tried accessing nonexisting field (...) on node type
//! (CustomConversion)"; pages hold at most 25 whatever `limit` asks (with `next`); the entries
//! of a batch past the 40th come back `null` (not run); creates always answer
//! `is_custom_event_type_predicted`; a create whose rule is on `event` alone is refused
//! (code 100 subcode 1760020); and `--unique-rules`. `--rewrite-rules`
//! (`EmulatorConfig::rewrite_rules`) stores every created rule with its `eq` string values
//! lower-cased.
//!
//! # Refused deletes, duplicate rules, frozen and flagged conversions
//! `--refuse-deletes` (`CONVCTL_SANDBOX_REFUSE_DELETES=1`): every `DELETE` of a custom
//! conversion answers code 200 "Permissions error", as most apps meet the real API; kept out of
//! `--strict` because a client's results legitimately differ (it retires instead of deleting).
//! `--unique-rules` (`CONVCTL_SANDBOX_UNIQUE_RULES=1`, part of `--strict`): a create whose rule
//! means the same as the rule of a conversion of the account, archived and renamed ones
//! included, answers code 100 subcode 1760002. In every profile, as documented: an archived
//! conversion is frozen (an edit answers code 100), `is_archived` in an update is accepted and
//! changes nothing, and a flagged one (`is_unavailable`) refuses every edit with code 2700000
//! subcode 2460004.
//!
//! Accepted as the official SDKs send it: an `id` equal to the path's id in update bodies and
//! delete queries; `GET /?ids=a,b&fields=...` (answered keyed by id); JSON bodies as well as
//! form and multipart bodies; the token in the `Authorization` header, the query, a form or a
//! JSON body.

mod api;
mod api_error;
mod batch;
mod connections;
mod control;
mod error;
mod fields;
mod http;
mod limits;
mod request;
mod store;

pub use crate::file_io::LockError;
pub use control::Faults;
pub use error::{EmulatorError, SeedError, StateError, TokenScopeError};
pub use fields::graph_datetime;
pub use http::{ConversionMarks, SeedConversion};

use crate::file_io::StateLock;
use crate::model::access_tier::AccessTier;
use crate::model::ids::AdAccountId;
use api::Emulator;
use control::Control;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long after a write the state is saved (writes in between are saved together).
const SAVE_DEBOUNCE: Duration = Duration::from_millis(200);
/// How long a second process waits for a state file another one holds (see `StateLock`).
pub const STATE_LOCK_WAIT: Duration = Duration::from_secs(10);
/// How long a connection may take to send a request's head, from its opening or from the
/// request's first byte (hyper's own default length).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections served at once: well below the usual limit of 1,024 open files.
pub const MAX_CONNECTIONS: usize = 512;
/// The shortest `--score-window`: shorter windows than this are below the clock's use.
const MIN_SCORE_WINDOW: Duration = Duration::from_millis(10);

/// Everything `convctl emulator` and `--sandbox` can set.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Load at start when it exists; save atomically after writes and at shutdown.
    pub state_file: Option<PathBuf>,
    /// Accepted tokens; empty = any non-empty token. `T:act_1,act_2` accepts `T` for those
    /// accounts only (code 200 on any other); a bare `T` sees every account.
    pub tokens: Vec<String>,
    /// When set, every call needs a valid `appsecret_proof`.
    pub app_secret: Option<String>,
    /// Accounts that exist; empty = every `act_<digits>`.
    pub accounts: Vec<AdAccountId>,
    /// Custom conversions per account (archived ones count).
    pub cap: usize,
    pub latency_ms: u64,
    /// Fraction of requests failing before doing anything (transient errors, and throttles
    /// carrying the usage headers of an account just blocked).
    pub fault_rate: f64,
    /// Fraction of committed writes answered with HTTP 500 or a dropped connection.
    pub drop_after_commit: f64,
    /// Calls per account per minute, then code 80004 (instead of the tier's Business Use Case
    /// budget of calls per hour).
    pub rate_limit: Option<u32>,
    /// The app's ads API access tier: the ad-account score and Business Use Case budget each
    /// account gets (`--tier`; standard by default).
    pub tier: AccessTier,
    /// The time the ad-account score takes to decay from its maximum to 0 (`--score-window`;
    /// Meta's 300 s by default). Shorter for tests: the blocks and the Business Use Case hour
    /// shrink in proportion.
    pub score_window: Duration,
    /// The day the version calendar is judged by (`None`: the real date, UTC).
    pub today: Option<jiff::civil::Date>,
    /// Makes faults and trace ids repeatable.
    pub seed: Option<u64>,
    /// DELETE archives instead of removing.
    pub delete_archives: bool,
    /// DELETE of a custom conversion answers code 200 (permissions error), as it does for
    /// ordinary apps on the real API (reference: Custom conversions).
    pub refuse_deletes: bool,
    /// A create whose rule means the same as the rule of a conversion the account holds
    /// (archived and renamed ones included) answers code 100, subcode 1760002 (reference:
    /// Custom conversions). Part of `strict`.
    pub unique_rules: bool,
    /// Where the real API's behaviour is uncertain, the less convenient reading (see
    /// [`strict`](crate::emulator#strict-profile)).
    pub strict: bool,
    /// Store every created rule with its `eq` string values lower-cased (a rewrite convctl does
    /// not know is equivalent: tests the check after apply).
    pub rewrite_rules: bool,
    /// How long to wait for a state file another process holds before refusing to start
    /// ([`STATE_LOCK_WAIT`]).
    pub state_lock_wait: Duration,
    /// A connection that does not send a request's head within this is closed
    /// ([`HEADER_TIMEOUT`]).
    pub header_timeout: Duration,
    /// Connections served at once; more wait to be accepted ([`MAX_CONNECTIONS`]).
    pub max_connections: usize,
}

impl fmt::Debug for EmulatorConfig {
    /// Never prints tokens or the app secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("state_file", &self.state_file)
            .field("tokens", &format_args!("[{} redacted]", self.tokens.len()))
            .field(
                "app_secret",
                &self.app_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("accounts", &self.accounts)
            .field("cap", &self.cap)
            .field("latency_ms", &self.latency_ms)
            .field("fault_rate", &self.fault_rate)
            .field("drop_after_commit", &self.drop_after_commit)
            .field("rate_limit", &self.rate_limit)
            .field("tier", &self.tier)
            .field("score_window", &self.score_window)
            .field("today", &self.today)
            .field("seed", &self.seed)
            .field("delete_archives", &self.delete_archives)
            .field("refuse_deletes", &self.refuse_deletes)
            .field("unique_rules", &self.unique_rules)
            .field("strict", &self.strict)
            .field("rewrite_rules", &self.rewrite_rules)
            .field("state_lock_wait", &self.state_lock_wait)
            .field("header_timeout", &self.header_timeout)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            state_file: None,
            tokens: Vec::new(),
            app_secret: None,
            accounts: Vec::new(),
            cap: crate::ACCOUNT_CAP,
            latency_ms: 0,
            fault_rate: 0.0,
            drop_after_commit: 0.0,
            rate_limit: None,
            tier: AccessTier::default(),
            score_window: crate::model::access_tier::DECAY_WINDOW,
            today: None,
            seed: None,
            delete_archives: false,
            refuse_deletes: false,
            unique_rules: false,
            strict: false,
            rewrite_rules: false,
            state_lock_wait: STATE_LOCK_WAIT,
            header_timeout: HEADER_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

impl EmulatorConfig {
    /// Checks fractions and limits; the error says which option is wrong.
    pub(crate) fn validate(&self) -> Result<(), EmulatorError> {
        for (option, value) in [
            ("--fault-rate", self.fault_rate),
            ("--drop-after-commit", self.drop_after_commit),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(EmulatorError::NotAFraction { option, value });
            }
        }
        if self.rate_limit == Some(0) {
            return Err(EmulatorError::ZeroRateLimit);
        }
        if self.score_window < MIN_SCORE_WINDOW {
            return Err(EmulatorError::ScoreWindow(self.score_window));
        }
        for entry in &self.tokens {
            api::parse_token_scope(entry)?;
        }
        Ok(())
    }

    /// `--unique-rules`, alone or as part of `--strict`.
    pub(crate) fn refuses_duplicate_rules(&self) -> bool {
        self.unique_rules || self.strict
    }

    fn faults(&self) -> Faults {
        Faults {
            latency_ms: self.latency_ms,
            fault_rate: self.fault_rate,
            drop_after_commit: self.drop_after_commit,
            rate_limit: self.rate_limit,
        }
    }
}

/// A running emulator. Dropping it without `shutdown` leaves the server running until the
/// tokio runtime ends (state is then not saved); its state file stays locked until then.
pub struct RunningEmulator {
    addr: SocketAddr,
    emulator: Arc<Emulator>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
    saver: Option<JoinHandle<()>>,
    /// Held from before the state is loaded until after it is saved for the last time.
    _state_lock: Option<StateLock>,
}

/// Starts the emulator on `listen` (use `127.0.0.1:0` for an ephemeral port).
///
/// With a state file, the file is locked for the emulator's whole life (another process
/// waiting for it waits at most `state_lock_wait`, then is refused), loaded when it exists,
/// and saved at once: a path where the state cannot be saved is refused now, not found out at
/// the end with the session's state lost.
pub async fn start(
    config: EmulatorConfig,
    listen: SocketAddr,
) -> Result<RunningEmulator, EmulatorError> {
    config.validate()?;
    let (state_lock, store) = match config.state_file.clone() {
        Some(path) => {
            let wait = config.state_lock_wait;
            tokio::task::spawn_blocking(move || open_state(&path, wait))
                .await
                .map_err(StateError::SaveTask)??
        }
        None => (None, Store::new()),
    };
    let account_limits = limits::Limits::new(config.tier, config.score_window, config.rate_limit);
    let control = Control::new(config.faults(), config.seed, account_limits);
    let limits = connections::Limits {
        header_timeout: config.header_timeout,
        max_connections: config.max_connections,
    };
    let emulator = Arc::new(Emulator::new(config, store, control));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| EmulatorError::Listen {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(EmulatorError::Server)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = http::router(emulator.clone());
    let server = tokio::spawn(connections::serve(listener, app, limits, stopped));
    let saver = emulator.config.state_file.clone().map(|path| {
        let emulator = emulator.clone();
        tokio::spawn(async move {
            loop {
                emulator.save_wanted.notified().await;
                tokio::time::sleep(SAVE_DEBOUNCE).await;
                if emulator.dirty.swap(false, Ordering::AcqRel)
                    && let Err(e) = save(&emulator, &path).await
                {
                    eprintln!("emulator: {e}");
                }
            }
        })
    });
    Ok(RunningEmulator {
        addr,
        emulator,
        stop: Some(stop),
        server,
        saver,
        _state_lock: state_lock,
    })
}

/// Locks the state file, loads it when it exists, and saves it back (see [`start`]).
fn open_state(path: &Path, wait: Duration) -> Result<(Option<StateLock>, Store), StateError> {
    let lock = StateLock::acquire(path, wait)?;
    let store = match std::fs::symlink_metadata(path) {
        Ok(_) => Store::load(path)?,
        Err(_) => Store::new(),
    };
    store::save_atomically(path, store.to_json().as_bytes())?;
    Ok((Some(lock), store))
}

async fn save(emulator: &Arc<Emulator>, path: &Path) -> Result<(), StateError> {
    let text = emulator
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .to_json();
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || store::save_atomically(&path, text.as_bytes()))
        .await
        .map_err(StateError::SaveTask)?
}

fn stats_json(emulator: &Emulator) -> serde_json::Value {
    let conversions = emulator
        .store
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .len();
    emulator.control.stats.to_json(conversions)
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the `--api-base` that points convctl (or an SDK) here.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets answers in flight finish (at most 5 s), then saves the state.
    pub async fn shutdown(mut self) -> Result<(), EmulatorError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(Duration::from_secs(5), &mut self.server).await {
            Ok(joined) => joined
                .map_err(EmulatorError::ServerTask)?
                .map_err(EmulatorError::Server)?,
            Err(_) => self.server.abort(),
        }
        if let Some(saver) = self.saver.take() {
            saver.abort();
        }
        if let Some(path) = self.emulator.config.state_file.clone() {
            save(&self.emulator, &path).await?;
        }
        Ok(())
    }

    /// The same document as `GET /_emulator/stats`.
    pub fn stats(&self) -> serde_json::Value {
        stats_json(&self.emulator)
    }

    /// The same document as `GET /_emulator/state`.
    pub fn state(&self) -> serde_json::Value {
        let text = self
            .emulator
            .store
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .to_json();
        serde_json::from_str(&text).unwrap_or_default()
    }

    /// Puts a conversion straight into the state (no token, cap, rate limit or fault applies);
    /// returns its id. Same as `POST /_emulator/conversions`.
    pub fn insert_conversion(&self, conversion: SeedConversion) -> Result<String, SeedError> {
        let ids = http::seed(&self.emulator, vec![conversion])?;
        Ok(ids.into_iter().next().unwrap_or_default())
    }

    /// Archives or flags a conversion, as Events Manager or Meta would; `false` when no
    /// conversion has this id. Same as `POST /_emulator/conversions/<ID>`.
    pub fn mark_conversion(&self, id: &str, marks: ConversionMarks) -> bool {
        http::mark(&self.emulator, id, marks)
    }

    /// Changes latency, fault rates and the rate limit while running.
    pub fn set_faults(&self, faults: Faults) -> Result<(), EmulatorError> {
        for (option, value) in [
            ("fault_rate", faults.fault_rate),
            ("drop_after_commit", faults.drop_after_commit),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(EmulatorError::NotAFraction { option, value });
            }
        }
        self.emulator.control.set_faults(faults);
        Ok(())
    }
}
