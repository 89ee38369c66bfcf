//! The Graph API client: convctl's only reach into Meta (reference: all of graph-api.md).
//!
//! Owns configuration, authentication (token in the `Authorization` header, never in a URL;
//! `appsecret_proof`), paging, batching, concurrency (global and per account), usage headers,
//! retries with backoff and jitter, and the rule that a write which may have been committed is
//! never blindly repeated. It returns the live model; it never decides what to change.
//!
//! # Politeness: limits, usage headers, retries
//! - **Concurrency.** At most `parallelism` requests are in flight (default 8), and at most
//!   `per_account_parallelism` (default half of that, 1 to 4) for one ad account. Updates and
//!   deletes count against the account that listed the conversion. A request waiting for its
//!   account holds no global slot, so other accounts keep moving.
//! - **Usage headers.** `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`
//!   (absent or garbage: ignored) set each account's and the app's usage. Above
//!   `pacing_threshold_pct` (75%) every call to that account (or, for app usage, every call)
//!   first pauses, linearly up to `pacing_max_delay` (5 s) at 100%. When the headers say how
//!   long until access is regained (`reset_time_duration`, `estimated_time_to_regain_access`),
//!   the account takes no call before then.
//! - **Retries.** Transient errors (`is_transient`, codes 1 and 2, HTTP 5xx), lost
//!   connections, timeouts and throttling codes (4, 17, 32, 341, 613, 80000, 80003, 80004,
//!   80014, and HTTP 429) are retried with exponential backoff and full jitter: a random wait
//!   in `[0, min(max_delay, base_delay × 2^n)]` (defaults 0.5 s, 60 s), or the wait the API asked
//!   for when throttled, whichever is longer; at most `max_attempts` (8) attempts and
//!   `max_total` (15 min) per request. A throttle that asks for more than the remaining budget
//!   fails at once. Codes 100, 190, 102, 200–299, 10 and 368 are never retried.
//! - **Writes that may have been committed** (HTTP 5xx, lost connection, timeout, an empty
//!   batch entry) are never blindly repeated. A create is checked by listing the account and adopting an exact match
//!   ([`WriteOutcome::Adopted`]); a delete is repeated and "does not exist" then means
//!   [`WriteOutcome::AlreadyGone`]; an update is idempotent and repeated.
//! - **Secrets.** The token travels only in the `Authorization: Bearer` header, the proof as a
//!   parameter; `next` links are followed only on the configured origin; errors and verbose
//!   lines are scrubbed of the token, app secret, proof and any `access_token=` parameter.

mod client;
mod config;
mod error;
mod events;
mod limiter;
mod live;
mod model;
mod transport;
mod usage;
mod write;

pub use client::GraphClient;
pub use config::{GraphConfig, RetryPolicy};
pub use error::{ErrorKind, GraphError};
pub use events::EventsReceipt;
pub use model::*;
pub use transport::LogSink;
pub use write::WriteObserver;
