//! The Graph API client (`convctl::graph::GraphClient`) through the library: against a stub
//! answering what a test says, against the in-process emulator, with batched listings and
//! with hostile answers.

mod batched_lists;
mod emulator;
mod hostile;
mod observed;
mod pacing;
mod stub;
mod usage;
