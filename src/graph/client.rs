//! [`GraphClient`]: the handle the commands hold (cheap to clone; reading is in `list`, writing
//! in `write`). The client also keeps a small ledger of what it has seen and created, so that a
//! write whose answer was lost can be resolved without making a duplicate (see `write`).

use super::config::GraphConfig;
use super::error::GraphError;
use super::limiter::{Pacing, Waits};
use super::list::FieldKnowledge;
use super::trace::Trace;
use super::transport::{LogSink, Transport};
use crate::model::ids::{AdAccountId, ConversionId};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// The Graph API client. Clones share connections, limits and the ledger.
#[derive(Clone)]
pub struct GraphClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) batch_size: usize,
    /// Whether the API reads back the optional fields (learnt once per run, see `list`).
    pub(crate) fields: FieldKnowledge,
    pub(crate) ledger: Mutex<Ledger>,
}

/// What the client learnt from listings and its own writes.
#[derive(Default)]
pub(crate) struct Ledger {
    /// Which account a conversion belongs to (so updates and deletes count against it).
    pub(crate) owner: HashMap<ConversionId, AdAccountId>,
    /// Per account: each listed id and when the answer that first showed it arrived.
    pub(crate) seen: HashMap<AdAccountId, HashMap<ConversionId, Instant>>,
    /// Per account: ids this client created or adopted (never adopted again).
    pub(crate) claimed: HashMap<AdAccountId, HashSet<ConversionId>>,
    /// Ids this client sent (or is about to send) a delete for: they may be gone.
    pub(crate) deleting: HashSet<ConversionId>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field(
                "api_base",
                &crate::model::address::for_people(self.inner.transport.base.as_str()),
            )
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
                fields: FieldKnowledge::default(),
                ledger: Mutex::new(Ledger::default()),
            }),
        })
    }

    /// The pauses under way (rate limits, back-offs before retries), longest first: what a
    /// progress display shows while writes wait.
    pub fn pauses(&self) -> Vec<super::Pause> {
        self.inner.transport.limiter.pauses.current()
    }

    /// Records every HTTP exchange from now on in the file at `path`, created or truncated
    /// (`--trace FILE`; see `trace`). Call it before the client is cloned or used; the first
    /// trace stays.
    pub(crate) fn trace_to(&self, path: &Path) -> Result<(), GraphError> {
        let transport = &self.inner.transport;
        transport.set_trace(Trace::create(path, &transport.names)?);
        Ok(())
    }

    /// Whether the client's [`Halt`](super::Halt) was pulled: it sends nothing more.
    pub fn is_halted(&self) -> bool {
        self.inner.transport.policy.halt.is_pulled()
    }

    /// Every pause the client made before a call (usage pacing, blocks) so far: its own
    /// accounting, for verbose output and tests.
    pub fn waits(&self) -> Waits {
        self.inner.transport.limiter.waits()
    }

    /// Tells every wait for room in an account's ad-account score to `sink` from now on (a
    /// person's terminal), one line each: `act_1: waiting 4m 40s for Meta's ad-account
    /// limit, development access tier: about 20 writes per 5 minutes`. The first sink stays.
    pub fn tell_waits_to(&self, sink: LogSink) {
        self.inner.transport.limiter.set_notices(sink);
    }

    /// How long Meta's ad-account limit makes `writes` writes to `account` (and the read that
    /// checks them) take from now, once a usage header named the account's access tier
    /// (`None` before: list the account first).
    pub fn pacing(&self, account: &AdAccountId, writes: usize) -> Option<Pacing> {
        self.inner.transport.limiter.pacing(account, writes)
    }
}
