//! Commands: thin shells that wire parsed options to library operations and map outcomes to
//! exit codes (spec section 3). Errors go to stderr, results to stdout.

mod apply;
mod drift;
mod import;
mod plan;
mod test;
mod validate;

use crate::cli::args::{Cli, Command, EventsCommand};
use crate::cli::exit;

pub mod completions;
pub mod emulator;
pub mod events;
pub mod man;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Completions { shell } => completions::run(shell, &mut std::io::stdout().lock()),
        Command::Man { out } => man::run(out.as_deref(), &mut std::io::stdout().lock()),
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Test {
            paths,
            format,
            live,
        } => match test::run(&paths, format) {
            exit::SUCCESS if live.live => events::test_live(&cli.global, &paths, format, &live),
            code => code,
        },
        Command::Events {
            command: EventsCommand::Send(args),
        } => events::send(&cli.global, &args),
        Command::Plan {
            paths,
            accounts,
            out,
            format,
            detailed_exitcode,
        } => plan::run(
            &cli.global,
            plan::PlanArgs {
                paths: &paths,
                accounts: &accounts,
                out: out.as_deref(),
                format,
                detailed_exitcode,
            },
        ),
        Command::Apply {
            paths,
            plan,
            auto_approve,
            allow_mass_delete,
            accounts,
        } => apply::run(
            &cli.global,
            apply::ApplyArgs {
                paths: &paths,
                plan: plan.as_deref(),
                auto_approve,
                allow_mass_delete,
                accounts: &accounts,
            },
        ),
        Command::Drift {
            paths,
            format,
            accounts,
        } => drift::run(&cli.global, &paths, format, &accounts),
        Command::Import {
            accounts,
            out,
            use_set,
            from,
        } => {
            let from = from.unwrap_or_else(|| "conversions".into());
            let fleet = use_set.as_deref().map(|set| (set, from.as_path()));
            import::run(&cli.global, &accounts, &out, fleet)
        }
        Command::Emulator(args) => emulator::run(&args),
    }
}
