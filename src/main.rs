//! The convctl binary: parse the command line, run it, map the outcome to an exit code.
//!
//! A usage error exits 1, not clap's default 2: pipelines read 2 as "changes present"
//! (`drift`, `plan --detailed-exitcode`), so a mistyped option must never look like drift.

use clap::Parser;

fn main() {
    let cli = match convctl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            std::process::exit(if error.use_stderr() {
                convctl::exit::ERROR
            } else {
                convctl::exit::SUCCESS // --help, --version
            });
        }
    };
    std::process::exit(convctl::commands::run(cli));
}
