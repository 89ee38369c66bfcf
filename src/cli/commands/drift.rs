//! `convctl drift`: compare live accounts with the manifests without changing anything;
//! exit 0 in sync, 2 drift found (each drifted field shown), 1 error. With `--show FILE`, a
//! saved report (`drift --format json`) is shown offline, with the same exit codes.

use crate::cli::args::{GlobalOptions, PlanFormat, ReportArgs};
use crate::cli::exit;
use crate::cli::failure::Outcome;
use crate::cli::output::{load_shown, markdown_bound, print_report};
use crate::cli::steps::{
    load_manifests, select, survey_accounts, tokens_of_selected, with_session_for,
};
use crate::render::Mode;
use std::path::PathBuf;

pub(crate) fn run(
    global: &GlobalOptions,
    paths: &[PathBuf],
    format: PlanFormat,
    accounts: &[String],
    report: &ReportArgs,
) -> Outcome {
    let bound = markdown_bound(&report.bound, format)?;
    let exit_code = |drift: bool| if drift { exit::CHANGES } else { exit::SUCCESS };
    if let Some(file) = &report.show {
        let doc = load_shown(file)?;
        print_report(&doc, format, Mode::Drift, global, bound.as_ref())?;
        return Ok(exit_code(doc.has_changes()));
    }
    let manifests = load_manifests(paths, global)?;
    let selected = select(manifests, accounts, global)?;
    let tokens = tokens_of_selected(global, &selected)?;
    with_session_for(global, tokens, async move |session| {
        let survey = survey_accounts(session, selected, global, true).await?;
        print_report(&survey.doc, format, Mode::Drift, global, bound.as_ref())?;
        Ok(exit_code(survey.doc.has_changes()))
    })
}
