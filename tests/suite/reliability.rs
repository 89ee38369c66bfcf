//! Reliability under real misuse: never delete what is not ours (`reconcile`), an entry means
//! the one live conversion it should, whatever id was pasted (`identity`), saved plans do only
//! what was approved (`saved_plans`), two applies that meet (`concurrency`), bounded time
//! against silent and slow servers (`time`), bounded input and safe `--out` (`files`), rule
//! evaluation that never guesses (`rules`), set parameters that stay values (`set_params`),
//! and output that shows what is there (`display`).

mod concurrency;
mod display;
mod files;
mod identity;
mod reconcile;
mod rules;
mod saved_plans;
mod set_params;
mod time;
