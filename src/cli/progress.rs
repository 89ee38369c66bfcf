//! Progress of an apply's writes, told as it happens. On a terminal: a bar drawn from the
//! first moment (not at the first answer), counting each write of the plan as it is settled
//! (as its answer arrives), below the result lines of the accounts settled so far, with the
//! waits under way as a countdown ("act_1: rate limit 41 s"). Without a terminal (CI
//! logs): a line beginning `progress:` every [`LOG_EVERY`] while the writes last, with the
//! count, the share and the accounts waiting and why. Nothing with `--quiet`.

use crate::cli::args::GlobalOptions;
use crate::graph::Pause;
use crate::reconcile::Progress;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a log line is written without a terminal.
pub(crate) const LOG_EVERY: Duration = Duration::from_secs(10);

/// How often the terminal's countdown of waits is redrawn.
const REDRAW: Duration = Duration::from_millis(250);

/// The writes' progress, shown until [`WriteProgress::finish`].
pub(crate) struct WriteProgress {
    done: Arc<AtomicU64>,
    bar: indicatif::ProgressBar,
    watcher: Option<tokio::task::JoinHandle<()>>,
}

impl WriteProgress {
    /// Starts showing the progress of `total` writes; `pauses` says what waits now.
    pub(crate) fn start(
        total: u64,
        global: &GlobalOptions,
        pauses: impl Fn() -> Vec<Pause> + Send + 'static,
    ) -> WriteProgress {
        let done = Arc::new(AtomicU64::new(0));
        let terminal = std::io::stderr().is_terminal();
        if global.quiet {
            return WriteProgress {
                done,
                bar: indicatif::ProgressBar::hidden(),
                watcher: None,
            };
        }
        if !terminal {
            let counted = done.clone();
            let started = Instant::now();
            let watcher = tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LOG_EVERY).await;
                    let line = log_line(
                        counted.load(Ordering::Relaxed),
                        total,
                        started.elapsed(),
                        &pauses(),
                    );
                    eprintln!("{line}");
                }
            });
            return WriteProgress {
                done,
                bar: indicatif::ProgressBar::hidden(),
                watcher: Some(watcher),
            };
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} writes {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        // Drawn now, and redrawn while nothing answers: a stall shows as a stall.
        bar.enable_steady_tick(REDRAW);
        // A wait told as it starts (Meta's ad-account limit) and an account's result lines
        // are written above the bar.
        crate::cli::output::lines_above(&bar);
        let shown = bar.clone();
        let watcher = tokio::spawn(async move {
            loop {
                shown.set_message(waiting(&pauses()));
                tokio::time::sleep(REDRAW).await;
            }
        });
        WriteProgress {
            done,
            bar,
            watcher: Some(watcher),
        }
    }

    /// What the writes call as each answer arrives.
    pub(crate) fn ticker(&self) -> Progress {
        let (done, bar) = (self.done.clone(), self.bar.clone());
        Arc::new(move || {
            done.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
        })
    }

    /// Stops showing progress (the bar is cleared; the last line of the report follows).
    pub(crate) fn finish(self) {
        if let Some(watcher) = self.watcher {
            watcher.abort();
        }
        self.bar.finish_and_clear();
    }
}

/// `progress: 2208/6000 writes (36%), 1m 20s; waiting: act_1 rate limit 41 s, 2 retries`.
pub(crate) fn log_line(done: u64, total: u64, elapsed: Duration, pauses: &[Pause]) -> String {
    let share = (done * 100).checked_div(total).unwrap_or(100);
    let secs = elapsed.as_secs();
    let mut line = format!(
        "progress: {done}/{total} writes ({share}%), {}m {:02}s",
        secs / 60,
        secs % 60
    );
    let waits = waiting(pauses);
    if !waits.is_empty() {
        line.push_str("; ");
        line.push_str(&waits);
    }
    line
}

/// `waiting: act_1 rate limit 41 s, act_2 retry 3 s, and 4 more`; empty when nothing waits.
fn waiting(pauses: &[Pause]) -> String {
    const SHOWN: usize = 3;
    if pauses.is_empty() {
        return String::new();
    }
    let mut parts: Vec<String> = pauses
        .iter()
        .take(SHOWN)
        .map(|p| {
            let left = p.left.as_secs_f64().ceil() as u64;
            match &p.account {
                Some(account) => format!("{account} {} {left} s", p.reason.as_str()),
                None => format!("{} {left} s", p.reason.as_str()),
            }
        })
        .collect();
    if pauses.len() > SHOWN {
        parts.push(format!("and {} more", pauses.len() - SHOWN));
    }
    format!("waiting: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::PauseReason;
    use crate::model::ids::AdAccountId;

    #[test]
    fn a_log_line_says_the_count_and_what_waits() {
        let pauses = [
            Pause {
                account: Some(AdAccountId::parse("act_1").unwrap()),
                reason: PauseReason::RateLimit,
                left: Duration::from_millis(40_200),
            },
            Pause {
                account: None,
                reason: PauseReason::Retry,
                left: Duration::from_secs(2),
            },
        ];
        assert_eq!(
            log_line(2208, 6000, Duration::from_secs(80), &pauses),
            "progress: 2208/6000 writes (36%), 1m 20s; waiting: act_1 rate limit 41 s, retry 2 s"
        );
        assert_eq!(
            log_line(0, 0, Duration::ZERO, &[]),
            "progress: 0/0 writes (100%), 0m 00s"
        );
    }
}
