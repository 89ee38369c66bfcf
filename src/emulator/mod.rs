//! A local Graph API (spec section 5), faithful to reference/graph-api.md, for tests, for
//! `--sandbox` and for users who want to try convctl without a Meta account.
//!
//! Owns the HTTP server (axum), the in-memory state (optionally persisted atomically), the
//! custom conversions edge and node, batch requests, authentication checks, usage headers,
//! rate limits, fault injection and the Conversions API endpoint. It shares `rule` with the rest
//! of convctl and never calls out to the network.
