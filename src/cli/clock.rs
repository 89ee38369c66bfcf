//! The command's clock: when the command started (its `--timeout` counts from then, reading
//! its inputs included), and the watch that holds reading those inputs to it.
//!
//! Reading happens before the session's budget exists, in plain blocking reads: a file on a
//! hung network mount, or stdin (`events send --file -`) that never ends, would wait forever.
//! [`CommandClock::watch_inputs`] starts a watcher thread that ends the command with exit 1
//! once the `--timeout` has passed, unless [`CommandClock::hand_over`] was called first (the
//! session's budget then bounds the rest: requests, retries, waits). Nothing has been sent
//! before the hand-over, so ending the process there leaves nothing half done.

use crate::graph::describe_duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// When the command started, and its input watch. Clones share the watch.
#[derive(Clone, Debug)]
pub(crate) struct CommandClock {
    started: Instant,
    watch: Arc<Watch>,
}

#[derive(Debug, Default)]
struct Watch {
    handed_over: AtomicBool,
    watcher: Mutex<Option<std::thread::Thread>>,
}

impl Default for CommandClock {
    /// Started now (the command line is parsed as the process starts).
    fn default() -> Self {
        CommandClock {
            started: Instant::now(),
            watch: Arc::default(),
        }
    }
}

impl CommandClock {
    pub(crate) fn started(&self) -> Instant {
        self.started
    }

    /// Until [`hand_over`](Self::hand_over), the command ends with exit 1 and a message once
    /// `timeout` has passed since it started (`0`: no limit).
    pub(crate) fn watch_inputs(&self, timeout: Duration) {
        if timeout.is_zero() {
            return;
        }
        let deadline = self.started + timeout;
        let watch = self.watch.clone();
        let spawned = std::thread::Builder::new()
            .name("input-timeout".into())
            .spawn(move || {
                loop {
                    if watch.handed_over.load(Ordering::Acquire) {
                        return;
                    }
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    std::thread::park_timeout(deadline - now);
                }
                eprintln!(
                    "error: the --timeout of {} ran out while the command was reading its input \
                     (a file or stdin that never ends?); nothing was sent to the API",
                    describe_duration(timeout)
                );
                std::process::exit(super::exit::ERROR);
            });
        if let Ok(handle) = spawned {
            *self.watch.watcher.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(handle.thread().clone());
        }
    }

    /// The inputs are read: the session's budget takes over from here.
    pub(crate) fn hand_over(&self) {
        self.watch.handed_over.store(true, Ordering::Release);
        if let Some(watcher) = self
            .watch
            .watcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            watcher.unpark();
        }
    }
}
