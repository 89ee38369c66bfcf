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
pub async fn start_exactly(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
    convctl::emulator::start(config, "127.0.0.1:0".parse().unwrap()).await
}

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
