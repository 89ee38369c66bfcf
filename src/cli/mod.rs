//! The binary's side: the clap definition of the command line ([`args`]), the connection to
//! live state a command opens ([`session`]), exit codes ([`exit`]) and one thin shell per
//! command ([`commands`]) that wires parsed options to a library operation and maps its
//! outcome to an exit code. Nothing below `cli` imports it.

pub mod args;
mod calendar;
mod clock;
pub(crate) mod commands;
pub mod exit;
mod failure;
mod inputs;
mod interrupt;
mod output;
mod pacing;
mod progress;
pub(crate) mod session;
mod sources;
mod steps;

/// Runs a parsed command line: the exit code, after printing a failure (once) on stderr.
pub fn run(cli: args::Cli) -> i32 {
    match commands::run(cli) {
        Ok(code) => code,
        Err(failure) => {
            // Nothing more can be said when stderr is gone too.
            let _ = failure.write_to(&mut std::io::stderr().lock());
            exit::ERROR
        }
    }
}
