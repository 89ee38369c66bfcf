//! Settings of the Graph API client: where the API is, which token, how many requests at once,
//! how patient to be (the retry policy), and what the caller calls these settings.
//!
//! The token and the app secret arrive as [`Secret`]s (the command line reads them: see
//! `cli::session`); nothing here prints them or puts them in an error message.
//!
//! The client knows no command line: a message that asks a person to change a setting names it
//! by [`SettingNames`], which the caller supplies (the command line passes its flags).

use super::error::GraphError;
use crate::model::Secret;
use crate::model::ids::AdAccountId;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Everything the client needs to talk to the Graph API.
#[derive(Clone, Debug)]
pub struct GraphConfig {
    /// `https://graph.facebook.com`, or an emulator's address.
    pub(crate) api_base: String,
    /// `v26.0`.
    pub(crate) api_version: String,
    pub(crate) token: Secret,
    /// Tokens of their own for some accounts (an agency's clients in other Business Managers,
    /// `token_env` in their manifests): every call about such an account carries its token,
    /// the others `token`. Accounts with a token of their own are never batched with others.
    pub(crate) account_tokens: HashMap<AdAccountId, Secret>,
    /// When set, every call carries `appsecret_proof` = hex HMAC-SHA256(token, key = secret).
    pub app_secret: Option<Secret>,
    /// Requests in flight at once, across all accounts.
    pub parallelism: usize,
    /// Requests in flight at once for one ad account (so that no account is hammered).
    pub per_account_parallelism: usize,
    /// Writes per batch request (at most 50; 1 = plain requests, no batching).
    pub batch_size: usize,
    /// Log every request (method, path, status, usage, retries) to stderr; never secrets.
    pub verbose: bool,
    pub retry: RetryPolicy,
    /// How messages and hints name the settings above (neutral words unless the caller says).
    pub names: SettingNames,
}

/// What the caller calls the client's settings, for the messages and hints that ask a person to
/// change one: the command line passes its flags (`--api-base`), a program may pass its own
/// words. The graph layer never names a flag or an environment variable itself, so that its
/// messages fit whatever front end reads them.
///
/// Each name takes a flag's place in a sentence, as each field shows (`api_version` stands
/// without an article).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettingNames {
    /// The API's address: "{api_base} "ftp://x" is not an http(s) address", "check
    /// {api_base} and the network", "points at another host than {api_base}".
    pub api_base: &'static str,
    /// The Graph API version, without an article: "{api_version} "26" is not a Graph API
    /// version", "pass a current {api_version} (the newest this convctl knows is v27.0)".
    pub api_version: &'static str,
    /// Where the access token comes from: "renew the access token ({access_token})".
    pub access_token: &'static str,
    /// The number of requests in flight at once: "try again later or lower {parallelism}".
    pub parallelism: &'static str,
    /// The file every exchange is traced to: "give {trace_file} a writable path".
    pub trace_file: &'static str,
    /// Where the app secret comes from: "set {app_secret} to the secret of the token's app".
    pub app_secret: &'static str,
}

impl Default for SettingNames {
    /// Words a library user understands without knowing any command line.
    fn default() -> Self {
        SettingNames {
            api_base: "the API base address",
            api_version: "API version",
            access_token: "the token given to the client",
            parallelism: "the parallelism",
            trace_file: "the trace file",
            app_secret: "the client's app secret",
        }
    }
}

/// How patient the client is. Every logical request (one page, one batch, one write) is tried
/// at most `max_attempts` times and for at most `max_total`, waiting between attempts a random
/// time in `[0, min(max_delay, base_delay * 2^attempt)]` ("full jitter"), or what the API's
/// usage headers ask when throttled, whichever is longer.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per logical request, the first included.
    pub max_attempts: u32,
    /// Of which at most this many may fail to connect at all (refused, unknown host): a wrong
    /// `--api-base` fails in seconds, not minutes.
    pub max_connect_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Time budget of a logical request, all waits included. A throttle that asks to wait
    /// beyond it fails at once with [`ErrorKind::Throttled`](super::ErrorKind::Throttled).
    pub max_total: Duration,
    /// Time limit of one HTTP exchange as a whole: connecting, sending, the answer's headers
    /// and its whole body (not per read: a server that sends one byte a second is cut off).
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Above this usage (percent, from the usage headers) the client paces its calls.
    pub pacing_threshold_pct: f64,
    /// The pause before each call at 100% usage (scaled linearly from the threshold).
    pub pacing_max_delay: Duration,
    /// The whole command's time budget, shared by every request of the client: no exchange,
    /// backoff or throttle wait runs past its end (unlimited by default).
    pub budget: CommandBudget,
    /// Once pulled, nothing more is sent (see [`Halt`]).
    pub halt: Halt,
}

