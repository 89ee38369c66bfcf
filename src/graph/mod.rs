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
//!   deletes count against the account whose listing showed the conversion. A request waiting
//!   for its account holds no global slot, so other accounts keep moving.
//! - **The ad-account score** (`score`, `model::access_tier`). Once an account's
//!   `X-Ad-Account-Usage` names its access tier, the client knows its score (a read 1 point, a
//!   write 3, of a maximum of 60 at the development tier and 9000 at the standard one) and how
//!   fast it decays (from `reset_time_duration`). Every request reserves its points and goes
//!   only when they fit (one point kept free), and a batch of writes holds no more than fit at
//!   all (19 at the development tier): an apply of more than about 20 writes per 5 minutes
//!   spreads them as the score decays and is never refused. Each wait is told
//!   ([`GraphClient::tell_waits_to`]); [`GraphClient::pacing`] says beforehand how long an
//!   account's writes take. Waiting for the score is pacing, not retrying: a write's retry
//!   budget starts once it is admitted.
//! - **Usage headers** are pacing input, read as Meta means them (evidence:
//!   docs/api-fidelity.md). `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage`
//!   (absent or garbage: ignored; batch entries' headers too) set each account's and the app's
//!   usage, the highest figure of each header (beside a known score, the Business Use Case
//!   figure alone: the score paces by itself). Above `pacing_threshold_pct` (75%) every call to
//!   that account (for app usage: every call) first pauses, linearly up to `pacing_max_delay`
//!   (5 s) at 100%. `reset_time_duration` (the time for usage to decay to 0: non-zero whenever
//!   usage is above 0) is never a block on its own. A scope is blocked only (a) when a usage
//!   figure reaches 100%, for the shorter of `reset_time_duration` (seconds) and
//!   `estimated_time_to_regain_access` (minutes), never longer than the API says (a full
//!   Business Use Case figure beside a known score: its own regain time), or (b) when the API
//!   answers a throttling error, for the wait its headers give: a Business Use Case code
//!   (80000–80014) its `estimated_time_to_regain_access`, the others the shorter figure (code 4
//!   blocks the app, the others the account). A blocked scope takes no call before then; if that is beyond the
//!   request's time budget the call is not sent and fails at once with
//!   [`ErrorKind::Throttled`], naming the account and the wait. [`GraphClient::waits`] tells
//!   every pause and block the client made.
//! - **Retries.** Transient errors (`is_transient`, codes 1 and 2, HTTP 5xx), lost
//!   connections, timeouts and throttling codes (4, 17, 32, 341, 613, the Business Use Case
//!   range 80000–80014, and HTTP 429) are retried with exponential backoff and full jitter: a random wait
//!   in `[0, min(max_delay, base_delay × 2^n)]` (defaults 0.5 s, 60 s), or the wait the API
//!   asked for when throttled, whichever is longer; at most `max_attempts` (8) attempts and
//!   `max_total` (15 min) per request. A refused connection (wrong `--api-base`, no network)
//!   is tried `max_connect_attempts` (3) times. Codes 100, 102, 190, 200–299, 10, 368 and 2635
//!   are never retried. [`RetryPolicy::fast`] is the same policy with millisecond waits (tests).
//! - **Time.** Every exchange has a deadline for the whole exchange (connect, send, headers
//!   and the whole body: a server that sends a byte a second is cut off), `request_timeout`
//!   (60 s) or the request's budget, whichever ends first. [`CommandBudget`] (the command
//!   line's `--timeout`) bounds everything: retries stop before it, an exchange in flight ends
//!   at it, nothing is sent after it, and it knows which calls were still waiting. [`Halt`]
//!   (pulled on SIGINT/SIGTERM during an apply) stops sending at once and gives exchanges in
//!   flight a grace to be answered.
//! - **Writes that may have been committed** (HTTP 5xx, lost connection, timeout, an empty
//!   batch entry) are never blindly repeated. After the round of requests they were in has
//!   settled, a create is checked by listing its account and adopting a conversion that
//!   matches exactly (name, rule by meaning, event type, source, value, description), that no
//!   listing showed before the create was first sent and that this client has not claimed
//!   ([`WriteOutcome::Adopted`]); when none matches, the account is listed once more after
//!   `base_delay` (a create may show up a moment late). It is sent again only when that
//!   listing is whole (every conversion the client knows is in the account, but those it sent
//!   a delete for, is in it) and holds no new conversion with the create's name or rule; its
//!   result is then [`WriteOutcome::Resent`], which says it was sent twice. Otherwise, and when
//!   the check itself fails, the create is reported as [`ErrorKind::Uncertain`], saying why,
//!   and never repeated (see `lost_creates`). A delete is sent again and "does not exist"
//!   (100/33) then means [`WriteOutcome::AlreadyGone`]; an update is idempotent and sent again.
//! - **Reading.** `GET act_<ID>/customconversions?fields=…&limit=100`, following `next` to the
//!   end (an empty page may still have one) only on the configured scheme, host and port, with
//!   any `access_token`/`appsecret_proof` copied into it dropped. Whether the API reads back
//!   the fields whose readability is undocumented (`advanced_rule`, `event_source_id`, `pixel`,
//!   `action_source_type`) is learnt once per run: the first listing asks for them alone while
//!   the others wait; after a refusal every request leaves them out and they stay unknown
//!   (`None`). Many accounts' first pages go in batch requests of up to `batch_size` (50 by
//!   default): 500 accounts take 10 round trips instead of 500 (each sub-request still counts
//!   against the rate limits; such a batch takes a global slot only). Batches go in rounds: a
//!   throttled, failed-for-now or unrun entry of any batch of a round is asked again in the
//!   next round's batches after one backoff, a refusal of the optional fields without them; an
//!   account whose batch fails 3 rounds is listed on its own with the retries above (unless no
//!   connection could be made); further pages are asked on their own; accounts being paced are
//!   never batched. `batch_size` 1 lists one request per account.
//! - **Tracing.** With [`GraphClient::set_trace`] (`--trace FILE`) every HTTP exchange is
//!   written as one JSON line, redacted like the verbose lines (see `trace`).
//! - **Secrets.** The token travels only in the `Authorization: Bearer` header, the proof as a
//!   parameter; errors and verbose lines (method, path without query, status, usage, retries)
//!   are scrubbed of the token, app secret, proof and any `access_token=` parameter, and never
//!   show a `next` URL.

mod batch;
mod client;
mod config;
mod decode;
mod error;
mod events;
mod limiter;
mod list;
mod lost_creates;
mod pauses;
mod score;
mod stats;
mod trace;
mod transport;
mod usage;
mod write;

pub use client::GraphClient;
#[cfg(test)]
pub(crate) use config::tests::FLAG_NAMES;
pub use config::{
    CommandBudget, GraphConfig, Halt, RetryPolicy, SettingNames, default_per_account,
    describe_duration,
};
pub use error::{ErrorKind, GraphError};
pub(crate) use events::EventsReceipt;
pub use limiter::{Pacing, Waits};
pub use pauses::{Pause, PauseReason};
pub use stats::StatsTarget;

pub use transport::LogSink;
pub(crate) use write::WriteObserver;
