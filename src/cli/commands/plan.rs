//! `convctl plan`: load manifests, compare with live state, show (and optionally save) the plan.

use crate::cli::args::{GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::output::print_doc;
use crate::cli::steps::{compare_accounts, load_manifests, select, with_session};
use crate::render::Mode;
use std::path::{Path, PathBuf};

pub struct PlanArgs<'a> {
    pub paths: &'a [PathBuf],
    pub accounts: &'a [String],
    pub out: Option<&'a Path>,
    pub format: PlanFormat,
    pub detailed_exitcode: bool,
}

pub fn run(global: &GlobalOptions, args: PlanArgs<'_>) -> Outcome {
    let manifests = load_manifests(args.paths, global)?;
    let selected = select(manifests, args.accounts, global)?;
    with_session(global, async move |session| {
        let comparison = compare_accounts(session, selected, global, false).await?;
        let doc = &comparison.doc;
        print_doc(doc, args.format, Mode::Plan, global)?;
        if let Some(out) = args.out {
            doc.save(out).map_err(Failure::new)?;
            if !global.quiet {
                eprintln!(
                    "Saved the plan to {0}; `convctl apply --plan {0}` does exactly this.",
                    out.display()
                );
            }
        }
        Ok(if args.detailed_exitcode && doc.has_changes() {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    })
}