/// A command's halt switch (the command line pulls it on SIGINT or SIGTERM during an apply):
/// once pulled, no request is sent any more (each fails at once with [`ErrorKind::Halted`]),
/// waits for a slot, a pacing pause or a retry end at once, and an exchange in flight has
/// until the grace given to be answered; a write cut off then is uncertain (it may have been
/// committed), never reported as not done. Clones share one switch.
///
/// [`ErrorKind::Halted`]: super::ErrorKind::Halted
#[derive(Clone)]
pub struct Halt(Arc<tokio::sync::watch::Sender<Option<Instant>>>);

impl Default for Halt {
    fn default() -> Self {
        Halt(Arc::new(tokio::sync::watch::Sender::new(None)))
    }
}

impl Halt {
    /// Stops sending; exchanges in flight have `grace` from now to be answered. Pulling it
    /// again changes nothing.
    pub fn pull(&self, grace: Duration) {
        self.0.send_if_modified(|end| match end {
            Some(_) => false,
            None => {
                *end = Some(Instant::now() + grace);
                true
            }
        });
    }

    pub fn is_pulled(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// Completes once the switch is pulled.
    pub(crate) async fn pulled(&self) {
        let mut seen = self.0.subscribe();
        let _ = seen.wait_for(Option::is_some).await;
    }

    /// Completes once the grace of exchanges in flight is over.
    pub(crate) async fn grace_over(&self) {
        let mut seen = self.0.subscribe();
        let end = seen
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|end| *end);
        match end {
            Some(end) => tokio::time::sleep_until(end).await,
            None => std::future::pending().await,
        }
    }
}

impl PartialEq for Halt {
    /// The same switch (clones).
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Halt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Halt(pulled: {})", self.is_pulled())
    }
}

/// The whole command's time budget (the command line's `--timeout`), shared by every request:
/// each exchange ends by its deadline at the latest, retries stop before it, and an exchange
/// that would start after it is not sent. It knows which calls are waiting for an answer, so
/// that running out can say which account and call were still waiting. Clones share one budget.
#[derive(Clone, Default)]
pub struct CommandBudget(Option<Arc<BudgetInner>>);

struct BudgetInner {
    length: Duration,
    started: Mutex<Instant>,
    next: AtomicU64,
    /// Calls waiting for an answer: `GET /v26.0/act_1/customconversions (act_1)`.
    waiting: Mutex<BTreeMap<u64, String>>,
}

impl CommandBudget {
    /// No limit.
    pub(crate) fn unlimited() -> Self {
        CommandBudget(None)
    }

    /// `length` from now.
    pub fn new(length: Duration) -> Self {
        CommandBudget(Some(Arc::new(BudgetInner {
            length,
            started: Mutex::new(Instant::now()),
            next: AtomicU64::new(0),
            waiting: Mutex::new(BTreeMap::new()),
        })))
    }

    /// `length` from `started` (a command's budget starts with the command, before its
    /// inputs are read).
    pub fn started_at(length: Duration, started: std::time::Instant) -> Self {
        let budget = Self::new(length);
        if let Some(b) = &budget.0 {
            *b.started.lock().unwrap_or_else(|e| e.into_inner()) = Instant::from_std(started);
        }
        budget
    }

    /// What is left of it (`None`: unlimited).
    pub fn left(&self) -> Option<Duration> {
        self.deadline()
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The budget's length (`None`: unlimited).
    pub(crate) fn length(&self) -> Option<Duration> {
        self.0.as_ref().map(|b| b.length)
    }

    /// When it ends (`None`: never).
    pub fn deadline(&self) -> Option<Instant> {
        self.0
            .as_ref()
            .map(|b| *b.started.lock().unwrap_or_else(|e| e.into_inner()) + b.length)
    }

    /// Starts the budget again from now: time spent waiting for a person (apply's prompt) is
    /// not the API's.
    pub fn restart(&self) {
        if let Some(b) = &self.0 {
            *b.started.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    }

    /// The budget's length for a person: `10m`, `1h 30m`, `90s`.
    pub(crate) fn describe(&self) -> String {
        self.length()
            .map_or_else(|| "unlimited".to_string(), describe_duration)
    }

    /// Marks `call` as waiting for an answer until the guard is dropped.
    pub(crate) fn waiting_for(&self, call: String) -> Waiting {
        let Some(b) = &self.0 else {
            return Waiting(None);
        };
        let key = b.next.fetch_add(1, Ordering::Relaxed);
        b.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, call);
        Waiting(Some((b.clone(), key)))
    }

    /// The calls waiting for an answer now, oldest first.
    pub fn still_waiting(&self) -> Vec<String> {
        self.0.as_ref().map_or_else(Vec::new, |b| {
            b.waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .cloned()
                .collect()
        })
    }
}

/// A duration for a person, in the form `--timeout` takes (`10m`, `1h 30m`, `2.5s`).
pub fn describe_duration(d: Duration) -> String {
    match jiff::SignedDuration::try_from(d) {
        Ok(signed) => format!("{signed:#}"),
        Err(_) => format!("{} s", d.as_secs()),
    }
}

/// A call registered by [`CommandBudget::waiting_for`]; removed when dropped.
pub(crate) struct Waiting(Option<(Arc<BudgetInner>, u64)>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some((b, key)) = &self.0 {
            b.waiting
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
        }
    }
}

