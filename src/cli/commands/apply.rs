//! `convctl apply`: make (or take, with `--plan FILE`) the plan, show it, refuse what safety
//! rules forbid, confirm, execute in phases with progress, print what was done.

use crate::cli::args::{GlobalOptions, PlanFormat};
use crate::cli::exit;
use crate::cli::failure::{Failure, Outcome};
use crate::cli::output::{color_stdout, print_doc, stdout_above_bar, warn, write_stdout};
use crate::cli::pacing::{paced_accounts, refuse_beyond_timeout};
use crate::cli::progress::WriteProgress;
use crate::cli::steps::{
    load_manifests, parse_accounts, select, survey_accounts, tokens_of, tokens_of_selected,
    with_session_for,
};
use crate::diff::mass_delete;
use crate::manifest::DesiredAccount;
use crate::model::names::escaped;
use crate::plan::{PlanDocument, Summary};
use crate::reconcile::LiveApi;
use crate::reconcile::apply::{ApplyReport, execute_streamed, render_lines_to};
use crate::reconcile::staleness::{RefusalKind, still_true};
use crate::reconcile::verify::{self, Expectations, verify};
use crate::render::Mode;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

pub(crate) struct ApplyArgs<'a> {
    pub(crate) paths: &'a [PathBuf],
    pub(crate) plan: Option<&'a Path>,
    pub(crate) auto_approve: bool,
    pub(crate) allow_mass_delete: bool,
    pub(crate) accounts: &'a [String],
}

/// What apply executes: a plan made now from the selected accounts, or a saved one.
enum Source {
    Manifests(Vec<DesiredAccount>),
    Saved(PlanDocument),
}

pub(crate) fn run(global: &GlobalOptions, args: ApplyArgs<'_>) -> Outcome {
    // Manifests (or the saved plan) are read before anything touches the network (a typo
    // costs no API call), and so are the accounts' own tokens.
    let source = match args.plan {
        Some(file) => Source::Saved(select_saved(
            PlanDocument::load(file).map_err(Failure::new)?,
            file,
            args.accounts,
            global,
        )?),
        None => Source::Manifests(select(
            load_manifests(args.paths, global)?,
            args.accounts,
            global,
        )?),
    };
    let tokens = match &source {
        Source::Manifests(selected) => tokens_of_selected(global, selected)?,
        Source::Saved(doc) => tokens_of(
            global,
            doc.accounts
                .iter()
                .map(|a| (&a.account, a.token_env.as_deref())),
        )?,
    };
    with_session_for(global, tokens, async move |session| {
        let (doc, active) = match source {
            Source::Saved(doc) => {
                let file = args.plan.expect("a saved plan was given");
                let (doc, active) = saved_plan(session, doc, file).await?;
                warn(
                    global,
                    provenance_warnings(&doc, global)
                        .iter()
                        .map(|w| format!("warning: {w}")),
                );
                (doc, active)
            }
            Source::Manifests(selected) => {
                let survey = survey_accounts(session, selected, global, false).await?;
                let active = (0..survey.doc.accounts.len())
                    .map(|i| survey.active_count(i))
                    .collect();
                (survey.doc, active)
            }
        };

        print_plan_to_review(&doc, args.plan, global)
            .map_err(|e| e.and(Failure::new("nothing was done")))?;
        if !doc.has_changes() {
            return Ok(exit::SUCCESS);
        }
        let paced = paced_accounts(session, &doc);
        warn(
            global,
            paced.iter().map(|p| format!("note: {}", p.notice())),
        );
        refuse_mass_delete(&doc, &active, args.allow_mass_delete)?;
        refuse_beyond_timeout(session, &paced, !args.auto_approve)?;
        if !args.auto_approve {
            if !confirm()? {
                return Err(Failure::new("apply cancelled; nothing was done"));
            }
            // --timeout is the API's time, not the person's at the prompt.
            session.budget().restart();
            // Time passed at the prompt: apply only what was approved, on the state it was
            // made from.
            still_true(session, &doc).await.map_err(|refusal| {
                Failure::with_details(
                    refusal.problems.iter().map(|p| format!("error: {p}")).collect(),
                    "live state changed while the plan was awaiting approval; nothing was done. Run apply again",
                )
            })?;
        }
        // From here a signal stops the apply with a report instead of ending the process.
        crate::cli::interrupt::halt_on_signal(session.halt().clone())?;
        execute_and_report(session, doc, global).await
    })
}

