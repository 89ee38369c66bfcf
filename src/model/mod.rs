//! The shared vocabulary every layer speaks: identifiers, secrets (and addresses as shown to
//! people, credentials hidden), the API's closed
//! vocabularies (event types, action sources) and the live model (custom conversions as the
//! API reports them, and the writes convctl makes).
//!
//! Pure data: no I/O, and no knowledge of the manifest, the client or the command line. The
//! diff and the plan document take their types from here, so they never import the HTTP client.

pub mod access_tier;
pub mod address;
pub mod api_versions;
pub mod duration;
pub mod event_types;
pub mod ids;
mod live;
pub mod names;
pub mod retired;
mod secret;
pub mod stats;

pub use ids::{AdAccountId, ConversionId, IdError, ObjectId};
pub use live::{
    ConversionUpdate, LiveConversion, NewConversion, WriteOp, WriteOutcome, parse_api_time,
};
pub use secret::Secret;
