//! The Graph API emulator over real HTTP: the custom conversions edge and node, batch requests,
//! the Conversions API endpoint, fault injection, and state persistence with the `convctl
//! emulator` command.

use crate::support::snapshot::text_settings;

mod batch;
mod capi;
mod faults;
mod http;
mod limits;
mod refusals;
mod sdk_requests;
mod state;
mod strict;

/// The insta settings of the emulator's answers: the suite's filters (trace ids, ports), the
/// creation time a conversion got when the test made it (as the API writes it, or in Unix
/// seconds in the state document), and an account's ad-account score in its usage header:
/// the score decays continuously (a read's point in a few milliseconds at the standard
/// tier), so its percentage below 100 shows as `[share]` and the seconds until it has
/// decayed, below 100 or with a fraction, as `[left]`. A block's figures (100%, a 300 s
/// window) are shown.
fn answer_settings() -> insta::Settings {
    let mut settings = text_settings();
    settings.add_filter(
        r#"("creation_time": ?)"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+0000""#,
        r#"$1"[time]""#,
    );
    settings.add_filter(r#"("creation_time": ?)[0-9]{10}\b"#, "${1}[time]");
    // In a header's JSON, or in that JSON quoted in a batch entry (`\"acc_id_util_pct\":`).
    settings.add_filter(
        r#"("acc_id_util_pct\\?": ?)[0-9]{1,2}(\.[0-9]+)?\b"#,
        "${1}[share]",
    );
    settings.add_filter(
        r#"("reset_time_duration\\?": ?)([0-9]+\.[0-9]+|[0-9]{1,2})\b"#,
        "${1}[left]",
    );
    settings
}
