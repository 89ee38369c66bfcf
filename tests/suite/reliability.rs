//! Reliability under real misuse: never delete what is not ours (`reconcile`), an entry means
//! the one live conversion it should, whatever id was pasted (`identity`), saved plans do only
//! what was approved (`saved_plans`), two applies that meet (`concurrency`), bounded time
//! against silent and slow servers (`time`), bounded input and safe `--out` (`files`), rule
//! evaluation that never guesses (`rules`), set parameters that stay values (`set_params`),
//! and output that shows what is there (`display`); one process per state file
//! (`state_files`), inputs never overwritten, read bounded and in time (`inputs`), a signal
//! during apply (`interrupt`), the emulator exposed to a team (`exposed_emulator`).

mod concurrency;
mod display;
mod exposed_emulator;
mod files;
mod identity;
mod inputs;
mod interrupt;
mod reconcile;
mod rules;
mod saved_plans;
mod set_params;
mod state_files;
mod time;
