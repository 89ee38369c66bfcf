//! The Graph API emulator over real HTTP: the custom conversions edge and node, batch requests,
//! the Conversions API endpoint, fault injection, and state persistence with the `convctl
//! emulator` command.

mod batch;
mod capi;
mod faults;
mod http;
mod limits;
mod refusals;
mod sdk_requests;
mod state;
mod strict;
