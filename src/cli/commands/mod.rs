//! Commands: thin shells that wire parsed options to library operations and return the exit
//! code, or a [`Failure`](crate::cli::Failure) that `main` prints once (docs/cli.md).
//! Results go to stdout, errors to stderr.

mod apply;
mod drift;
mod import;
mod plan;
mod report;
mod show;
mod test;
mod validate;

use crate::cli::args::{Cli, Command, EventsCommand};
use crate::cli::exit;
use crate::cli::failure::Outcome;

pub(crate) mod completions;
pub(crate) mod emulator;
pub(crate) mod events;
pub(crate) mod man;

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> Outcome {
    if !matches!(
        cli.command,
        Command::Emulator(_) | Command::Completions { .. } | Command::Man { .. }
    ) {
        // The emulator runs until stopped; completions and man print what they hold.
        cli.global.clock.watch_inputs(cli.global.timeout);
        crate::cli::inputs::refuse_outputs_over_inputs(&cli)?;
    }
    match cli.command {
        Command::Completions { shell } => completions::run(shell, &mut std::io::stdout().lock()),
        Command::Man { out } => man::run(out.as_deref(), &mut std::io::stdout().lock()),
        Command::Validate { paths, format } => validate::run(&paths, format),
        Command::Test {
            paths,
            format,
            live,
        } => match test::run(&paths, format)? {
            exit::SUCCESS if live.live => events::test_live(&cli.global, &paths, format, &live),
            code => Ok(code),
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
            report,
        } => plan::run(
            &cli.global,
            plan::PlanArgs {
                paths: &paths,
                accounts: &accounts,
                out: out.as_deref(),
                format,
                detailed_exitcode,
                report: &report,
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
            report,
        } => drift::run(&cli.global, &paths, format, &accounts, &report),
        Command::Report(args) => report::run(&cli.global, &args),
        Command::Import {
            accounts,
            out,
            use_set,
            from,
        } => {
            let from = from.unwrap_or_else(|| "conversions".into());
            let use_set_from = use_set.as_deref().map(|set| (set, from.as_path()));
            import::run(&cli.global, &accounts, &out, use_set_from)
        }
        Command::Show {
            plans,
            format,
            bound,
        } => show::run(&cli.global, &plans, format, &bound),
        Command::Emulator(args) => emulator::run(&args),
    }
}
