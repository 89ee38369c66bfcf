//! `convctl show PLAN...`: saved plans rendered as one document, offline (no token, no
//! network): the shards of a CI matrix as one comment, or a saved plan read by a reviewer
//! before `apply --plan`.

use crate::cli::args::{BoundArgs, GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::output::{load_shown, markdown_bound, print_report};
use crate::plan::PlanDocument;
use crate::render::Mode;
use std::path::PathBuf;

pub(crate) fn run(
    global: &GlobalOptions,
    plans: &[PathBuf],
    format: PlanFormat,
    bound: &BoundArgs,
) -> Outcome {
    let bound = markdown_bound(bound, format)?;
    let docs = plans
        .iter()
        .map(|file| Ok((file.clone(), load_shown(file)?)))
        .collect::<Result<Vec<_>, Failure>>()?;
    let doc = PlanDocument::combine(docs)
        .map_err(|e| Failure::new(e.to_string()))?
        .unwrap_or_else(|| PlanDocument::new(&global.api_version, Vec::new()));
    print_report(&doc, format, Mode::Plan, global, bound.as_ref())?;
    Ok(exit::SUCCESS)
}
