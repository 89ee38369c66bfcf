//! [`LiveApi`]: the seam between every operation and live state. The Graph client implements
//! it (below); unit tests use in-memory fakes to exercise failures part way through an apply.
//!
//! Errors stay typed ([`GraphError`]) through the seam so that an operation can branch on the
//! kind (a delete that finds nothing, a cap reached) instead of parsing a message.

use crate::graph::{GraphClient, GraphError, Pause, WriteObserver};
use crate::model::{AdAccountId, LiveConversion, WriteOp, WriteOutcome};
use std::sync::Arc;

/// What reconciling needs from the API.
#[allow(async_fn_in_trait)]
pub trait LiveApi {
    /// Every custom conversion of each account (archived ones included), in the order asked.
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>>;

    /// Independent writes, run in any order and in parallel; one result per op, in order.
    /// `on_done` is called once per write as it is settled (for progress): when its answer
    /// arrives, or, for one retried, checked or adopted, when that ends.
    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>>;

    /// Whether the command is stopping (a signal): nothing more is sent, so an operation
    /// starts no further step and reports the rest as not done.
    fn halted(&self) -> bool {
        false
    }

    /// What tells the waits under way (rate limits, back-offs) while writes run, for
    /// progress displays; nothing waits by default.
    fn pauses_source(&self) -> PauseSource {
        Arc::new(Vec::new)
    }
}

/// Tells the waits under way; shared with a progress display's own task.
pub(crate) type PauseSource = Arc<dyn Fn() -> Vec<Pause> + Send + Sync>;

/// Called once per settled write (progress bars); shared with the client's worker tasks.
pub(crate) type Progress = Arc<dyn Fn() + Send + Sync>;

impl LiveApi for GraphClient {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, GraphError>> {
        GraphClient::list_many(self, accounts).await
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, GraphError>> {
        let observer: WriteObserver = Arc::new(move |_, _| on_done());
        self.write_observed(ops, observer).await
    }

    fn halted(&self) -> bool {
        self.is_halted()
    }

    fn pauses_source(&self) -> PauseSource {
        let client = self.clone();
        Arc::new(move || client.pauses())
    }
}
