//! Commands: thin shells that wire parsed options to library operations and map outcomes to
//! exit codes (spec section 3). Errors go to stderr, results to stdout.

mod test;
mod validate;

use crate::cli::{Cli, Command};
use crate::exit;

pub mod completions;
pub mod emulator;
pub mod man;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Completions { shell } => completions::run(shell, &mut std::io::stdout().lock()),
        Command::Man { out } => man::run(out.as_deref(), &mut std::io::stdout().lock()),
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Test { paths, format } => test::run(&paths, format),
        Command::Emulator(args) => emulator::run(&args),
        Command::Plan { .. }
        | Command::Apply { .. }
        | Command::Drift { .. }
        | Command::Import { .. } => {
            eprintln!("error: not implemented yet");
            exit::ERROR
        }
    }
}
