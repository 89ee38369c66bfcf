//! The emulator in this test process: started on an ephemeral loopback port, the one place
//! that calls `convctl::emulator::start`. Under `CONVCTL_TEST_STRICT=1` it starts with the
//! strict profile, and every start is recorded for that rerun; under
//! `CONVCTL_TEST_REFUSE_DELETES=1` refusing deletes (see [`super::profile`]).

use super::profile;
use convctl::emulator::{EmulatorConfig, EmulatorError, RunningEmulator};

/// Starts an emulator on 127.0.0.1:0 (strict under `CONVCTL_TEST_STRICT=1`, refusing deletes
/// under `CONVCTL_TEST_REFUSE_DELETES=1`).
pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    try_start(config).await.unwrap()
}

/// Same, for the tests of start-up errors.
pub async fn try_start(mut config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    profile::record_emulator_start();
    config.strict |= profile::strict();
    config.refuse_deletes |= profile::refuse_deletes();
    start_exactly(config).await
}

/// Starts an emulator with exactly the profile `config` names, for a test that compares the
/// two profiles itself (not recorded for the strict rerun, which would repeat it unchanged).
/// The version calendar is judged on [`TODAY`](super::binary::TODAY) unless the test says
/// otherwise.
pub async fn start_exactly(mut config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    config
        .today
        .get_or_insert_with(|| super::binary::TODAY.parse().unwrap());
    convctl::emulator::start(config, "127.0.0.1:0".parse().unwrap()).await
}

/// The score window of emulators that inject faults (`--score-window`): a throttling fault
/// reports the block of its tier, scaled like the window (a minute at Meta's 300 s), and the
/// client waits what it says; 50 ms keeps those waits short.
pub const FAULT_SCORE_WINDOW: std::time::Duration = std::time::Duration::from_millis(50);
/// The same for `convctl emulator --score-window`.
pub const FAULT_SCORE_WINDOW_ARG: &str = "0.05";

/// A configuration that accepts [`TOKEN`](super::TOKEN) only.
pub fn with_token() -> EmulatorConfig {
    EmulatorConfig {
        tokens: vec![super::TOKEN.to_string()],
        ..EmulatorConfig::default()
    }
}

/// The runtime a synchronous test serves an in-process emulator (or stub) from.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}
