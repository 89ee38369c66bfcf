//! `convctl emulator`: runs the local Graph API until SIGINT or SIGTERM, then saves its state.
//!
//! The first line on stdout is `listening on http://ADDR` (scripts wait for it); everything
//! else goes to stderr. It never prints tokens or the app secret.

use crate::cli::args::{EmulatorArgs, TierChoice};
use crate::cli::calendar::today;
use crate::cli::exit;
use crate::cli::failure::Outcome;
use crate::emulator::{self, EmulatorConfig};
use crate::model::AdAccountId;
use crate::model::access_tier::AccessTier;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

pub(crate) fn run(args: &EmulatorArgs) -> Outcome {
    serve(args)?;
    Ok(exit::SUCCESS)
}

/// Starts the emulator and serves until a signal (anyhow: this is the edge).
fn serve(args: &EmulatorArgs) -> anyhow::Result<()> {
    let config = emulator_config(args)?;
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        anyhow::anyhow!(
            "--listen `{}` is not an address: write IP:PORT, e.g. 127.0.0.1:8080",
            args.listen
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let running = emulator::start(config, listen).await?;
        // Listen for signals before saying where we listen: a script may signal as soon as it
        // reads the address, and an unheard SIGTERM would end the process without saving.
        let stop = StopSignals::listen()?;
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "listening on {}", running.base_url())?;
            stdout.flush()?;
        }
        stop.wait().await?;
        eprintln!("emulator: stopping");
        running.shutdown().await?;
        Ok(())
    })
}

/// SIGTERM and SIGINT (Ctrl-C), registered before they are awaited.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn listen() -> anyhow::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}

/// The emulator's configuration from its command-line options (flag names in the errors).
fn emulator_config(args: &EmulatorArgs) -> anyhow::Result<EmulatorConfig> {
    let accounts = args
        .accounts
        .iter()
        .map(|a| AdAccountId::parse(a).map_err(|e| anyhow::anyhow!("--account: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = EmulatorConfig {
        state_file: args.state.clone(),
        tokens: args.tokens.clone(),
        app_secret: args.app_secret.clone(),
        accounts,
        cap: args.cap,
        latency_ms: args.latency_ms,
        fault_rate: args.fault_rate,
        drop_after_commit: args.drop_after_commit,
        rate_limit: args.rate_limit,
        tier: match args.tier {
            TierChoice::Development => AccessTier::Development,
            TierChoice::Standard => AccessTier::Standard,
        },
        score_window: Duration::from_secs_f64(args.score_window),
        today: Some(today().map_err(anyhow::Error::msg)?),
        seed: args.seed,
        delete_archives: args.delete_archives,
        refuse_deletes: args.refuse_deletes,
        unique_rules: args.unique_rules,
        strict: args.strict,
        rewrite_rules: args.rewrite_rules,
        ..EmulatorConfig::default()
    };
    config.validate()?;
    Ok(config)
}
