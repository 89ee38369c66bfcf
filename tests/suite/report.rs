//! `convctl report` (docs/report.md): the health of every conversion of every account, read
//! in one survey and judged on a fixed clock (`CONVCTL_NOW`), with drift, the cap and the
//! per-set view; `--stats` from the `stats` edge; exit codes for a nightly job (`--fail-on`);
//! the HTML page rendered by a real browser.

mod browser;
mod fleet;
mod stats;
mod walkthrough;
