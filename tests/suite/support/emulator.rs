//! The emulator in this test process: started on an ephemeral loopback port, the one place
//! that calls `convctl::emulator::start`.

use convctl::emulator::{EmulatorConfig, EmulatorError, RunningEmulator};

/// Starts an emulator on 127.0.0.1:0.
pub async fn start(config: EmulatorConfig) -> RunningEmulator {
    try_start(config).await.unwrap()
}

/// Same, for the tests of start-up errors.
pub async fn try_start(config: EmulatorConfig) -> Result<RunningEmulator, EmulatorError> {
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

/// `CONVCTL_TEST_STRICT=1` (scripts/test's second run): start every emulator with its strict
/// profile.
pub fn strict_profile() -> bool {
    std::env::var("CONVCTL_TEST_STRICT").is_ok_and(|v| v == "1")
}
