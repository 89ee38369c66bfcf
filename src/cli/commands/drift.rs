//! `convctl drift`: compare live accounts with the manifests without changing anything;
//! exit 0 in sync, 2 drift found (each drifted field shown), 1 error.

use crate::cli::args::{GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::failure::Outcome;
use crate::cli::output::print_doc;
use crate::cli::steps::{compare_accounts, load_manifests, select, with_session};
use crate::render::Mode;
use std::path::PathBuf;

pub fn run(
    global: &GlobalOptions,
    paths: &[PathBuf],
    format: PlanFormat,
    accounts: &[String],
) -> Outcome {
    let manifests = load_manifests(paths, global)?;
    let selected = select(manifests, accounts, global)?;
    with_session(global, async move |session| {
        let comparison = compare_accounts(session, selected, global, true).await?;
        print_doc(&comparison.doc, format, Mode::Drift, global)?;
        Ok(if comparison.doc.has_changes() {
            exit::CHANGES
        } else {
            exit::SUCCESS
        })
    })
}
