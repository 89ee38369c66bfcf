//! SIGINT and SIGTERM during an apply: the first stops sending (the session's
//! [`Halt`](crate::graph::Halt)), lets the writes in flight finish within [`GRACE`], and the
//! apply prints its usual report of what was and was not done, then exits 1; a second one ends
//! the process at once.
//!
//! Dying at the first signal would leave the accounts half changed with no word of which half
//! (at an account's 100 cap, a replacement deletes first: the conversion could be missing), so
//! the signal is handled only while writes run; before them (listing, planning, the prompt)
//! nothing has been written and the default, ending at once, is right.

use crate::cli::exit;
use crate::cli::failure::Failure;
use crate::graph::{Halt, describe_duration};
use std::time::Duration;

/// How long writes already sent may take to be answered after the first signal.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// From now until the process ends, the first SIGINT or SIGTERM pulls `halt` and a second one
/// ends the process with exit 1. Call it inside the session's runtime.
pub(crate) fn halt_on_signal(halt: Halt) -> Result<(), Failure> {
    let mut signals = Signals::new()
        .map_err(|e| Failure::new(format!("cannot listen for SIGINT and SIGTERM: {e}")))?;
    tokio::spawn(async move {
        let first = signals.next().await;
        eprintln!(
            "\n{first}: stopping. Nothing more is sent; the writes already sent have up to {} to be answered, then the report says what was done. {first} again ends at once.",
            describe_duration(GRACE)
        );
        halt.pull(GRACE);
        let second = signals.next().await;
        eprintln!(
            "{second} again: ended at once. Writes in flight may or may not have been made: run `convctl plan` to see the accounts as they are."
        );
        std::process::exit(exit::ERROR);
    });
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// The name of the next signal.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
