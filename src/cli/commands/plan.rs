//! `convctl plan`: load manifests, compare with live state, show (and optionally save) the plan;
//! or, with `--show FILE`, show a saved plan offline.

use crate::cli::args::{GlobalOptions, PlanFormat, ReportArgs};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::output::{load_shown, markdown_bound, print_report, warn};
use crate::cli::pacing::paced_accounts;
use crate::cli::steps::{
    load_manifests, select, survey_accounts, tokens_of_selected, with_session_for,
};
use crate::render::Mode;
use std::path::{Path, PathBuf};

pub(crate) struct PlanArgs<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) accounts: &'a [String],
    pub(crate) out: Option<&'a Path>,
    pub(crate) format: PlanFormat,
    pub(crate) detailed_exitcode: bool,
    pub(crate) report: &'a ReportArgs,
}

pub(crate) fn run(global: &GlobalOptions, args: PlanArgs<'_>) -> Outcome {
    let bound = markdown_bound(&args.report.bound, args.format)?;
    let exit_code = |changes: bool| {
        if args.detailed_exitcode && changes {
            exit::CHANGES
        } else {
            exit::SUCCESS
        }
    };
    if let Some(file) = &args.report.show {
        if args.out.is_some() {
            return Err(Failure::new(
                "--show shows a saved plan; it cannot be saved again with --out",
            ));
        }
        let doc = load_shown(file)?;
        print_report(&doc, args.format, Mode::Plan, global, bound.as_ref())?;
        return Ok(exit_code(doc.has_changes()));
    }
    if let Some(out) = args.out {
        crate::plan::check_save_target(out)
            .map_err(|e| Failure::new(format!("{e}; nothing was done")))?;
    }
    let manifests = load_manifests(args.paths, global)?;
    let selected = select(manifests, args.accounts, global)?;
    let tokens = tokens_of_selected(global, &selected)?;
    with_session_for(global, tokens, async move |session| {
        let mut survey = survey_accounts(session, selected, global, false).await?;
        for paced in paced_accounts(session, &survey.doc) {
            let notice = paced.notice();
            warn(global, [format!("note: {notice}")]);
            survey.doc.notices.push(notice);
        }
        let doc = &survey.doc;
        print_report(doc, args.format, Mode::Plan, global, bound.as_ref())?;
        if let Some(out) = args.out {
            doc.save(out).map_err(Failure::new)?;
            if !global.quiet {
                eprintln!(
                    "Saved the plan to {0}; `convctl apply --plan {0}` does exactly this.",
                    out.display()
                );
            }
        }
        Ok(exit_code(doc.has_changes()))
    })
}