/// The plan before the prompt: whole, unless it is longer than the terminal it is shown on;
/// then grouped (every change named on one line, no diffs), with the command that shows it
/// whole.
fn print_plan_to_review(
    doc: &PlanDocument,
    saved: Option<&Path>,
    global: &GlobalOptions,
) -> Result<(), Failure> {
    let Some(rows) = screen_rows() else {
        return print_doc(doc, PlanFormat::Text, Mode::Plan, global);
    };
    if !crate::render::grouped::longer_than(doc, Mode::Plan, rows) {
        return print_doc(doc, PlanFormat::Text, Mode::Plan, global);
    }
    let whole = match saved {
        Some(file) => format!(
            "To see every diff: `convctl show {}` (or answer no).",
            file.display()
        ),
        None => "To see every diff: `convctl plan` (or `convctl plan --out plan.json`, then `convctl show plan.json` and `convctl apply --plan plan.json`).".to_string(),
    };
    let opts = crate::render::RenderOptions {
        mode: Mode::Plan,
        color: color_stdout(global),
    };
    write_stdout(|out| crate::render::grouped::render_to(out, doc, opts, &whole))
        .map_err(|e| Failure::new(format!("cannot write the plan to stdout: {e}")))
}

/// The terminal's height when stdout is one (`None` in pipes and logs, which get the whole
/// plan, and on a terminal that reports no size).
fn screen_rows() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    console::Term::stdout()
        .size_checked()
        .map(|(rows, _)| usize::from(rows))
}

/// The mass-delete guard (docs/reconcile.md): refused unless `--allow-mass-delete`.
fn refuse_mass_delete(doc: &PlanDocument, active: &[usize], allowed: bool) -> Result<(), Failure> {
    let refused: Vec<String> = doc
        .accounts
        .iter()
        .zip(active)
        .filter_map(|(account, live)| mass_delete(account, *live))
        .map(|m| format!("error: {m}"))
        .collect();
    if refused.is_empty() || allowed {
        return Ok(());
    }
    Err(Failure::with_details(
        refused,
        "refusing a mass delete; nothing was done. Check the manifests (a missing file or a wrong account?), or pass --allow-mass-delete if you mean it",
    ))
}

/// Executes the plan with progress, prints what was done (each account as soon as it is
/// settled), then checks what the API stored; exit 1 unless all of it was done as sent.
async fn execute_and_report(
    api: &impl LiveApi,
    doc: PlanDocument,
    global: &GlobalOptions,
) -> Outcome {
    let pauses = api.pauses_source();
    let progress = WriteProgress::start(count_writes(&doc), global, move || pauses());
    // What each action sends, for the check after the writes (docs/cli.md).
    let expected = Expectations::of(&doc);
    // The plan is handed over: execute frees what each write no longer needs.
    // A conversion retired because Meta refused to delete it is named with the day (UTC).
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    // Each account's lines as soon as it is settled, above the bar; the last line at the end.
    let mut unwritten: Option<std::io::Error> = None;
    let report = execute_streamed(api, doc, progress.ticker(), today, |actions| {
        if unwritten.is_none()
            && let Err(e) = stdout_above_bar(|out| render_lines_to(out, actions))
        {
            unwritten = Some(e);
        }
    })
    .await;
    progress.finish();
    let written = match unwritten {
        Some(e) => Err(e),
        None => write_stdout(|out| report.render_summary_to(out)),
    };
    if let Err(e) = written {
        // The writes are done (or not) whatever happens to stdout: say so on stderr.
        return Err(Failure::new(format!(
            "cannot write the apply report to stdout ({e}); {}",
            match report.is_complete() {
                true => "every action was done",
                false => "some actions were not done: run `convctl apply` again",
            }
        )));
    }
    warn(
        global,
        report
            .refused_deletes_warning()
            .map(|w| format!("warning: {w}")),
    );
    if report.stopped {
        return Err(Failure::new(
            "apply was stopped by a signal before it finished; the report above says what was and was not done. Run `convctl apply` again to finish",
        ));
    }
    check_stored(api, &expected, &report).await?;
    if report.is_complete() {
        Ok(exit::SUCCESS)
    } else {
        // The report on stdout says what failed and what to do.
        Err(Failure::quiet())
    }
}

