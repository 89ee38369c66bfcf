//! `convctl apply`: make (or take, with `--plan FILE`) the plan, show it, refuse what safety
//! rules forbid, confirm, execute in phases with progress, print what was done.

use super::plan::{
    compare_accounts, fail, load_manifests, parse_accounts, print_doc, print_notes, select,
    tokens_of, with_session_for, write_stdout,
};
use crate::cli::args::{GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::session::Session;
use crate::cli::session::account_tokens;
use crate::diff::mass_delete;
use crate::plan::{Action, PlanDocument, Summary, live_fingerprint};
use crate::reconcile::LiveApi;
use crate::reconcile::apply::execute;
use crate::render::Mode;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

/// What apply executes: a plan made now from the selected accounts, or a saved one.
enum Source {
    Manifests(Vec<crate::manifest::DesiredAccount>),
    Saved(PlanDocument),
}

pub struct ApplyArgs<'a> {
    pub paths: &'a [PathBuf],
    pub plan: Option<&'a Path>,
    pub auto_approve: bool,
    pub allow_mass_delete: bool,
    pub accounts: &'a [String],
}

pub fn run(global: &GlobalOptions, args: ApplyArgs<'_>) -> i32 {
    // Manifests (or the saved plan) are read before anything touches the network (a typo
    // costs no API call), and so are the accounts' own tokens.
    let source = match args.plan {
        Some(file) => match PlanDocument::load(file) {
            Ok(doc) => Source::Saved(doc),
            Err(e) => return fail(&e.to_string()),
        },
        None => match load_manifests(args.paths, global) {
            Some(m) => match select(m, args.accounts, global) {
                Ok(s) => Source::Manifests(s),
                Err(e) => return fail(&e),
            },
            None => return exit::ERROR,
        },
    };
    let tokens = match &source {
        Source::Manifests(selected) => tokens_of(global, selected),
        Source::Saved(doc) => parse_accounts(args.accounts).and_then(|wanted| {
            account_tokens(
                global,
                doc.accounts
                    .iter()
                    .filter(|a| wanted.is_empty() || wanted.contains(&a.account))
                    .map(|a| (&a.account, a.token_env.as_deref())),
                |name| std::env::var(name).ok(),
            )
        }),
    };
    let tokens = match tokens {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    with_session_for(global, tokens, async move |session| {
        let (doc, active) = match source {
            Source::Saved(doc) => {
                let file = args.plan.expect("a saved plan was given");
                match saved_plan(session, doc, file, args.accounts).await {
                    Ok((doc, active)) => {
                        if !global.quiet {
                            for w in provenance_warnings(&doc, global) {
                                eprintln!("warning: {w}");
                            }
                        }
                        (doc, active)
                    }
                    Err(e) => return fail(&e),
                }
            }
            Source::Manifests(selected) => {
                let Some(comparison) = compare_accounts(session, selected, global, false).await
                else {
                    return exit::ERROR;
                };
                print_notes(&comparison, global);
                let active = (0..comparison.doc.accounts.len())
                    .map(|i| comparison.active_count(i))
                    .collect();
                (comparison.doc, active)
            }
        };

        if let Err(e) = print_doc(&doc, PlanFormat::Text, Mode::Plan, global) {
            return fail(&format!("{e}; nothing was done"));
        }
        if !doc.has_changes() {
            return exit::SUCCESS;
        }
        let refused: Vec<String> = doc
            .accounts
            .iter()
            .zip(&active)
            .filter_map(|(account, live)| mass_delete(account, *live))
            .map(|m| m.to_string())
            .collect();
        if !refused.is_empty() && !args.allow_mass_delete {
            for r in &refused {
                eprintln!("error: {r}");
            }
            return fail(
                "refusing a mass delete; nothing was done. Check the manifests (a missing file or a wrong account?), or pass --allow-mass-delete if you mean it",
            );
        }
        if !args.auto_approve {
            match confirm() {
                Ok(true) => {}
                Ok(false) => return fail("apply cancelled; nothing was done"),
                Err(e) => return fail(&e),
            }
            // Time passed at the prompt: apply only what was approved, on the state it was
            // made from.
            if let Err(problems) = still_true(session, &doc).await {
                for p in &problems {
                    eprintln!("error: {p}");
                }
                return fail(
                    "live state changed while the plan was awaiting approval; nothing was done. Run apply again",
                );
            }
        }

        let writes = count_writes(&doc);
        let bar = progress_bar(writes, global);
        let ticker = bar.clone();
        // The plan is handed over: execute frees what each write no longer needs.
        let report = execute(session, doc, std::sync::Arc::new(move || ticker.inc(1))).await;
        bar.finish_and_clear();
        if let Err(e) = write_stdout(|out| report.render_to(out)) {
            // The writes are done (or not) whatever happens to stdout: say so on stderr.
            fail(&format!(
                "cannot write the apply report to stdout ({e}); {}",
                match report.is_complete() {
                    true => "every action was done",
                    false => "some actions were not done: run `convctl apply` again",
                }
            ));
            return exit::ERROR;
        }
        if report.is_complete() {
            exit::SUCCESS
        } else {
            exit::ERROR
        }
    })
}

/// Loads a saved plan and checks it is still true: every account's live fingerprint must be
/// what it was when the plan was made. Returns the plan and each account's active count.
async fn saved_plan(
    api: &Session,
    mut doc: PlanDocument,
    file: &Path,
    accounts: &[String],
) -> Result<(PlanDocument, Vec<usize>), String> {
    let wanted = parse_accounts(accounts)?;
    if !wanted.is_empty() {
        doc.accounts.retain(|a| wanted.contains(&a.account));
        if doc.accounts.is_empty() {
            return Err(format!(
                "none of the --account values is in the plan {}",
                file.display()
            ));
        }
        doc.summary = Summary::of(&doc.accounts);
    }
    match still_true(api, &doc).await {
        Ok(active) => Ok((doc, active)),
        Err(problems) => Err(format!(
            "the saved plan {} is stale, nothing was done:\n  {}\nmake a new plan (`convctl plan --out {}`) and review it",
            file.display(),
            problems.join("\n  "),
            file.display()
        )),
    }
}

/// Lists the plan's accounts again: `Ok` with each account's active count when every live
/// fingerprint is what the plan was made from, else what changed.
async fn still_true(api: &Session, doc: &PlanDocument) -> Result<Vec<usize>, Vec<String>> {
    let ids: Vec<_> = doc.accounts.iter().map(|a| a.account.clone()).collect();
    let listed = api.list_many(&ids).await;
    let mut problems = Vec::new();
    let mut active = Vec::new();
    for (account, result) in doc.accounts.iter().zip(listed) {
        match result {
            Err(e) => problems.push(format!(
                "{}: cannot list custom conversions: {e}",
                account.account
            )),
            Ok(live) => {
                if live_fingerprint(&live) != account.live_fingerprint {
                    problems.push(format!(
                        "{}: live conversions changed since the plan was made",
                        account.account
                    ));
                } else if let Some(stray) = account
                    .actions
                    .iter()
                    .filter_map(Action::id)
                    .find(|id| !live.iter().any(|c| &c.id == *id))
                {
                    // The fingerprint covers live state, not the file's actions: an edited or
                    // damaged plan could otherwise update or delete another account's conversion.
                    problems.push(format!(
                        "{}: the plan names conversion {stray}, which is not one of this account's conversions (was the file edited?)",
                        account.account
                    ));
                }
                active.push(live.iter().filter(|c| !c.is_archived).count());
            }
        }
    }
    if problems.is_empty() {
        Ok(active)
    } else {
        Err(problems)
    }
}

/// A saved plan made by another convctl or for another API version still executes (its
/// actions are explicit), but the user should know.
fn provenance_warnings(doc: &PlanDocument, global: &GlobalOptions) -> Vec<String> {
    let mut out = Vec::new();
    if doc.api_version != global.api_version {
        out.push(format!(
            "the plan was made against API {} and is applied against {}",
            doc.api_version, global.api_version
        ));
    }
    if doc.convctl_version != env!("CARGO_PKG_VERSION") {
        out.push(format!(
            "the plan was made by convctl {} (this is {})",
            doc.convctl_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    out
}

/// Asks for `yes` on a terminal; without one, `--auto-approve` is required.
fn confirm() -> Result<bool, String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(
            "apply needs --auto-approve when not run from a terminal; nothing was done".into(),
        );
    }
    eprint!(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(line.trim() == "yes")
}

/// Writes the plan makes (a replacement is two).
fn count_writes(doc: &PlanDocument) -> u64 {
    doc.accounts
        .iter()
        .flat_map(|a| &a.actions)
        .map(|a| match a {
            Action::Replace { .. } => 2,
            _ => 1,
        })
        .sum()
}

/// Progress on stderr, only on a terminal and without --quiet (never in pipes or CI logs).
fn progress_bar(total: u64, global: &GlobalOptions) -> indicatif::ProgressBar {
    if global.quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} writes {elapsed}")
    {
        bar.set_style(style);
    }
    bar
}
