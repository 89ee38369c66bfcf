//! The Graph API client: convctl's only reach into Meta (reference: all of graph-api.md).
//!
//! Owns configuration, authentication (token in the `Authorization` header, never in a URL;
//! `appsecret_proof`), paging, batching, concurrency (global and per account), usage headers,
//! retries with backoff and jitter, and the rule that a write which may have been committed is
//! never blindly repeated. It returns the live model; it never decides what to change.

mod model;

pub use model::*;
