//! How commands reach live state: [`LiveApi`] (list accounts, write in parallel) and
//! [`Session`], which builds the Graph API client from the global options and, for
//! `--sandbox[=FILE]`, starts the in-process emulator with that state file (a dummy token, no
//! Meta account needed) and shuts it down at the end, saving its state.
//!
//! It never decides what to change, and never prints or stores the token.

use crate::graph::{LiveConversion, WriteOp, WriteOutcome};
use crate::ids::AdAccountId;

/// What reconciling needs from the API. The Graph client implements it; unit tests use an
/// in-memory fake to exercise failures part way through an apply.
#[allow(async_fn_in_trait)]
pub trait LiveApi {
    /// Every custom conversion of each account (archived ones included), in the order asked.
    async fn list_many(&self, accounts: &[AdAccountId])
    -> Vec<Result<Vec<LiveConversion>, String>>;

    /// Independent writes, run in any order and in parallel; one result per op, in order.
    /// `on_done` is called once per finished write (for progress).
    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: &(dyn Fn() + Sync),
    ) -> Vec<Result<WriteOutcome, String>>;
}