impl PartialEq for CommandBudget {
    /// The same budget (clones), or both unlimited.
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for CommandBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandBudget({})", self.describe())
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_connect_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            max_total: Duration::from_secs(15 * 60),
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            pacing_threshold_pct: 75.0,
            pacing_max_delay: Duration::from_secs(5),
            budget: CommandBudget::unlimited(),
            halt: Halt::default(),
        }
    }
}

impl RetryPolicy {
    /// A policy for tests and local emulators: many quick attempts, short waits, bounded time.
    pub fn fast() -> Self {
        RetryPolicy {
            max_attempts: 30,
            max_connect_attempts: 3,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(40),
            max_total: Duration::from_secs(30),
            request_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            pacing_threshold_pct: 75.0,
            pacing_max_delay: Duration::from_millis(20),
            budget: CommandBudget::unlimited(),
            halt: Halt::default(),
        }
    }
}

impl GraphConfig {
    /// A configuration with default limits and policy for `api_base` and `token`.
    pub fn new(api_base: impl Into<String>, token: Secret) -> Self {
        GraphConfig {
            api_base: api_base.into(),
            api_version: crate::DEFAULT_API_VERSION.to_string(),
            token,
            account_tokens: HashMap::new(),
            app_secret: None,
            parallelism: 8,
            per_account_parallelism: default_per_account(8),
            batch_size: 50,
            verbose: false,
            retry: RetryPolicy::default(),
            names: SettingNames::default(),
        }
    }

    /// The base as a URL: http or https, no query, no fragment; a trailing `/` is added.
    pub(crate) fn base_url(&self) -> Result<Url, GraphError> {
        // The address as given may hold a credential: shown only with it hidden.
        let bad = |why: &str| {
            GraphError::config(format!(
                "{} {:?} {why}; write an http(s) address such as {}",
                self.names.api_base,
                crate::model::address::for_people(&self.api_base),
                crate::DEFAULT_API_BASE
            ))
        };
        let mut url =
            Url::parse(self.api_base.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("is not an http(s) address"));
        }
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(bad("must not carry a query, fragment or credentials"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(url)
    }

    /// `vNN.N`.
    pub(crate) fn checked_version(&self) -> Result<&str, GraphError> {
        let v = self.api_version.trim();
        let ok = v
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major.bytes().all(|b| b.is_ascii_digit())
                    && minor.bytes().all(|b| b.is_ascii_digit())
            });
        if ok {
            Ok(v)
        } else {
            Err(GraphError::config(format!(
                "{} {:?} is not a Graph API version; write it like {}",
                self.names.api_version,
                self.api_version,
                crate::DEFAULT_API_VERSION
            )))
        }
    }
}

/// The default per-account limit: half the global limit, between 1 and 4: enough to keep one account's batches flowing, never
/// the whole pool on one account.
pub fn default_per_account(parallelism: usize) -> usize {
    (parallelism / 2).clamp(1, 4)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The command line's names (`cli::args::SETTING_NAMES`, which a test there keeps equal):
    /// with them, the client's messages read exactly as they did when it named flags itself.
    pub(crate) const FLAG_NAMES: SettingNames = SettingNames {
        api_base: "--api-base",
        api_version: "--api-version",
        access_token: "--access-token-file or META_ACCESS_TOKEN",
        parallelism: "--parallelism",
        trace_file: "--trace",
        app_secret: "META_APP_SECRET",
    };

    fn config(base: &str, version: &str, names: SettingNames) -> GraphConfig {
        let mut config = GraphConfig::new(base, Secret::new("t"));
        config.api_version = version.to_string();
        config.names = names;
        config
    }

    #[test]
    fn bad_base_and_version_name_the_settings_as_the_caller_does() {
        let messages = |names| {
            [
                config("ftp://x", "v26.0", names).base_url().unwrap_err(),
                config("http://h/?q=1", "v26.0", names)
                    .base_url()
                    .unwrap_err(),
                config("http://h", "26", names)
                    .checked_version()
                    .unwrap_err(),
            ]
            .map(|e| e.to_string())
        };
        assert_eq!(
            messages(SettingNames::default()),
            [
                r#"the API base address "ftp://x" is not an http(s) address; write an http(s) address such as https://graph.facebook.com"#,
                r#"the API base address "http://h/?q=[redacted]" must not carry a query, fragment or credentials; write an http(s) address such as https://graph.facebook.com"#,
                r#"API version "26" is not a Graph API version; write it like v27.0"#,
            ]
        );
        assert_eq!(
            messages(FLAG_NAMES),
            [
                r#"--api-base "ftp://x" is not an http(s) address; write an http(s) address such as https://graph.facebook.com"#,
                r#"--api-base "http://h/?q=[redacted]" must not carry a query, fragment or credentials; write an http(s) address such as https://graph.facebook.com"#,
                r#"--api-version "26" is not a Graph API version; write it like v27.0"#,
            ]
        );
    }
}