/// Re-reads the accounts the apply wrote and reports, per conversion and field, anything the
/// API stored differently from what was sent ("inconsistent result after apply"). A check that
/// could not be made is a warning.
async fn check_stored(
    api: &impl LiveApi,
    expected: &Expectations,
    report: &ApplyReport,
) -> Result<(), Failure> {
    match verify(api, expected, report).await {
        Ok(found) if found.is_empty() => Ok(()),
        Ok(found) => Err(Failure::with_details(
            found
                .iter()
                .map(|i| format!("error: inconsistent result after apply: {i}"))
                .collect(),
            format!(
                "inconsistent result after apply: {} field(s) stored differently from what was sent",
                found.len(),
            ),
        )
        .with_help(verify::HINT)),
        Err(e) => {
            eprintln!(
                "warning: {e}; run `convctl plan` to check that the accounts are as declared"
            );
            Ok(())
        }
    }
}

/// The accounts of a saved plan to apply: with `--account` and `--shard`, only theirs (each
/// `--account` must be in the plan; a plan holding none of the selected accounts, such as
/// another shard's plan, is refused), and a note says how many of the plan's accounts are
/// left to their own runs. Checked before anything reaches the network.
fn select_saved(
    mut doc: PlanDocument,
    file: &Path,
    accounts: &[String],
    global: &GlobalOptions,
) -> Result<PlanDocument, Failure> {
    let wanted = parse_accounts(accounts)?;
    let held = |doc: &PlanDocument| {
        doc.accounts
            .iter()
            .map(|a| a.account.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !doc.accounts.iter().any(|a| &a.account == *w))
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(Failure::new(format!(
            "--account {} is not in the saved plan {} (it holds {}); nothing was done",
            missing.join(", "),
            escaped(&file.display().to_string()),
            held(&doc)
        )));
    }
    let total = doc.accounts.len();
    let selection = match (wanted.is_empty(), global.shard) {
        (true, None) => return Ok(doc),
        (false, None) => "--account".to_string(),
        (true, Some(shard)) => format!("shard {shard}"),
        (false, Some(shard)) => format!("--account and shard {shard}"),
    };
    let all = held(&doc);
    doc.accounts.retain(|a| {
        (wanted.is_empty() || wanted.contains(&a.account))
            && global.shard.is_none_or(|s| s.contains(&a.account))
    });
    if doc.accounts.is_empty() {
        return Err(Failure::new(format!(
            "none of the {total} account(s) of the saved plan {} is in {selection} (it holds {all}): is it the plan of another shard? nothing was done",
            escaped(&file.display().to_string())
        )));
    }
    if doc.accounts.len() < total {
        warn(
            global,
            [format!(
                "note: applying {} of the plan's {total} accounts ({selection}); the other {} are left to their own runs",
                doc.accounts.len(),
                total - doc.accounts.len()
            )],
        );
    }
    doc.summary = Summary::of(&doc.accounts);
    Ok(doc)
}

/// Checks a saved plan is still true (see [`still_true`]): returns it with each account's
/// active count, or refuses it, nothing done.
async fn saved_plan(
    api: &impl LiveApi,
    doc: PlanDocument,
    file: &Path,
) -> Result<(PlanDocument, Vec<usize>), Failure> {
    let shown = escaped(&file.display().to_string()).into_owned();
    match still_true(api, &doc).await {
        Ok(active) => Ok((doc, active)),
        Err(refusal) => Err(Failure::new(format!(
            "the saved plan {shown} {}, nothing was done:\n  {}\nmake a new plan (`convctl plan --out {shown}`) and review it",
            match refusal.kind {
                RefusalKind::Older => "was made by an older convctl",
                RefusalKind::Edited => "does not match the live conversions it names (edited?)",
                RefusalKind::Stale => "is stale",
            },
            refusal.problems.join("\n  "),
        ))),
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
fn confirm() -> Result<bool, Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(
            "apply needs --auto-approve when not run from a terminal; nothing was done",
        ));
    }
    eprint!(
        "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(line.trim() == "yes")
}

/// Writes the plan makes (a replacement is two).
fn count_writes(doc: &PlanDocument) -> u64 {
    doc.accounts.iter().map(|a| a.writes() as u64).sum()
}
