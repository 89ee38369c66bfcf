//! What can go wrong running the emulator itself: its settings, its socket, its state file and
//! the conversions a test seeds. (What it *answers*, Graph errors, is [`super::api_error::ApiError`].)
//!
//! One type per stage so that a caller can tell a bad setting from a busy port from a damaged
//! state file without reading the message; `Display` says what to do about each.

use crate::model::event_types::UnknownValue;
use crate::model::ids::IdError;
use crate::rule::RuleError;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Starting, running, stopping or seeding the emulator failed.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A probability outside 0..=1 (`option` names the setting).
    #[error("{option} {value} is not a fraction: give a number between 0 and 1, e.g. 0.1")]
    NotAFraction { option: &'static str, value: f64 },
    #[error(
        "--rate-limit 0 would refuse every call: give at least 1, or leave it out for no limit"
    )]
    ZeroRateLimit,
    #[error(
        "--score-window {}s is too short: give at least 0.01 seconds (Meta's window is 300)",
        .0.as_secs_f64()
    )]
    ScoreWindow(std::time::Duration),
    #[error(transparent)]
    Token(#[from] TokenScopeError),
    #[error("cannot listen on {addr}: is the address free and local?")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the emulator's server failed")]
    Server(#[source] std::io::Error),
    #[error("the emulator's server task failed")]
    ServerTask(#[source] tokio::task::JoinError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Seed(#[from] SeedError),
}

/// A `--token` entry that cannot be read. The message never repeats the token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenScopeError {
    #[error("--token must not be empty")]
    Empty,
    #[error("--token T:act_1,act_2: the token before `:` is empty")]
    EmptyBeforeScope,
    #[error("--token T:ACCOUNTS: `{account}` is not an ad account ({error})")]
    NotAnAccount { account: String, error: IdError },
}

/// The state file (`--state`) could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read emulator state {}: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "emulator state {} is not a valid state document ({error}); move it away to start with an empty state",
        .path.display()
    )]
    Invalid {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error("emulator state {} has format {format}, this convctl reads format 1", .path.display())]
    Format { path: PathBuf, format: u32 },
    #[error("emulator state {}: conversion id `{id}` is not numeric", .path.display())]
    ConversionId { path: PathBuf, id: String },
    #[error("cannot create {}: {error}", .dir.display())]
    CreateDir { dir: PathBuf, error: std::io::Error },
    #[error("cannot save emulator state to {}: {error}", .path.display())]
    Save {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The blocking save task did not finish (it panicked or was cancelled).
    #[error("the emulator's state could not be saved: {0}")]
    SaveTask(tokio::task::JoinError),
    /// Another process holds the state file (or its lock file cannot be made).
    #[error(transparent)]
    Lock(#[from] crate::file_io::LockError),
    /// Not a regular file, or larger than a state document can be.
    #[error("cannot read emulator state {}: {reason}", .path.display())]
    NotReadable { path: PathBuf, reason: String },
}

/// A seeded conversion (`POST /_emulator/conversions`, `insert_conversion`) that is not one.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("advanced_rule: {0}")]
    AdvancedRule(serde_json::Error),
    #[error(transparent)]
    Vocabulary(#[from] UnknownValue),
    #[error("daily_counts: `{0}` is not a day (write YYYY-MM-DD)")]
    Day(String),
}
