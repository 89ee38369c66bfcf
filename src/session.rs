//! How commands reach live state: [`LiveApi`] (list accounts, write in parallel) and
//! [`Session`], which builds the Graph API client from the global options and, for
//! `--sandbox[=FILE]`, starts the in-process emulator with that state file (a dummy token, no
//! Meta account needed) and shuts it down at the end, saving its state.
//!
//! It never decides what to change, and never prints or stores the token.

use crate::graph::{LiveConversion, WriteOp, WriteOutcome};
use crate::ids::AdAccountId;

/// What reconciling needs from the API. The Graph client implements it; unit tests use an
/// in-memory fake to exercise failures part way through an apply.
#[allow(async_fn_in_trait)]
pub trait LiveApi {
    /// Every custom conversion of each account (archived ones included), in the order asked.
    async fn list_many(&self, accounts: &[AdAccountId])
    -> Vec<Result<Vec<LiveConversion>, String>>;

    /// Independent writes, run in any order and in parallel; one result per op, in order.
    /// `on_done` is called once per finished write (for progress).
    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, String>>;
}

/// Called once per finished write (progress bars); shared with the client's worker tasks.
pub type Progress = std::sync::Arc<dyn Fn() + Send + Sync>;

use crate::cli::GlobalOptions;
use crate::emulator::{EmulatorConfig, RunningEmulator};
use crate::graph::{GraphClient, GraphConfig};
use crate::secret::Secret;
use std::path::Path;
use std::sync::Arc;

/// A command's connection to live state: the client, and the in-process emulator behind it
/// when `--sandbox` was given. Call [`Session::finish`] at the end (it saves sandbox state).
pub struct Session {
    client: GraphClient,
    sandbox: Option<RunningEmulator>,
}

impl Session {
    /// Builds the client from the global options; with `--sandbox[=FILE]`, first starts the
    /// emulator on an ephemeral loopback port with state in FILE (its directory is created)
    /// and points the client at it with a dummy token.
    pub async fn start(global: &GlobalOptions) -> Result<Session, String> {
        let (config, sandbox) = match &global.sandbox {
            None => (
                GraphConfig::from_options(global).map_err(|e| e.to_string())?,
                None,
            ),
            Some(state) => {
                let emulator = start_sandbox(state).await?;
                let mut config = GraphConfig::new(emulator.base_url(), Secret::new("sandbox"));
                config.api_version = global.api_version.clone();
                (config, Some(emulator))
            }
        };
        let config = GraphConfig {
            parallelism: global.parallelism as usize,
            per_account_parallelism: config
                .per_account_parallelism
                .min(global.parallelism as usize)
                .max(1),
            batch_size: global.batch_size as usize,
            verbose: global.verbose,
            ..config
        };
        let client = GraphClient::new(config).map_err(|e| e.to_string())?;
        Ok(Session { client, sandbox })
    }

    pub fn client(&self) -> &GraphClient {
        &self.client
    }

    /// Stops the sandbox emulator, saving its state; nothing to do against a real API.
    pub async fn finish(self) -> Result<(), String> {
        match self.sandbox {
            Some(emulator) => emulator
                .shutdown()
                .await
                .map_err(|e| format!("the sandbox could not save its state: {e:#}")),
            None => Ok(()),
        }
    }
}

async fn start_sandbox(state: &Path) -> Result<RunningEmulator, String> {
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the sandbox directory {}: {e}", dir.display()))?;
    }
    let config = EmulatorConfig {
        state_file: Some(state.to_path_buf()),
        ..EmulatorConfig::default()
    };
    let listen = "127.0.0.1:0".parse().expect("a valid loopback address");
    crate::emulator::start(config, listen).await.map_err(|e| {
        format!(
            "cannot start the sandbox (state {}): {e:#}",
            state.display()
        )
    })
}

impl LiveApi for GraphClient {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, String>> {
        GraphClient::list_many(self, accounts)
            .await
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, String>> {
        let observer: crate::graph::WriteObserver = Arc::new(move |_, _| on_done());
        let results = self.write_observed(ops, observer).await;
        results
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }
}

impl LiveApi for Session {
    async fn list_many(
        &self,
        accounts: &[AdAccountId],
    ) -> Vec<Result<Vec<LiveConversion>, String>> {
        LiveApi::list_many(&self.client, accounts).await
    }

    async fn write(
        &self,
        ops: Vec<WriteOp>,
        on_done: Progress,
    ) -> Vec<Result<WriteOutcome, String>> {
        LiveApi::write(&self.client, ops, on_done).await
    }
}
