//! The convctl binary: parse the command line, run it, map the outcome to an exit code.

use clap::Parser;

fn main() {
    let cli = convctl::cli::Cli::parse();
    std::process::exit(convctl::commands::run(cli));
}
