//! Reliability under real misuse (issue 15): never delete what is not ours (`reconcile`), two
//! applies that meet (`concurrency`), bounded time against silent and slow servers (`time`),
//! bounded input and safe `--out` (`files`), rule evaluation that never guesses (`rules`).

mod concurrency;
mod files;
mod reconcile;
mod rules;
mod time;
