//! `convctl drift`: compare live accounts with the manifests without changing anything;
//! exit 0 in sync, 2 drift found (each drifted field shown), 1 error.

use super::plan::{
    compare_accounts, fail, load_manifests, print_doc, print_notes, select, tokens_of,
    with_session_for,
};
use crate::cli::args::{GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::render::Mode;
use std::path::PathBuf;

pub fn run(
    global: &GlobalOptions,
    paths: &[PathBuf],
    format: PlanFormat,
    accounts: &[String],
) -> i32 {
    let Some(manifests) = load_manifests(paths, global) else {
        return exit::ERROR;
    };
    let selected = match select(manifests, accounts, global) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let tokens = match tokens_of(global, &selected) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    with_session_for(global, tokens, async move |session| {
        let Some(comparison) = compare_accounts(session, selected, global, true).await else {
            return exit::ERROR;
        };
        print_notes(&comparison, global);
        if let Err(e) = print_doc(&comparison.doc, format, Mode::Drift, global) {
            return fail(&e);
        }
        if comparison.doc.has_changes() {
            exit::CHANGES
        } else {
            exit::SUCCESS
        }
    })
}
